import { randomBytes } from "node:crypto";
import { context, createContextKey, ROOT_CONTEXT, trace } from "@opentelemetry/api";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/config.js";
import { DEMO } from "../../src/emulator/dataset.js";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { startTracing, tracingSettings, type Tracing } from "../../src/observability/tracing.js";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../support/otlpReceiver.js";
import { runGateway, spawnGateway } from "../support/processes.js";
import { startStack, type Stack } from "../support/stack.js";

const I = DEMO.instanceId;
/** The gateway's limiter at a rate no test reaches. */
const FAST = { CONNECT_MAX_RPS: "1000", CONNECT_BURST: "1000" };
/** OTLP's span kinds. */
const SERVER = 2;
const CLIENT = 3;
const INTERNAL = 1;

/** A contact's transfer chain and a contact with every join: several distinct contacts, a queue, a user and attributes. */
const CHAIN_AND_JOINS = `
  query ChainAndJoins($i: ID!, $tail: ID!, $full: ID!) {
    chain: contact(instanceId: $i, contactId: $tail) {
      id
      previousContact { id previousContact { id } }
      initialContact { id }
    }
    full: contact(instanceId: $i, contactId: $full) {
      id
      name
      customerEndpoint { address displayName }
      systemEndpoint { address displayName }
      attributes { key value }
      queueInfo { queue { name } }
      agentInfo { agent { username identityInfo { firstName lastName email } } }
    }
  }`;

/** A caller's W3C trace context: a fresh trace id and parent span id, sampled. */
function callerContext() {
  const traceId = randomBytes(16).toString("hex");
  const parentSpanId = randomBytes(8).toString("hex");
  return { traceId, parentSpanId, headers: { traceparent: `00-${traceId}-${parentSpanId}-01`, tracestate: "frontend=t61rcWkgMzE" } };
}

/** The spans of `traceId` once the receiver has `count` of them (after a flush). */
async function exported(receiver: OtlpReceiver, tracing: Tracing, traceId: string, count: number): Promise<ReceivedSpan[]> {
  await tracing.forceFlush();
  const spans = await receiver.waitFor((all) => all.filter((s) => s.traceId === traceId).length >= count);
  return spans.filter((s) => s.traceId === traceId);
}

/** Every string an attribute (of the span or its resource) holds, arrays flattened. */
function attributeStrings(spans: ReceivedSpan[]): string[] {
  return spans.flatMap((s) => [...Object.values(s.attributes), ...Object.values(s.resource)].flat().map(String));
}

describe.each(["http/json", "http/protobuf"] as const)("traces exported over OTLP %s to a real receiver", (protocol) => {
  let receiver: OtlpReceiver;
  let tracing: Tracing;
  let stack: Stack;
  /** What the first spec's response said of the full contact: values the gateway did read. */
  let served: unknown;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    // Set up as main.ts does, from an environment of standard OTEL_* variables (not process.env).
    tracing = (await startTracing({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: protocol,
      OTEL_SERVICE_NAME: "connect-graphql-spec",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment.name=spec",
      OTEL_BSP_SCHEDULE_DELAY: "50",
    }))!;
    stack = await startStack({ env: FAST, gateway: { tracing } });
  });
  afterAll(async () => {
    await stack?.close();
    await tracing?.shutdown();
    await receiver?.close();
  });

  it("makes one operation span parented on the caller's traceparent, and one DescribeContact span per distinct contact as its child", async () => {
    const caller = callerContext();
    stack.resetCalls();
    const { body } = await stack.query(CHAIN_AND_JOINS, { i: I, tail: DEMO.longChainTailId, full: DEMO.fullContactId }, caller.headers);
    expect(body.errors).toBeUndefined();
    const upstreamCalls = stack.emulator.calls.byApi;
    const total = Object.values(upstreamCalls).reduce((a, b) => a + b, 0);
    const spans = await exported(receiver, tracing, caller.traceId, 1 + total);
    expect(spans).toHaveLength(1 + total);

    const operations = spans.filter((s) => s.kind === SERVER);
    expect(operations).toHaveLength(1);
    const operation = operations[0]!;
    expect(operation.parentSpanId).toBe(caller.parentSpanId);
    expect(operation.traceState).toBe("frontend=t61rcWkgMzE");
    expect(operation.name).toBe("query ChainAndJoins");
    expect(operation.attributes).toEqual({
      "graphql.operation.name": "ChainAndJoins",
      "graphql.operation.type": "query",
      "gateway.outcome": "ok",
      "gateway.upstream_calls": total,
    });
    expect(operation.resource).toMatchObject({ "service.name": "connect-graphql-spec", "deployment.environment.name": "spec" });

    const { chain, full } = body.data;
    served = full;
    const contactIds = new Set([chain.id, chain.previousContact.id, chain.previousContact.previousContact.id, chain.initialContact.id, full.id]);
    const describeContact = spans.filter((s) => s.attributes["rpc.method"] === "DescribeContact");
    expect(describeContact).toHaveLength(contactIds.size);
    expect(stack.describeContactCalls()).toBe(contactIds.size);
    for (const span of describeContact) {
      expect(span.parentSpanId).toBe(operation.spanId);
      expect(span.kind).toBe(CLIENT);
      expect(span.name).toBe("Connect.DescribeContact");
      expect(span.attributes).toEqual({
        "rpc.system": "aws-api",
        "rpc.service": "Connect",
        "rpc.method": "DescribeContact",
        "cloud.region": DEMO.region,
        "connect.instance.id": I,
        "connect.cache.hit": false,
        "connect.outcome": "ok",
        "connect.attempts": 1,
        "connect.quota.wait_ms": expect.any(Number),
      });
    }
    // The joins (the queue, the agent): a span per call the emulator served, children of the operation too.
    const others = spans.filter((s) => s.kind === CLIENT && s.attributes["rpc.method"] !== "DescribeContact");
    expect(others.map((s) => s.attributes["rpc.method"])).toEqual(expect.arrayContaining(["DescribeQueue", "DescribeUser"]));
    for (const [api, calls] of Object.entries(upstreamCalls)) expect(spans.filter((s) => s.attributes["rpc.method"] === api), api).toHaveLength(calls);
    expect(others.every((s) => s.parentSpanId === operation.spanId)).toBe(true);
  });

  it("records a read the cache answers as a span with connect.cache.hit=true and no call", async () => {
    const caller = callerContext();
    stack.resetCalls();
    const { body } = await stack.query(`query Again($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id } }`, { i: I, c: DEMO.longChainTailId }, caller.headers);
    expect(body.data.contact.id).toBe(DEMO.longChainTailId);
    expect(stack.describeContactCalls()).toBe(0);
    const spans = await exported(receiver, tracing, caller.traceId, 2);
    expect(spans).toHaveLength(2);
    const operation = spans.find((s) => s.kind === SERVER)!;
    expect(operation.attributes["gateway.upstream_calls"]).toBe(0);
    const reads = spans.filter((s) => s.attributes["rpc.method"] === "DescribeContact");
    expect(reads).toHaveLength(1);
    expect(reads[0]!.parentSpanId).toBe(operation.spanId);
    expect(reads[0]!.kind).toBe(INTERNAL);
    expect(reads[0]!.attributes).toEqual({
      "rpc.method": "DescribeContact",
      "cloud.region": DEMO.region,
      "connect.instance.id": I,
      "connect.cache.hit": true,
      "connect.outcome": "ok",
    });
  });

  it("gives an answer from the response cache an operation span of its own, parented on the caller's, marked a hit, with no call", async () => {
    const query = `query FromTheResponseCache($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id channel } }`;
    const variables = { i: I, c: DEMO.fullContactId };
    const first = callerContext();
    await stack.query(query, variables, first.headers);
    const executed = (await exported(receiver, tracing, first.traceId, 2)).find((s) => s.kind === SERVER)!;
    expect(executed.attributes["gateway.response_cache"]).toBeUndefined();

    const caller = callerContext();
    stack.resetCalls();
    const { body } = await stack.query(query, variables, caller.headers);
    expect(body.data.contact.id).toBe(DEMO.fullContactId);
    expect(stack.emulator.calls.total).toBe(0);
    const spans = await exported(receiver, tracing, caller.traceId, 1);
    expect(spans).toHaveLength(1); // no read: nothing executed
    expect(spans[0]!).toMatchObject({ kind: SERVER, name: "query FromTheResponseCache", parentSpanId: caller.parentSpanId, traceState: "frontend=t61rcWkgMzE" });
    expect(spans[0]!.attributes).toEqual({
      "graphql.operation.name": "FromTheResponseCache",
      "graphql.operation.type": "query",
      "gateway.outcome": "ok",
      "gateway.upstream_calls": 0,
      "gateway.response_cache": "hit",
    });
  });

  it("records errors by code, and the outcome, on the operation span", async () => {
    const caller = callerContext();
    const { body } = await stack.query(
      `query Missing($i: ID!, $c: ID!, $m: ID!) { found: contact(instanceId: $i, contactId: $c) { id } missing: contact(instanceId: $i, contactId: $m) { id } }`,
      { i: I, c: DEMO.longChainTailId, m: DEMO.missingContactId },
      caller.headers,
    );
    expect(body.data).toEqual({ found: { id: DEMO.longChainTailId }, missing: null });
    expect(body.errors!.map((e) => e.extensions!.code)).toEqual(["NOT_FOUND"]);
    const spans = await exported(receiver, tracing, caller.traceId, 3);
    const operation = spans.find((s) => s.kind === SERVER)!;
    expect(operation.attributes).toMatchObject({ "gateway.outcome": "partial", "gateway.error_codes": ["NOT_FOUND"] });
    const missing = spans.find((s) => s.kind === CLIENT && s.attributes["rpc.method"] === "DescribeContact")!;
    expect(missing.attributes).toMatchObject({ "connect.outcome": "not_found", "error.type": "ResourceNotFoundException", "connect.attempts": 1 });
  });

  it("starts a new trace when the request carries no traceparent", async () => {
    await stack.query(`query NoCaller { contact(instanceId: "${I}", contactId: "${DEMO.inProgressContactId}") { id } }`);
    await tracing.forceFlush();
    const isIt = (s: ReceivedSpan) => s.kind === SERVER && s.name === "query NoCaller";
    const operation = (await receiver.waitFor((all) => all.some(isIt))).find(isIt)!;
    expect(operation.parentSpanId).toBe("");
    expect(operation.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it("puts no personal data of the contacts read in any attribute", async () => {
    const data = stack.emulator.dataset.instances.get(I)!;
    const full = data.contacts.get(DEMO.fullContactId)!;
    const user = data.users.get(DEMO.userId)!;
    const personal = [
      full.Name,
      full.Description,
      full.CustomerEndpoint?.Address,
      full.CustomerEndpoint?.DisplayName,
      full.SystemEndpoint?.Address,
      user.Username,
      user.IdentityInfo?.FirstName,
      user.IdentityInfo?.LastName,
      user.IdentityInfo?.Email,
      ...Object.values(data.attributes.get(full.InitialContactId ?? full.Id!) ?? {}),
      ...Object.values((full as { Attributes?: Record<string, string> }).Attributes ?? {}),
    ].filter((v): v is string => typeof v === "string" && v.length > 2);
    // And whatever the first spec's response held besides ids: the values the gateway served.
    const leaves = (v: unknown): string[] => (v && typeof v === "object" ? Object.entries(v).flatMap(([k, x]) => (k === "id" ? [] : leaves(x))) : typeof v === "string" ? [v] : []);
    expect(leaves(served)).toEqual(expect.arrayContaining([full.Name, full.CustomerEndpoint!.Address, user.IdentityInfo!.Email]));
    personal.push(...leaves(served).filter((v) => v.length > 2));
    expect(personal.length).toBeGreaterThanOrEqual(8);
    const strings = attributeStrings(receiver.spans());
    expect(strings.length).toBeGreaterThan(20);
    for (const value of personal) expect(strings.filter((s) => s.includes(value)), value).toEqual([]);
    // Nor any contact, queue or user id (instance and API locate a problem; see tracing.ts).
    for (const id of [DEMO.fullContactId, DEMO.longChainTailId, DEMO.queueId, DEMO.userId]) expect(strings.filter((s) => s.includes(id)), id).toEqual([]);
  });
});

describe("tracing unset", () => {
  let receiver: OtlpReceiver;
  let emulator: Emulator;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    emulator = await startEmulator({ quota: false });
  });
  afterAll(async () => {
    await receiver?.close();
    await emulator?.close();
  });

  it("starts nothing without an exporter or an endpoint, or with OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none", async () => {
    expect(await startTracing({})).toBeUndefined();
    expect(await startTracing({ OTEL_SERVICE_NAME: "x", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" })).toBeUndefined();
    expect(await startTracing({ OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url })).toBeUndefined();
    expect(await startTracing({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url })).toBeUndefined();
  });

  it("describes its exporter's URL for the log without credentials: no user, password or query string", async () => {
    const url = new URL(receiver.url);
    const tracing = await startTracing({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://collector:s3cret@${url.host}/v1/traces?api-key=SECRET_TOKEN_123` });
    try {
      expect(tracing!.description).toContain(`otlp http/protobuf http://…@${url.host}/v1/traces?…`);
      expect(tracing!.description).not.toMatch(/s3cret|SECRET_TOKEN_123|collector/);
    } finally {
      await tracing?.shutdown();
    }
  });

  it("exports nothing for a traced request", async () => {
    const stack = await startStack({ env: FAST, sharedEmulator: emulator, gateway: { tracing: await startTracing({ OTEL_BSP_SCHEDULE_DELAY: "10" }) } });
    try {
      const { body } = await stack.query(`{ contact(instanceId: "${I}", contactId: "${DEMO.longChainTailId}") { id } }`, undefined, callerContext().headers);
      expect(body.errors).toBeUndefined();
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(receiver.exports).toEqual([]);
    } finally {
      await stack.close();
    }
  });
});

describe("tracing and the process", () => {
  afterEach(() => {
    // Nothing here may have registered anything globally.
    expect(trace.getTracer("probe").startSpan("probe").isRecording()).toBe(false);
  });

  it("registers no global tracer provider and no context manager, even when on", async () => {
    const receiver = await startOtlpReceiver();
    const tracing = await startTracing({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    try {
      expect(tracing).toBeDefined();
      const key = createContextKey("probe");
      // With a context manager, `with` would make the context active inside the callback.
      expect(context.with(ROOT_CONTEXT.setValue(key, 1), () => context.active().getValue(key))).toBeUndefined();
    } finally {
      await tracing?.shutdown();
      await receiver.close();
    }
  });

  it("main.ts exports an operation's span, parented on the caller, when it shuts down", async () => {
    const receiver = await startOtlpReceiver();
    try {
      // A long schedule delay: only the flush on SIGTERM can deliver the span in time.
      const gateway = await spawnGateway({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_BSP_SCHEDULE_DELAY: "600000" });
      const caller = callerContext();
      const response = await fetch(gateway.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...caller.headers },
        body: JSON.stringify({ query: `query FromMain { contact(instanceId: "${I}", contactId: "${DEMO.longChainTailId}") { id } }` }),
      });
      expect(response.status).toBe(200);
      expect(await gateway.stop("SIGTERM")).toBe(0);
      expect(gateway.output()).toContain('"msg":"tracing on"');
      const operation = receiver.spans().find((s) => s.traceId === caller.traceId && s.kind === SERVER);
      expect(operation).toMatchObject({ name: "query FromMain", parentSpanId: caller.parentSpanId });
      expect(operation!.resource["service.name"]).toBe("connect-graphql");
      const calls = receiver.spans().filter((s) => s.traceId === caller.traceId && s.parentSpanId === operation!.spanId);
      expect(calls.map((s) => s.name)).toEqual(["Connect.DescribeContact"]);
    } finally {
      await receiver.close();
    }
  });

  it("refuses grpc at start-up with exit code 2 and one line", async () => {
    const { code, stdout, stderr } = await runGateway([], { PORT: "0", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4317", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" });
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr.trim()).toMatch(/^connect-graphql: Unsupported setting OTEL_EXPORTER_OTLP_PROTOCOL="grpc": .*http\/protobuf/);
    expect(stdout).not.toContain("listening");
  });
});

describe("tracingSettings", () => {
  it("sends to OTEL_EXPORTER_OTLP_ENDPOINT's /v1/traces, or to OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given", () => {
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })?.url).toBe("http://collector:4318/v1/traces");
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318/" })?.url).toBe("http://collector:4318/v1/traces");
    expect(tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://a:4318", OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://b/traces" })?.url).toBe("https://b/traces");
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: "otlp" })?.url).toBe("http://localhost:4318/v1/traces");
  });

  it("defaults to http/protobuf, service.name connect-graphql and parent-based sampling", () => {
    expect(tracingSettings({ OTEL_TRACES_EXPORTER: "otlp" })).toMatchObject({
      protocol: "http/protobuf",
      resource: { "service.name": "connect-graphql" },
      sampler: { name: "parentbased_always_on", ratio: 1 },
    });
  });

  it("reads headers, resource attributes, sampler and batch settings", () => {
    const settings = tracingSettings({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
      OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20abc,x-a=1",
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: "x-a=2",
      OTEL_RESOURCE_ATTRIBUTES: "service.name=from-attributes,service.namespace=cc",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
      OTEL_BSP_SCHEDULE_DELAY: "0",
      OTEL_BSP_MAX_QUEUE_SIZE: "100",
    });
    expect(settings).toMatchObject({
      headers: { authorization: "Bearer abc", "x-a": "2" },
      resource: { "service.name": "from-attributes", "service.namespace": "cc" },
      sampler: { name: "parentbased_traceidratio", ratio: 0.25 },
      batch: { scheduledDelayMillis: 0, maxQueueSize: 100 },
    });
  });

  it("throws a ConfigError naming the variable for grpc, an unknown exporter, sampler or a bad number, never quoting headers", () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4317", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }, /OTEL_EXPORTER_OTLP_PROTOCOL="grpc"/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4317", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "grpc" }, /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="grpc"/],
      [{ OTEL_TRACES_EXPORTER: "zipkin" }, /OTEL_TRACES_EXPORTER="zipkin": expected otlp, console or none/],
      [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_TRACES_SAMPLER: "xray" }, /OTEL_TRACES_SAMPLER="xray"/],
      [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_BSP_SCHEDULE_DELAY: "soon" }, /OTEL_BSP_SCHEDULE_DELAY="soon": expected a whole number/],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: "collector:4318" }, /OTEL_EXPORTER_OTLP_ENDPOINT="collector:4318": expected an http/],
      [{ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_HEADERS: "secret-token" }, /^Invalid setting OTEL_EXPORTER_OTLP_HEADERS: expected key=value/],
    ];
    for (const [env, message] of cases) {
      expect(() => tracingSettings(env), JSON.stringify(env)).toThrow(ConfigError);
      expect(() => tracingSettings(env), JSON.stringify(env)).toThrow(message);
    }
  });
});
