import type { Attributes, Context, Span, SpanOptions, Tracer } from "@opentelemetry/api";
import type { Logger } from "pino";
import { ConfigError, shownUrl } from "../config/config.js";

/**
 * OpenTelemetry traces: one span per GraphQL operation, parented on the caller's W3C
 * `traceparent`/`tracestate`, and one per read of Connect as its child. Configured with the standard
 * `OTEL_*` variables (`tracingSettings`), off unless they name an exporter or an OTLP endpoint.
 *
 * **Off and free.** With tracing off `startTracing` resolves `undefined` having loaded no
 * OpenTelemetry module (this file imports only types; the SDK, the exporters and even
 * `@opentelemetry/api` are loaded by `startTracing` when tracing is on): no provider, no exporter,
 * no timer. The gateway then registers no tracing plugin, `OperationScope.trace` stays
 * `undefined`, and what remains per request is one property check per upstream call and per
 * contact, queue or user read (`options.operation?.trace`). Measured on the warmest path, a
 * contact read the in-process cache answers (1,000,000 reads, best of 7, each variant in its own
 * process, shared 2-core machine): 254–288 ns a read with the check, 254–300 ns in the code as it
 * was before tracing, i.e. within noise. One form of it was not free: a loader closure hoisted
 * into a `const` shared by the traced and untraced branches made the same read 750–840 ns, so
 * the untraced branch keeps the read's original single expression.
 *
 * **No context manager.** The per-request state travels in the `OperationScope` passed with every
 * read (src/upstream/operationScope.ts): each span is started with its parent's context given
 * explicitly, and nothing here installs a context manager. `AsyncLocalStorage`'s promise hooks
 * cost 17% of a cached query's CPU on Node 20 (bench/README.md, finding 2), and OpenTelemetry's
 * GraphQL auto-instrumentation (a span per resolved field) is not used either.
 *
 * **Packages.** `@opentelemetry/sdk-trace` (the trace SDK whose `TracerProvider` and
 * `BatchSpanProcessor` read no environment variable; `sdk-trace-base` wraps them with fallbacks on
 * `process.env`, `sdk-trace-node` adds the AsyncLocalStorage context manager, and `sdk-node` needs
 * Node 22 in its current line and reads `process.env` itself), the OTLP/HTTP exporters (JSON and
 * protobuf), `@opentelemetry/resources` and `@opentelemetry/core`'s W3C trace-context propagator,
 * all of the 2.x line, which supports Node 20. Settings are read here from the `env` passed in, so
 * tests configure tracing exactly as `main.ts` does without touching `process.env`; the exporter
 * still reads its TLS files (`OTEL_EXPORTER_OTLP_CERTIFICATE`, …) from `process.env` itself.
 */

/** The `OTEL_*` variables, as `process.env` holds them. */
export type TracingEnv = Readonly<Record<string, string | undefined>>;

/** The tracing configuration read from the `OTEL_*` variables. */
export interface TracingSettings {
  /** `otlp` (the OTLP/HTTP exporter) and/or `console` (spans printed to stdout, for debugging). */
  readonly exporters: ReadonlyArray<"otlp" | "console">;
  readonly protocol: "http/protobuf" | "http/json";
  /** Where OTLP spans are POSTed: `…/v1/traces`. */
  readonly url: string;
  /** Extra request headers of the exporter (a collector's credentials): never logged. */
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMillis: number | undefined;
  readonly compression: "gzip" | "none" | undefined;
  /** The resource: `service.name` (default `connect-graphql`) and `OTEL_RESOURCE_ATTRIBUTES`. */
  readonly resource: Readonly<Record<string, string>>;
  readonly sampler: { readonly name: SamplerName; readonly ratio: number };
  readonly batch: {
    readonly scheduledDelayMillis?: number;
    readonly exportTimeoutMillis?: number;
    readonly maxQueueSize?: number;
    readonly maxExportBatchSize?: number;
  };
}

type SamplerName = "always_on" | "always_off" | "traceidratio" | "parentbased_always_on" | "parentbased_always_off" | "parentbased_traceidratio";

/** The running trace pipeline (`startTracing`). */
export interface Tracing {
  /** What is exported where, for the start-up log line (no headers). */
  readonly description: string;
  /**
   * Starts the span of one GraphQL operation, a child of the caller's span when `headers` carry a
   * valid `traceparent` (and its `tracestate`), else the root of a new trace.
   */
  startOperation(headers: HeaderSource | undefined): OperationSpan;
  /** Exports every ended span now. */
  forceFlush(): Promise<void>;
  /** Exports what is pending and stops: spans ended later are dropped. */
  shutdown(): Promise<void>;
}

/** Request headers by lower-case name (Apollo's `HeaderMap`, a `Map`). */
export interface HeaderSource {
  get(name: string): string | undefined;
}

/** One operation's span, open. */
export interface OperationSpan {
  /** What its reads carry (`OperationScope.trace`) so their spans are its children. */
  readonly trace: OperationTrace;
  end(facts: OperationFacts): void;
}

/** What the operation span records when the response is sent. */
export interface OperationFacts {
  /** The operation's name as the client sent it; recorded only when it is a GraphQL name. */
  readonly name: string | null;
  readonly type: string | null;
  readonly outcome: "ok" | "partial" | "error";
  /** The distinct `extensions.code`s of the response's errors. */
  readonly errorCodes: readonly string[];
  /** Requests that reached Connect, retries included (the log line's `upstreamCalls`). */
  readonly upstreamCalls: number;
  /** Answered from the response cache without executing (`gateway.response_cache: "hit"`). */
  readonly responseCacheHit?: boolean;
}

/**
 * The operation's side of its reads' spans, carried explicitly by `OperationScope.trace`. Only
 * ever set while tracing is on: code below checks `operation?.trace` and does nothing else when it
 * is unset.
 */
export interface OperationTrace {
  /** Starts the span of one call to Connect (`MeteredUpstream`), the operation span's child. */
  startCall(api: string, target: UpstreamTarget): UpstreamCallSpan;
  /**
   * Records a read answered without a call of this operation's own: from the cache (in process or
   * Redis), or by sharing a call another request already had in flight. `startedAt` is
   * `performance.now()` when the read began; `outcome` `ok`, or the cached answer's (`not_found`).
   */
  recordCachedRead(api: string, target: UpstreamTarget, startedAt: number, outcome: string): void;
}

/** Where a read goes: its region and instance. Contact, queue and user ids are deliberately absent. */
export interface UpstreamTarget {
  readonly region: string;
  readonly instanceId?: string | undefined;
}

/** One call's span, open. */
export interface UpstreamCallSpan {
  end(result: UpstreamCallResult): void;
}

export interface UpstreamCallResult {
  /** The metrics' outcome label (`ok`, `not_found`, `throttled`, …). */
  readonly outcome: string;
  /** Requests sent to Connect, retries included; 0 when the quota wait was refused before sending. */
  readonly attempts: number;
  /** Time spent waiting for the API's quota before the attempts, ms. */
  readonly quotaWaitMs: number;
  /** What the call failed with. Only its class name is recorded (`error.type`), never its message. */
  readonly error?: unknown;
}

/**
 * A read through a cache, traced: `read` is the cache's read with `load` as its loader. When the
 * cache answers without calling `load` (a hit, or a load of another request shared), the read is
 * recorded as a cached-read span; when it calls `load`, the call's own span (made by
 * `MeteredUpstream`) stands for it, so each read appears once.
 */
export async function traceCachedRead<T>(
  trace: OperationTrace,
  api: string,
  target: UpstreamTarget,
  read: (load: () => Promise<T>) => Promise<T>,
  load: () => Promise<T>,
): Promise<T> {
  const startedAt = performance.now();
  let loaded = false;
  let outcome = "ok";
  try {
    return await read(() => {
      loaded = true;
      return load();
    });
  } catch (error) {
    outcome = isNotFound(error) ? "not_found" : "error";
    throw error;
  } finally {
    if (!loaded) trace.recordCachedRead(api, target, startedAt, outcome);
  }
}

/**
 * The tracing configuration in `env`, or `undefined` when tracing is off: `OTEL_SDK_DISABLED=true`,
 * `OTEL_TRACES_EXPORTER=none`, or neither an exporter (`OTEL_TRACES_EXPORTER`) nor an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set. (The specification's
 * default exporter is `otlp` to `localhost:4318`; the gateway exports only when told where, so a
 * deployment without a collector does not try to send spans every few seconds.) Throws
 * `ConfigError` naming the first bad variable, including `grpc` as the protocol, which this build
 * does not ship (use `http/protobuf`, the collector's port 4318).
 */
export function tracingSettings(env: TracingEnv): TracingSettings | undefined {
  if (value(env, "OTEL_SDK_DISABLED")?.toLowerCase() === "true") return undefined;
  const named = value(env, "OTEL_TRACES_EXPORTER");
  let exporters: Array<"otlp" | "console">;
  if (named === undefined) {
    const endpointSet = value(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ?? value(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
    if (endpointSet === undefined) return undefined;
    exporters = ["otlp"];
  } else {
    const names = [...new Set(named.split(",").map((n) => n.trim().toLowerCase()).filter(Boolean))];
    for (const n of names) {
      if (n !== "otlp" && n !== "console" && n !== "none") bad("OTEL_TRACES_EXPORTER", named, "expected otlp, console or none (zipkin and jaeger are not shipped; send OTLP through a collector)");
    }
    exporters = names.filter((n): n is "otlp" | "console" => n !== "none");
    if (exporters.length === 0) return undefined;
  }

  const protocolVar = value(env, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") !== undefined ? "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL" : "OTEL_EXPORTER_OTLP_PROTOCOL";
  const protocol = value(env, protocolVar) ?? "http/protobuf";
  if (exporters.includes("otlp")) {
    if (protocol === "grpc") {
      throw new ConfigError(
        `Unsupported setting ${protocolVar}="grpc": this build of connect-graphql exports OTLP over HTTP only; set http/protobuf (the collector's port 4318) or http/json.`,
      );
    }
    if (protocol !== "http/protobuf" && protocol !== "http/json") bad(protocolVar, protocol, "expected http/protobuf or http/json");
  }

  return {
    exporters,
    protocol: protocol as TracingSettings["protocol"],
    url: tracesUrl(env),
    headers: {
      ...keyValues(env, "OTEL_EXPORTER_OTLP_HEADERS", false),
      ...keyValues(env, "OTEL_EXPORTER_OTLP_TRACES_HEADERS", false),
    },
    timeoutMillis: int(env, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", 1) ?? int(env, "OTEL_EXPORTER_OTLP_TIMEOUT", 1),
    compression: compression(env, "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION") ?? compression(env, "OTEL_EXPORTER_OTLP_COMPRESSION"),
    resource: resourceAttributes(env),
    sampler: sampler(env),
    batch: {
      ...optional("scheduledDelayMillis", int(env, "OTEL_BSP_SCHEDULE_DELAY", 0)),
      ...optional("exportTimeoutMillis", int(env, "OTEL_BSP_EXPORT_TIMEOUT", 1)),
      ...optional("maxQueueSize", int(env, "OTEL_BSP_MAX_QUEUE_SIZE", 1)),
      ...optional("maxExportBatchSize", int(env, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 1)),
    },
  };
}

export interface StartTracingOptions {
  /** Where the SDK's own warnings go (a failed export, a full queue). Unset: nowhere. */
  logger?: Pick<Logger, "warn"> | undefined;
}

/**
 * Starts exporting traces as `env`'s `OTEL_*` variables say (`tracingSettings`), or resolves
 * `undefined`, loading nothing, when they leave tracing off. Nothing is registered globally (no
 * global tracer provider, propagator or context manager): the gateway gets the returned `Tracing`.
 * With a `logger`, the SDK's warnings and export errors are logged through it (the API's `diag`
 * logger, the one global this sets). Throws `ConfigError` for a bad variable.
 */
export async function startTracing(env: TracingEnv, options: StartTracingOptions = {}): Promise<Tracing | undefined> {
  const settings = tracingSettings(env);
  if (!settings) return undefined;
  const [api, core, sdk, resources] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/core"),
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/resources"),
  ]);
  const { logger } = options;
  if (logger) {
    const warn = (message: string, ...args: unknown[]) => logger.warn({ otel: args.map(String).join(" ").slice(0, 500) || undefined }, `opentelemetry: ${message}`);
    api.diag.setLogger({ error: warn, warn, info: () => {}, debug: () => {}, verbose: () => {} }, api.DiagLogLevel.WARN);
  }

  const processors = [];
  const described: string[] = [];
  for (const name of settings.exporters) {
    let exporter: import("@opentelemetry/sdk-trace").SpanExporter;
    if (name === "console") {
      exporter = new sdk.ConsoleSpanExporter();
      described.push("console");
    } else {
      const config = {
        url: settings.url,
        headers: { ...settings.headers },
        ...(settings.timeoutMillis !== undefined && { timeoutMillis: settings.timeoutMillis }),
        ...(settings.compression !== undefined && { compression: settings.compression as never }),
      };
      const module = settings.protocol === "http/json" ? await import("@opentelemetry/exporter-trace-otlp-http") : await import("@opentelemetry/exporter-trace-otlp-proto");
      exporter = new module.OTLPTraceExporter(config);
      described.push(`otlp ${settings.protocol} ${shownUrl(settings.url)}`);
    }
    processors.push(new sdk.BatchSpanProcessor({ exporter, ...settings.batch }));
  }
  const ratio = new sdk.TraceIdRatioBasedSampler(settings.sampler.ratio);
  const samplers = {
    always_on: () => new sdk.AlwaysOnSampler(),
    always_off: () => new sdk.AlwaysOffSampler(),
    traceidratio: () => ratio,
    parentbased_always_on: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOnSampler() }),
    parentbased_always_off: () => new sdk.ParentBasedSampler({ root: new sdk.AlwaysOffSampler() }),
    parentbased_traceidratio: () => new sdk.ParentBasedSampler({ root: ratio }),
  } satisfies Record<SamplerName, () => unknown>;
  const provider = new sdk.TracerProvider({
    resource: resources.defaultResource().merge(resources.resourceFromAttributes(settings.resource)),
    sampler: samplers[settings.sampler.name](),
    spanProcessors: processors,
  });
  const tracer = provider.getTracer("connect-graphql");
  const propagator = new core.W3CTraceContextPropagator();
  const getter = {
    get: (carrier: HeaderSource, key: string) => carrier.get(key),
    keys: () => ["traceparent", "tracestate"],
  };
  const { SpanKind, SpanStatusCode, ROOT_CONTEXT } = api;

  return {
    description: `${described.join(", ")}; sampler ${settings.sampler.name}; service.name ${settings.resource["service.name"]}`,
    startOperation(headers) {
      const parent = headers ? propagator.extract(ROOT_CONTEXT, headers, getter) : ROOT_CONTEXT;
      const span = tracer.startSpan("GraphQL operation", { kind: SpanKind.SERVER }, parent);
      const context = api.trace.setSpan(parent, span);
      return {
        trace: operationTrace(api, tracer, context),
        end(facts) {
          // A span the sampler dropped records nothing: no attribute work for it.
          if (span.isRecording()) {
            const name = facts.name !== null && GRAPHQL_NAME.test(facts.name) ? facts.name : undefined;
            span.updateName([facts.type ?? "operation", name].filter(Boolean).join(" "));
            span.setAttributes({
              ...(name !== undefined && { "graphql.operation.name": name }),
              ...(facts.type !== null && { "graphql.operation.type": facts.type }),
              "gateway.outcome": facts.outcome,
              "gateway.upstream_calls": facts.upstreamCalls,
              ...(facts.errorCodes.length > 0 && { "gateway.error_codes": [...facts.errorCodes] }),
              ...(facts.responseCacheHit && { "gateway.response_cache": "hit" }),
            });
            if (facts.outcome === "error") span.setStatus({ code: SpanStatusCode.ERROR });
          }
          span.end();
        },
      };
    },
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

// Private: the reads' side of one operation's span: each read's span is started with the
// operation span's context given explicitly.
function operationTrace(api: OtelApi, tracer: Tracer, context: Context): OperationTrace {
  return {
    startCall(apiName, target) {
      const options: SpanOptions = {
        kind: api.SpanKind.CLIENT,
        attributes: { "rpc.system": "aws-api", "rpc.service": "Connect", ...readAttributes(apiName, target), "connect.cache.hit": false },
      };
      const span = tracer.startSpan(`Connect.${apiName}`, options, context);
      return { end: (result) => endCall(api, span, result) };
    },
    recordCachedRead(apiName, target, startedAt, outcome) {
      const attributes: Attributes = { ...readAttributes(apiName, target), "connect.cache.hit": true, "connect.outcome": outcome };
      // Both ends on performance.now(), so the span's start and end come from one clock.
      tracer.startSpan(`Connect.${apiName}`, { kind: api.SpanKind.INTERNAL, startTime: startedAt, attributes }, context).end(performance.now());
    },
  };
}

type OtelApi = typeof import("@opentelemetry/api");

/** A GraphQL name: what a client-chosen operation name must be to be recorded. */
const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

// Private: what every read's span says: the API, the region and the instance. The contact, queue
// or user id is left out on purpose: the instance and the API locate a latency or quota problem,
// while an id ties the trace (often kept longer and read more widely than Connect's own data) to
// one customer's interaction.
function readAttributes(api: string, target: UpstreamTarget): Attributes {
  return {
    "rpc.method": api,
    "cloud.region": target.region,
    ...(target.instanceId !== undefined && { "connect.instance.id": target.instanceId }),
  };
}

// Private: a call's result on its span. The error's message is never recorded (it may quote ids
// or input); its class name is.
function endCall(api: OtelApi, span: Span, result: UpstreamCallResult): void {
  if (span.isRecording()) {
    span.setAttributes({
      "connect.outcome": result.outcome,
      "connect.attempts": result.attempts,
      "connect.quota.wait_ms": Math.round(result.quotaWaitMs * 1000) / 1000,
    });
    if (result.outcome !== "ok") {
      span.setAttribute("error.type", errorType(result.error, result.outcome));
      span.setStatus({ code: api.SpanStatusCode.ERROR });
    }
  }
  span.end();
}

function errorType(error: unknown, outcome: string): string {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === "string" && /^[A-Za-z][A-Za-z0-9_.]{0,63}$/.test(name) ? name : outcome;
}

function isNotFound(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "ResourceNotFoundException";
}

// Private: the settings' parsers. Empty counts as unset, as for the gateway's own settings.

function value(env: TracingEnv, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === "" ? undefined : v;
}

// `url`: the value is a URL, which may hold credentials (user info, a token in its query string):
// quoted without them (`shownUrl`), as the gateway's own URL settings are.
function bad(name: string, raw: string, expected: string, url = false): never {
  throw new ConfigError(`Invalid setting ${name}=${JSON.stringify(url ? shownUrl(raw) : raw)}: ${expected}.`);
}

function int(env: TracingEnv, name: string, min: number): number | undefined {
  const raw = value(env, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) bad(name, raw, `expected a whole number of at least ${min}`);
  return n;
}

function optional<K extends string>(key: K, v: number | undefined): { [P in K]?: number } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: number };
}

function compression(env: TracingEnv, name: string): "gzip" | "none" | undefined {
  const raw = value(env, name);
  if (raw === undefined) return undefined;
  if (raw !== "gzip" && raw !== "none") bad(name, raw, "expected gzip or none");
  return raw;
}

// The traces URL: the signal's endpoint as given, else the base endpoint plus `v1/traces`.
function tracesUrl(env: TracingEnv): string {
  const specific = value(env, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  const base = value(env, "OTEL_EXPORTER_OTLP_ENDPOINT");
  const [name, url] = specific !== undefined
    ? ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", specific]
    : base !== undefined
      ? ["OTEL_EXPORTER_OTLP_ENDPOINT", `${base}${base.endsWith("/") ? "" : "/"}v1/traces`]
      : ["", "http://localhost:4318/v1/traces"];
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) bad(name, specific ?? base ?? url, "expected an http:// or https:// URL", true);
  return url;
}

// `key=value,key=value`, values percent-encoded (the W3C Baggage format the specification uses
// for OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS). Values are not quoted in errors:
// headers hold credentials.
function keyValues(env: TracingEnv, name: string, quote: boolean): Record<string, string> {
  const raw = value(env, name);
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const pair of raw.split(",")) {
    if (pair.trim() === "") continue;
    const eq = pair.indexOf("=");
    const key = eq > 0 ? pair.slice(0, eq).trim() : "";
    let v: string | undefined;
    try {
      v = eq > 0 ? decodeURIComponent(pair.slice(eq + 1).trim()) : undefined;
    } catch {
      v = undefined;
    }
    if (!key || v === undefined) {
      throw new ConfigError(`Invalid setting ${name}${quote ? `=${JSON.stringify(raw)}` : ""}: expected key=value pairs separated by commas, values percent-encoded.`);
    }
    out[key] = v;
  }
  return out;
}

function resourceAttributes(env: TracingEnv): Record<string, string> {
  const attributes = keyValues(env, "OTEL_RESOURCE_ATTRIBUTES", true);
  return { ...attributes, "service.name": value(env, "OTEL_SERVICE_NAME") ?? attributes["service.name"] ?? "connect-graphql" };
}

function sampler(env: TracingEnv): TracingSettings["sampler"] {
  const names: readonly SamplerName[] = ["always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"];
  const raw = value(env, "OTEL_TRACES_SAMPLER") ?? "parentbased_always_on";
  if (!(names as readonly string[]).includes(raw)) bad("OTEL_TRACES_SAMPLER", raw, `expected one of ${names.join(", ")}`);
  const arg = value(env, "OTEL_TRACES_SAMPLER_ARG");
  let ratio = 1;
  if (arg !== undefined && raw.endsWith("traceidratio")) {
    ratio = Number(arg);
    if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) bad("OTEL_TRACES_SAMPLER_ARG", arg, "expected a ratio from 0 to 1");
  }
  return { name: raw as SamplerName, ratio };
}
