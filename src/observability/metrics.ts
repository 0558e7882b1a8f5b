import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { ErrorCode, upstreamErrorCode } from "../domain/errors.js";

/**
 * The gateway's Prometheus metrics, served at `GET /metrics`. Every part of the gateway records
 * through the methods below, never through prom-client directly, so names, labels and buckets are
 * defined in this one file and tests can read an injected registry.
 *
 * | metric | type | labels |
 * |---|---|---|
 * | `graphql_operations_total` | counter | `operation`, `outcome` (ok, partial, error) |
 * | `graphql_operation_duration_seconds` | histogram | `operation`, `outcome` |
 * | `graphql_errors_total` | counter | `code` (the `extensions.code` of each error sent) |
 * | `connect_upstream_calls_total` | counter | `api`, `outcome` (ok, not_found, bad_request, forbidden, throttled, timeout, error) |
 * | `connect_upstream_call_duration_seconds` | histogram | `api`, `outcome` |
 * | `connect_upstream_retries_total` | counter | `api` |
 * | `connect_cache_lookups_total` | counter | `layer` (memory, redis), `result` (hit, miss): the contact cache |
 * | `graphql_dataloader_batch_size` | histogram | none: contacts per DataLoader batch |
 * | `connect_limiter_wait_seconds` | histogram | `api`, `outcome` (acquired: waited for the API's quota; rejected: refused by the quota or for want of a concurrency slot) |
 * | `connect_cache_entries` | gauge | none: entries held in the in-process contact cache |
 * | `connect_cache_bytes` | gauge | none: resident memory charged to it (bounded by `CACHE_MAX_MB`) |
 * | `connect_events_total` | counter | `outcome` (received, applied, duplicate, stale, rejected, failed, deferred) |
 * | `connect_event_age_seconds` | histogram | none: from the event's time to its delivery to subscribers |
 * | `connect_event_receive_errors_total` | counter | none: failed ReceiveMessage calls on the events queue |
 * | `graphql_subscriptions` | gauge | `transport` (ws, sse): subscriptions open now |
 * | `graphql_subscription_results_total` | counter | `execution` (executed: the event's result was executed for this subscriber; shared: it was executed once for subscribers with the same document, variables and access, and this one received it too) |
 * | `graphql_response_cache_total` | counter | `result` (hit: answered from the response cache; miss: looked up, executed; bypass: not looked up, as `Cache-Control: no-cache` or a batch; store: a response stored) |
 * | `graphql_response_cache_entries` | gauge | none: responses held in the response cache |
 * | `graphql_response_cache_bytes` | gauge | none: memory charged to it (bounded by `RESPONSE_CACHE_MAX_MB`) |
 *
 * `api` is the Connect API's name (DescribeContact, DescribeQueue, DescribeUser,
 * GetContactAttributes, ListContactReferences, SearchContacts). With `processMetrics`, prom-client's
 * process and Node.js metrics (`process_*`, `nodejs_*`) are served too.
 *
 * Operation names are chosen by clients, so the `operation` label is bounded: anonymous operations
 * are `anonymous`, names that are not GraphQL names are `invalid`, and once `maxOperationNames`
 * distinct names have been seen, new ones are counted as `other`.
 */
export interface GatewayMetrics {
  readonly registry: Registry;
  /** One finished GraphQL operation. */
  observeOperation(operationName: string | null | undefined, outcome: OperationOutcome, seconds: number, errorCodes?: readonly string[]): void;
  /** One upstream call: its final outcome, its duration and how many times the SDK retried it. */
  observeUpstreamCall(api: string, outcome: UpstreamOutcome, seconds: number, retries?: number): void;
  /** One cache lookup. */
  observeCacheLookup(result: "hit" | "miss", layer?: "memory" | "redis"): void;
  /** One DataLoader batch (pass as `LoaderOptions.onBatch`). */
  observeBatch(size: number): void;
  /**
   * Time one call to `api` waited for its quota; `rejected` when it was refused (UPSTREAM_THROTTLED),
   * by its quota or, waiting too long for a concurrency slot, by the pool.
   */
  observeLimiterWait(api: string, seconds: number, outcome?: "acquired" | "rejected"): void;
  /** One contact event taken from the queue, and what became of it (see `EventOutcome`). */
  observeEvent(outcome: EventOutcome): void;
  /** How old an event was when it was delivered to this replica's subscribers. */
  observeEventAge(seconds: number): void;
  /** One failed ReceiveMessage on the events queue. */
  observeEventReceiveError(): void;
  /** A subscription opened (+1) or ended (-1) on `transport`. */
  observeSubscriptions(transport: "ws" | "sse", delta: 1 | -1): void;
  /** One event's result for one subscriber: executed for it, or shared from another subscriber's execution (`SharedExecutions`). */
  observeSubscriptionResult(execution: "executed" | "shared"): void;
  /** Reports the in-process contact cache's size at every scrape (`TieredCache.usage`). */
  watchCache(usage: () => { entries: number; bytes: number }): void;
  /** One request as the operation response cache saw it, or one response it stored. */
  observeResponseCache(result: ResponseCacheResult): void;
  /** Reports the response cache's size at every scrape. */
  watchResponseCache(usage: () => { entries: number; bytes: number }): void;
  /** The exposition text and its content type. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

/** ok: no errors; partial: data with errors; error: no data (the operation failed as a whole). */
export type OperationOutcome = "ok" | "partial" | "error";
/**
 * What became of a message taken from the events queue: `received` for each, then one of `applied`
 * (cache refreshed, published to subscribers), `duplicate` (an event id already applied), `stale`
 * (older than what was applied for its contact), `rejected` (not JSON, or not a contact event) or
 * `failed` (left on the queue for redelivery), `deferred` (another copy was being applied at that
 * moment: left on the queue, redelivered it is a duplicate or applied).
 */
export type EventOutcome = "received" | "applied" | "duplicate" | "stale" | "rejected" | "failed" | "deferred";
/** hit: answered from the response cache; miss: looked up and executed; bypass: executed without a lookup; store: a response stored. */
export type ResponseCacheResult = "hit" | "miss" | "bypass" | "store";
export type UpstreamOutcome = "ok" | "not_found" | "bad_request" | "forbidden" | "throttled" | "timeout" | "error";

export interface MetricsOptions {
  /** Default: a new registry (tests read it; two gateways in one process never share counters). */
  registry?: Registry;
  /** Also collect prom-client's process and Node.js metrics (CPU, memory, event-loop lag, GC). Default false. */
  processMetrics?: boolean;
  /** Distinct `operation` label values before new names become `other`. Default 200. */
  maxOperationNames?: number;
}

const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics(options: MetricsOptions = {}): GatewayMetrics {
  const registry = options.registry ?? new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
  const registers = [registry];

  // One per operation: counted in plain numbers and handed to the counter when it is read.
  const operations = countedOnRead<string, OperationOutcome>({
    name: "graphql_operations_total",
    help: "GraphQL operations, by operation name and outcome.",
    labelNames: ["operation", "outcome"],
    registers,
  });
  const operationDuration = new Histogram({
    name: "graphql_operation_duration_seconds",
    help: "Time from receiving a GraphQL operation to sending its response.",
    labelNames: ["operation", "outcome"],
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const errors = new Counter({ name: "graphql_errors_total", help: "Errors in GraphQL responses, by extensions.code.", labelNames: ["code"], registers });
  const upstreamCalls = new Counter({
    name: "connect_upstream_calls_total",
    help: "Calls to Amazon Connect (or the emulator) by API and outcome, after the SDK's retries.",
    labelNames: ["api", "outcome"],
    registers,
  });
  const upstreamDuration = new Histogram({
    name: "connect_upstream_call_duration_seconds",
    help: "Duration of calls to Amazon Connect, retries included.",
    labelNames: ["api", "outcome"],
    buckets: SECONDS_BUCKETS,
    registers,
  });
  const upstreamRetries = new Counter({
    name: "connect_upstream_retries_total",
    help: "Attempts the SDK repeated after a throttled, failed or timed-out attempt, by API.",
    labelNames: ["api"],
    registers,
  });
  // Several lookups per operation: counted like operations.
  const lookups = countedOnRead<"memory" | "redis", "hit" | "miss">({
    name: "connect_cache_lookups_total",
    help: "Contact cache lookups by layer and result.",
    labelNames: ["layer", "result"],
    registers,
  });
  const batchSize = new Histogram({
    name: "graphql_dataloader_batch_size",
    help: "Contacts requested in one DataLoader batch.",
    buckets: [1, 2, 3, 5, 10, 20, 50, 100, 200],
    registers,
  });
  const limiterWait = new Histogram({
    name: "connect_limiter_wait_seconds",
    help: "Time upstream calls waited for their API's quota, by API; rejected: refused, the wait for quota or for a concurrency slot exceeding CONNECT_MAX_WAIT_MS.",
    labelNames: ["api", "outcome"],
    buckets: [0, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
    registers,
  });

  const events = new Counter({ name: "connect_events_total", help: "Contact events taken from the events queue, by outcome.", labelNames: ["outcome"], registers });
  const eventAge = new Histogram({
    name: "connect_event_age_seconds",
    help: "Age of a contact event (from its EventBridge time) when delivered to this replica's subscribers.",
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers,
  });
  const eventReceiveErrors = new Counter({ name: "connect_event_receive_errors_total", help: "Failed ReceiveMessage calls on the contact events queue.", registers });
  const subscriptions = new Gauge({ name: "graphql_subscriptions", help: "GraphQL subscriptions open now, by transport.", labelNames: ["transport"], registers });
  const subscriptionResults = new Counter({
    name: "graphql_subscription_results_total",
    help: "Subscription results sent, by whether the event's operation was executed for that subscriber or its result shared from one executed for subscribers with the same document, variables and access.",
    labelNames: ["execution"],
    registers,
  });
  // One per delivery (thousands a second): the two children made once.
  const subscriptionResult = { executed: subscriptionResults.labels("executed"), shared: subscriptionResults.labels("shared") };
  const responseCache = new Counter({
    name: "graphql_response_cache_total",
    help: "Requests the operation response cache answered (hit), looked up and left to execute (miss) or did not look up (bypass), and responses it stored (store).",
    labelNames: ["result"],
    registers,
  });

  const operationLabel = boundedOperationLabel(options.maxOperationNames ?? 200);
  // The duration histogram's child per label pair, made once: prom-client's `observe(labels, value)`
  // builds a closure per call. As many as the operation label has values, times three outcomes. A
  // child writes through to the histogram's current values, so a reset does not stale it.
  const durations = new Map<string, Record<OperationOutcome, { observe(value: number): void } | undefined>>();
  const durationOf = (operation: string, outcome: OperationOutcome) => {
    let children = durations.get(operation);
    if (!children) durations.set(operation, (children = { ok: undefined, partial: undefined, error: undefined }));
    return (children[outcome] ??= operationDuration.labels(operation, outcome));
  };
  // Read at scrape time from the cache the gateway watches, so operators see how close the cache is
  // to CACHE_MAX_ENTRIES and CACHE_MAX_MB.
  let cacheUsage: (() => { entries: number; bytes: number }) | undefined;
  new Gauge({
    name: "connect_cache_entries",
    help: "Contacts (and remembered not-found ids) held in the in-process cache.",
    registers,
    collect() {
      if (cacheUsage) this.set(cacheUsage().entries);
    },
  });
  new Gauge({
    name: "connect_cache_bytes",
    help: "Resident memory charged to the in-process cache, bounded by CACHE_MAX_MB.",
    registers,
    collect() {
      if (cacheUsage) this.set(cacheUsage().bytes);
    },
  });

  let responseCacheUsage: (() => { entries: number; bytes: number }) | undefined;
  new Gauge({
    name: "graphql_response_cache_entries",
    help: "Responses held in the operation response cache.",
    registers,
    collect() {
      if (responseCacheUsage) this.set(responseCacheUsage().entries);
    },
  });
  new Gauge({
    name: "graphql_response_cache_bytes",
    help: "Memory charged to the operation response cache, bounded by RESPONSE_CACHE_MAX_MB.",
    registers,
    collect() {
      if (responseCacheUsage) this.set(responseCacheUsage().bytes);
    },
  });

  return {
    registry,
    watchCache(usage) {
      cacheUsage = usage;
    },
    observeResponseCache(result) {
      responseCache.inc({ result });
    },
    watchResponseCache(usage) {
      responseCacheUsage = usage;
    },
    observeOperation(operationName, outcome, seconds, errorCodes = []) {
      const operation = operationLabel(operationName);
      operations.count(operation, outcome);
      durationOf(operation, outcome).observe(seconds);
      for (const code of errorCodes) errors.inc({ code });
    },
    observeUpstreamCall(api, outcome, seconds, retries = 0) {
      upstreamCalls.inc({ api, outcome });
      upstreamDuration.observe({ api, outcome }, seconds);
      if (retries > 0) upstreamRetries.inc({ api }, retries);
    },
    observeCacheLookup(result, layer = "memory") {
      lookups.count(layer, result);
    },
    observeBatch(size) {
      batchSize.observe(size);
    },
    observeLimiterWait(api, seconds, outcome = "acquired") {
      limiterWait.observe({ api, outcome }, seconds);
    },
    observeEvent(outcome) {
      events.inc({ outcome });
    },
    observeEventAge(seconds) {
      eventAge.observe(Math.max(0, seconds));
    },
    observeEventReceiveError() {
      eventReceiveErrors.inc();
    },
    observeSubscriptions(transport, delta) {
      subscriptions.inc({ transport }, delta);
    },
    observeSubscriptionResult(execution) {
      subscriptionResult[execution].inc();
    },
    async scrape() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/** The outcome label of a failed upstream call, from the gateway's one error table. */
export function upstreamOutcome(error: unknown): UpstreamOutcome {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === "TimeoutError" || name === "RequestTimeout" || name === "AbortError") return "timeout";
  switch (upstreamErrorCode(error)) {
    case ErrorCode.NOT_FOUND:
      return "not_found";
    case ErrorCode.BAD_USER_INPUT:
      return "bad_request";
    case ErrorCode.FORBIDDEN:
      return "forbidden";
    case ErrorCode.UPSTREAM_THROTTLED:
      return "throttled";
    default:
      return "error";
  }
}

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]{0,99}$/;

// Private: client-chosen names as label values, without letting clients grow the series unboundedly.
function boundedOperationLabel(max: number): (name: string | null | undefined) => string {
  const seen = new Set<string>();
  return (name) => {
    if (!name) return "anonymous";
    if (!GRAPHQL_NAME.test(name)) return "invalid";
    if (seen.has(name)) return name;
    if (seen.size >= max) return "other";
    seen.add(name);
    return name;
  };
}

/** A counter of two labels whose increments are counted in plain numbers (`countedOnRead`). */
interface CountedOnRead<A extends string, B extends string> {
  count(a: A, b: B): void;
}

/**
 * A prom-client counter of two labels (`labelNames`, in that order) whose increments are counted
 * in plain numbers per pair of values and handed to it when it is read (a scrape calls its
 * `collect`), so the hot path costs two map lookups instead of prom-client's validation and hashing
 * of a labels object. A series appears at the first scrape after its first count, as it would from
 * `inc`. A reset (`registry.resetMetrics()`) also drops what was counted since the last read.
 * Label values must be bounded, as for any counter.
 */
function countedOnRead<A extends string, B extends string>(config: {
  name: string;
  help: string;
  labelNames: readonly [string, string];
  registers: Registry[];
}): CountedOnRead<A, B> {
  const [first, second] = config.labelNames;
  let pending = new Map<A, Map<B, { n: number }>>();
  const counter = new Counter({
    ...config,
    labelNames: [first, second],
    collect() {
      for (const [a, counts] of pending) {
        for (const [b, entry] of counts) {
          if (entry.n === 0) continue;
          this.inc({ [first]: a, [second]: b }, entry.n);
          entry.n = 0;
        }
      }
    },
  });
  const reset = counter.reset.bind(counter);
  counter.reset = () => {
    pending = new Map();
    reset();
  };
  return {
    count(a, b) {
      let counts = pending.get(a);
      if (!counts) pending.set(a, (counts = new Map()));
      const entry = counts.get(b);
      if (entry) entry.n += 1;
      else counts.set(b, { n: 1 });
    },
  };
}
