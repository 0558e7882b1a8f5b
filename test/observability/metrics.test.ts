import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { createMetrics, type GatewayMetrics } from "../../src/observability/metrics.js";
import { startStack, type Stack } from "../support/stack.js";
import { sampleOf } from "../support/metricsText.js";

const I = DEMO.instanceId;
const CHAIN = `query Chain($i: ID!, $c: ID!) {
  contact(instanceId: $i, contactId: $c) { id previousContact { id previousContact { id } } initialContact { id } }
}`;

let stack: Stack;
let metrics: GatewayMetrics;

beforeAll(async () => {
  // No cache and no SDK retries: every contact is one call, every injected 429 reaches the gateway.
  stack = await startStack({ env: { CACHE_TTL_SECONDS: "0", CONNECT_MAX_ATTEMPTS: "1" }, gateway: { metrics: (metrics = createMetrics()) } });
});
afterAll(() => stack?.close());
beforeEach(() => {
  metrics.registry.resetMetrics();
  stack.resetCalls();
});

/** GET /metrics over HTTP, as Prometheus scrapes it. */
async function scrape(): Promise<{ contentType: string; text: string }> {
  const response = await fetch(stack.url.replace(/\/graphql$/, "/metrics"));
  expect(response.status).toBe(200);
  return { contentType: response.headers.get("content-type") ?? "", text: await response.text() };
}


describe("GET /metrics", () => {
  it("serves the Prometheus text format", async () => {
    const { contentType, text } = await scrape();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(text).toContain("# TYPE graphql_operation_duration_seconds histogram");
    expect(text).toContain("# TYPE connect_upstream_calls_total counter");
  });

  it("counts a successful operation by name and outcome, with its latency in a histogram", async () => {
    const { body } = await stack.query(CHAIN, { i: I, c: DEMO.longChainTailId });
    expect(body.errors).toBeUndefined();
    const { text } = await scrape();
    expect(sampleOf(text, "graphql_operations_total", { operation: "Chain", outcome: "ok" })).toBe(1);
    expect(sampleOf(text, "graphql_operation_duration_seconds_count", { operation: "Chain", outcome: "ok" })).toBe(1);
    expect(sampleOf(text, "graphql_operation_duration_seconds_bucket", { operation: "Chain", outcome: "ok", le: "+Inf" })).toBe(1);
    expect(sampleOf(text, "graphql_operation_duration_seconds_sum", { operation: "Chain", outcome: "ok" })).toBeGreaterThan(0);
  });

  it("counts exactly the DescribeContact calls the emulator served, by outcome", async () => {
    await stack.query(CHAIN, { i: I, c: DEMO.longChainTailId });
    await stack.query(`query Missing($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id } }`, { i: I, c: DEMO.missingContactId });
    const { text } = await scrape();
    const ok = sampleOf(text, "connect_upstream_calls_total", { api: "DescribeContact", outcome: "ok" });
    const notFound = sampleOf(text, "connect_upstream_calls_total", { api: "DescribeContact", outcome: "not_found" });
    expect(ok).toBe(4); // tail, two previous contacts, the initial one
    expect(notFound).toBe(1);
    expect(ok! + notFound!).toBe(stack.describeContactCalls());
    expect(sampleOf(text, "connect_upstream_call_duration_seconds_count", { api: "DescribeContact", outcome: "ok" })).toBe(4);
    expect(sampleOf(text, "graphql_operations_total", { operation: "Missing", outcome: "partial" }) ?? sampleOf(text, "graphql_operations_total", { operation: "Missing", outcome: "error" })).toBe(1);
    expect(sampleOf(text, "graphql_errors_total", { code: "NOT_FOUND" })).toBe(1);
  });

  it("counts a call Connect throttled as throttled, and the operation's UPSTREAM_THROTTLED error", async () => {
    stack.emulator.failNext(1, 429, "DescribeContact");
    const { body } = await stack.query(`query Throttled($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id } }`, { i: I, c: DEMO.fullContactId });
    expect(body.errors?.[0]?.extensions?.code).toBe("UPSTREAM_THROTTLED");
    expect(stack.describeContactCalls()).toBe(1);
    const { text } = await scrape();
    expect(sampleOf(text, "connect_upstream_calls_total", { api: "DescribeContact", outcome: "throttled" })).toBe(1);
    expect(sampleOf(text, "connect_upstream_calls_total", { api: "DescribeContact", outcome: "ok" })).toBeUndefined();
    expect(sampleOf(text, "graphql_errors_total", { code: "UPSTREAM_THROTTLED" })).toBe(1);
  });

  it("records DataLoader batch sizes: one batch of three for a three-id contacts list", async () => {
    const ids = [DEMO.fullContactId, DEMO.longChainTailId, DEMO.inProgressContactId];
    const { body } = await stack.query(`query List($i: ID!, $ids: [ID!]!) { contacts(instanceId: $i, contactIds: $ids) { id } }`, { i: I, ids });
    expect(body.data.contacts.map((c: { id: string }) => c.id)).toEqual(ids);
    const { text } = await scrape();
    expect(sampleOf(text, "graphql_dataloader_batch_size_count")).toBe(1);
    expect(sampleOf(text, "graphql_dataloader_batch_size_sum")).toBe(3);
    expect(sampleOf(text, "graphql_dataloader_batch_size_bucket", { le: "2" })).toBe(0);
    expect(sampleOf(text, "graphql_dataloader_batch_size_bucket", { le: "3" })).toBe(1);
    expect(stack.describeContactCalls()).toBe(3);
  });

  it("labels operations that fail validation with outcome error and costs no upstream call", async () => {
    await stack.query(`query Broken { contact { nope } }`);
    const { text } = await scrape();
    expect(sampleOf(text, "graphql_operations_total", { operation: "Broken", outcome: "error" })).toBe(1);
    expect(sampleOf(text, "graphql_errors_total", { code: "GRAPHQL_VALIDATION_FAILED" })).toBe(1);
    expect(stack.describeContactCalls()).toBe(0);
  });
});

describe("GET /metrics with the cache, the quota limiter and the SDK's retries at work", () => {
  /** A second gateway on the same emulator, with its own metrics. */
  async function gatewayWith(env: Record<string, string>): Promise<{ other: Stack; m: GatewayMetrics }> {
    const m = createMetrics();
    const other = await startStack({ env, sharedEmulator: stack.emulator, gateway: { metrics: m } });
    return { other, m };
  }

  it("reports the cache's entries and charged bytes at every scrape, within CACHE_MAX_MB", async () => {
    const { other, m } = await gatewayWith({});
    try {
      const ids = [...stack.emulator.dataset.instances.get(I)!.contacts.keys()].slice(0, 5);
      await other.query(`query Five($i: ID!, $ids: [ID!]!) { contacts(instanceId: $i, contactIds: $ids) { id } }`, { i: I, ids });
      const { body } = await m.scrape();
      expect(sampleOf(body, "connect_cache_entries")).toBe(5);
      const bytes = sampleOf(body, "connect_cache_bytes")!;
      expect(bytes).toBe(other.gateway.contactSource!.cache.usage().bytes);
      expect(bytes).toBeGreaterThan(5 * 1024);
      expect(bytes).toBeLessThanOrEqual(other.config.CACHE_MAX_MB * 1024 * 1024);
      expect(stack.describeContactCalls()).toBe(5);
    } finally {
      await other.close();
    }
  });

  it("counts cache misses and hits: a finished contact read twice is one call", async () => {
    // The contact cache's counters: the response cache, which would answer the repeat before the
    // contact cache is asked, is off here (it has specs of its own).
    const { other, m } = await gatewayWith({ RESPONSE_CACHE: "false" });
    try {
      for (let i = 0; i < 2; i++) await other.query(`query Full($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id } }`, { i: I, c: DEMO.fullContactId });
      const { body } = await m.scrape();
      expect(sampleOf(body, "connect_cache_lookups_total", { layer: "memory", result: "miss" })).toBe(1);
      expect(sampleOf(body, "connect_cache_lookups_total", { layer: "memory", result: "hit" })).toBe(1);
      expect(sampleOf(body, "connect_upstream_calls_total", { api: "DescribeContact", outcome: "ok" })).toBe(1);
      expect(stack.describeContactCalls()).toBe(1);
    } finally {
      await other.close();
    }
  });

  it("records the limiter's wait for each call it lets through and each it refuses; refused calls are not upstream calls", async () => {
    const { other, m } = await gatewayWith({ CACHE_TTL_SECONDS: "0", CONNECT_MAX_RPS: "0.01", CONNECT_BURST: "1", CONNECT_MAX_WAIT_MS: "0" });
    try {
      const ids = [DEMO.fullContactId, DEMO.longChainTailId, DEMO.inProgressContactId];
      const { body: result } = await other.query(`query List($i: ID!, $ids: [ID!]!) { contacts(instanceId: $i, contactIds: $ids) { id } }`, { i: I, ids });
      expect(result.errors?.map((e: { extensions?: { code?: string } }) => e.extensions?.code)).toEqual(["UPSTREAM_THROTTLED", "UPSTREAM_THROTTLED"]);
      expect(stack.describeContactCalls()).toBe(1);
      const { body } = await m.scrape();
      expect(sampleOf(body, "connect_limiter_wait_seconds_count", { api: "DescribeContact", outcome: "acquired" })).toBe(1);
      expect(sampleOf(body, "connect_limiter_wait_seconds_count", { api: "DescribeContact", outcome: "rejected" })).toBe(2);
      expect(sampleOf(body, "connect_upstream_calls_total", { api: "DescribeContact", outcome: "ok" })).toBe(1);
      expect(sampleOf(body, "connect_upstream_calls_total", { api: "DescribeContact", outcome: "throttled" })).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it("records the waits and refusals of every API under its own name: a SearchContacts call its quota refused", async () => {
    // SearchContacts' default quota is 0.5/s, burst 1: a second search at once would wait 2.3 s.
    const { other, m } = await gatewayWith({ CONNECT_MAX_WAIT_MS: "0" });
    try {
      const search = `query Search($i: ID!) { searchContacts(instanceId: $i, timeRange: { startTime: "2026-10-10T00:00:00.000Z", endTime: "2026-10-17T00:00:00.000Z" }, first: 1) { totalCount } }`;
      expect((await other.query(search, { i: I })).body.errors).toBeUndefined();
      const { body: refused } = await other.query(search, { i: I });
      expect(refused.errors?.map((e: { extensions?: { code?: string } }) => e.extensions?.code)).toEqual(["UPSTREAM_THROTTLED"]);
      const { body } = await m.scrape();
      expect(sampleOf(body, "connect_limiter_wait_seconds_count", { api: "SearchContacts", outcome: "acquired" })).toBe(1);
      expect(sampleOf(body, "connect_limiter_wait_seconds_count", { api: "SearchContacts", outcome: "rejected" })).toBe(1);
      expect(sampleOf(body, "connect_limiter_wait_seconds_count", { api: "DescribeContact", outcome: "rejected" })).toBeUndefined();
      expect(sampleOf(body, "connect_upstream_calls_total", { api: "SearchContacts", outcome: "ok" })).toBe(1);
      expect(stack.emulator.calls.byApi.SearchContacts).toBe(1);
    } finally {
      await other.close();
    }
  });

  it("counts a call the SDK retried once, with its retry", async () => {
    const { other, m } = await gatewayWith({ CACHE_TTL_SECONDS: "0", CONNECT_MAX_ATTEMPTS: "3" });
    try {
      stack.emulator.failNext(1, 500, "DescribeContact");
      const { body: result } = await other.query(`query Retried($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id } }`, { i: I, c: DEMO.fullContactId });
      expect(result.data.contact.id).toBe(DEMO.fullContactId);
      expect(stack.describeContactCalls()).toBe(2);
      const { body } = await m.scrape();
      expect(sampleOf(body, "connect_upstream_calls_total", { api: "DescribeContact", outcome: "ok" })).toBe(1);
      expect(sampleOf(body, "connect_upstream_retries_total", { api: "DescribeContact" })).toBe(1);
    } finally {
      await other.close();
    }
  });
});

describe("createMetrics", () => {
  it("bounds the operation label: anonymous, invalid and, past the limit, other", async () => {
    const m = createMetrics({ maxOperationNames: 2 });
    for (const name of [undefined, "A", "B", "C", "A", "not a name"]) m.observeOperation(name, "ok", 0.01);
    const { body } = await m.scrape();
    expect(sampleOf(body, "graphql_operations_total", { operation: "anonymous", outcome: "ok" })).toBe(1);
    expect(sampleOf(body, "graphql_operations_total", { operation: "A", outcome: "ok" })).toBe(2);
    expect(sampleOf(body, "graphql_operations_total", { operation: "B", outcome: "ok" })).toBe(1);
    expect(sampleOf(body, "graphql_operations_total", { operation: "C", outcome: "ok" })).toBeUndefined();
    expect(sampleOf(body, "graphql_operations_total", { operation: "other", outcome: "ok" })).toBe(1);
    expect(sampleOf(body, "graphql_operations_total", { operation: "invalid", outcome: "ok" })).toBe(1);
  });

  it("exposes cache lookups by layer and result, and limiter waits by API and outcome, for the cache and limiter to record", async () => {
    const m = createMetrics();
    m.observeCacheLookup("hit");
    m.observeCacheLookup("miss", "redis");
    m.observeLimiterWait("DescribeContact", 0.2);
    m.observeLimiterWait("SearchContacts", 10, "rejected");
    const { body } = await m.scrape();
    expect(sampleOf(body, "connect_cache_lookups_total", { layer: "memory", result: "hit" })).toBe(1);
    expect(sampleOf(body, "connect_cache_lookups_total", { layer: "redis", result: "miss" })).toBe(1);
    expect(sampleOf(body, "connect_limiter_wait_seconds_count", { api: "DescribeContact", outcome: "acquired" })).toBe(1);
    expect(sampleOf(body, "connect_limiter_wait_seconds_sum", { api: "SearchContacts", outcome: "rejected" })).toBe(10);
  });

  it("counts every cache lookup once across scrapes, and a reset drops those not yet scraped", async () => {
    const m = createMetrics();
    m.observeCacheLookup("hit");
    m.observeCacheLookup("hit");
    expect(sampleOf((await m.scrape()).body, "connect_cache_lookups_total", { layer: "memory", result: "hit" })).toBe(2);
    m.observeCacheLookup("hit");
    expect(sampleOf((await m.scrape()).body, "connect_cache_lookups_total", { layer: "memory", result: "hit" })).toBe(3);
    expect(sampleOf((await m.scrape()).body, "connect_cache_lookups_total", { layer: "memory", result: "hit" })).toBe(3);
    m.observeCacheLookup("hit");
    m.registry.resetMetrics();
    m.observeCacheLookup("miss");
    const { body } = await m.scrape();
    expect(sampleOf(body, "connect_cache_lookups_total", { layer: "memory", result: "hit" })).toBeUndefined();
    expect(sampleOf(body, "connect_cache_lookups_total", { layer: "memory", result: "miss" })).toBe(1);
  });

  it("counts every operation and its duration once across scrapes, and after a reset only what followed", async () => {
    const m = createMetrics();
    m.observeOperation("Chain", "ok", 0.02);
    m.observeOperation("Chain", "partial", 0.2);
    let body = (await m.scrape()).body;
    expect(sampleOf(body, "graphql_operations_total", { operation: "Chain", outcome: "ok" })).toBe(1);
    expect(sampleOf(body, "graphql_operations_total", { operation: "Chain", outcome: "partial" })).toBe(1);
    m.observeOperation("Chain", "ok", 0.03);
    body = (await m.scrape()).body;
    expect(sampleOf(body, "graphql_operations_total", { operation: "Chain", outcome: "ok" })).toBe(2);
    expect(sampleOf(body, "graphql_operation_duration_seconds_count", { operation: "Chain", outcome: "ok" })).toBe(2);
    expect(sampleOf(body, "graphql_operation_duration_seconds_sum", { operation: "Chain", outcome: "ok" })).toBeCloseTo(0.05);
    m.observeOperation("Chain", "ok", 0.04);
    m.registry.resetMetrics();
    m.observeOperation("Chain", "ok", 0.5);
    body = (await m.scrape()).body;
    expect(sampleOf(body, "graphql_operations_total", { operation: "Chain", outcome: "ok" })).toBe(1);
    expect(sampleOf(body, "graphql_operations_total", { operation: "Chain", outcome: "partial" })).toBeUndefined();
    expect(sampleOf(body, "graphql_operation_duration_seconds_count", { operation: "Chain", outcome: "ok" })).toBe(1);
    expect(sampleOf(body, "graphql_operation_duration_seconds_bucket", { operation: "Chain", outcome: "ok", le: "0.25" })).toBe(0);
    expect(sampleOf(body, "graphql_operation_duration_seconds_bucket", { operation: "Chain", outcome: "ok", le: "0.5" })).toBe(1);
  });

  it("adds process and Node.js metrics only when asked", async () => {
    expect((await createMetrics().scrape()).body).not.toContain("process_cpu_seconds_total");
    expect((await createMetrics({ processMetrics: true }).scrape()).body).toContain("process_cpu_seconds_total");
  });
});
