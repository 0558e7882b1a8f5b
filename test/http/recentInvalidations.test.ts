import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { RecentInvalidations } from "../../src/http/recentInvalidations.js";
import { createMetrics, type GatewayMetrics } from "../../src/observability/metrics.js";
import { startStack, type Stack } from "../support/stack.js";

/**
 * What the response cache remembers of its invalidations: a response whose operation was running
 * when one of its entities was invalidated is not stored (it may have read the entity before the
 * change), so an invalidation is remembered while a miss that began before it is still running,
 * and no longer. Its memory is what those misses need, at most a sixteenth of
 * `RESPONSE_CACHE_MAX_MB`, not a record of every contact event.
 */

const I = DEMO.instanceId;
const STATE = `query State($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id disconnectTimestamp } }`;
const EVENTS = 100_000;
const MB = 1024 * 1024;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** V8's heap in use after full collections. */
function heapAfterCollections(): number {
  for (let n = 0; n < 3; n++) gc();
  return process.memoryUsage().heapUsed;
}

/** `contactChanged` for `count` distinct contacts (numbered from `from`), as contact events call it. */
function contactEvents(stack: Stack, count: number, from = 0): void {
  for (let n = from; n < from + count; n++) {
    stack.gateway.responseCache!.contactChanged({ region: DEMO.region, instanceId: I, contactId: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}` });
  }
}

async function counted(metrics: GatewayMetrics, result: "store" | "hit"): Promise<number> {
  const { values } = await metrics.registry.getSingleMetric("graphql_response_cache_total")!.get();
  return values.find((v) => v.labels.result === result)?.value ?? 0;
}

let emulator: Emulator;
const open: Stack[] = [];
beforeAll(async () => {
  emulator = await startEmulator({ quota: false });
});
afterEach(async () => {
  emulator.setOptions({ latencyMs: 0 });
  await Promise.all(open.splice(0).map((s) => s.close()));
});
afterAll(() => emulator?.close());

/** A gateway with RESPONSE_CACHE_MAX_MB=1 (a record of at most 327 entities), one response stored, and a miss left running for 1.5 s. */
async function gatewayWithAMissRunning(): Promise<{ stack: Stack; metrics: GatewayMetrics; running: ReturnType<Stack["query"]> }> {
  const metrics = createMetrics();
  const stack = await startStack({ sharedEmulator: emulator, env: { RESPONSE_CACHE_MAX_MB: "1" }, gateway: { metrics } });
  open.push(stack);
  await stack.query(STATE, { i: I, c: DEMO.fullContactId }); // stored; and the gateway's first request has allocated its own things
  emulator.setOptions({ latencyMs: 1500 });
  const running = stack.query(STATE, { i: I, c: DEMO.inProgressContactId });
  await new Promise((resolve) => setTimeout(resolve, 300)); // the miss is waiting for Connect
  return { stack, metrics, running };
}

describe("the response cache's record of invalidations", () => {
  it("holds nothing while no miss is running: 100,000 contact events grow the heap by under a tenth of RESPONSE_CACHE_MAX_MB=1", async () => {
    const metrics = createMetrics();
    const stack = await startStack({ sharedEmulator: emulator, env: { RESPONSE_CACHE_MAX_MB: "1" }, gateway: { metrics } });
    open.push(stack);
    await stack.query(STATE, { i: I, c: DEMO.fullContactId });
    const before = heapAfterCollections();
    contactEvents(stack, EVENTS);
    const grown = heapAfterCollections() - before;
    expect(grown / MB).toBeLessThan(0.1);
    expect(stack.gateway.responseCache!.usage()).toMatchObject({ entries: 1, invalidations: 0 });
  });

  it("remembers what a running miss needs: its contact changing keeps its response from being stored; all is forgotten once it ends", async () => {
    const { stack, metrics, running } = await gatewayWithAMissRunning();
    contactEvents(stack, 300);
    stack.gateway.responseCache!.contactChanged({ region: DEMO.region, instanceId: I, contactId: DEMO.inProgressContactId });
    expect(stack.gateway.responseCache!.usage().invalidations).toBe(301);
    expect((await running).body.errors).toBeUndefined();
    expect(await counted(metrics, "store")).toBe(1); // the first response's alone
    expect(stack.gateway.responseCache!.usage().invalidations).toBe(0);

    emulator.setOptions({ latencyMs: 0 });
    await stack.query(STATE, { i: I, c: DEMO.inProgressContactId });
    expect(await counted(metrics, "store")).toBe(2);
  });

  it("holds at most a sixteenth of RESPONSE_CACHE_MAX_MB however many change while a miss runs, which then stores nothing", async () => {
    const { stack, metrics, running } = await gatewayWithAMissRunning();
    const before = heapAfterCollections();
    const held: number[] = [];
    for (let n = 0; n < 10; n++) {
      contactEvents(stack, EVENTS / 10, n * (EVENTS / 10));
      held.push(stack.gateway.responseCache!.usage().invalidations);
    }
    const grown = heapAfterCollections() - before;
    // 327 entities (1 MB / 16 / 200 bytes) at most; once more changed than that, the miss (begun
    // before the first forgotten) may not store, so nothing is held for it.
    expect(Math.max(...held)).toBeLessThanOrEqual(327);
    expect(grown / MB).toBeLessThan(0.25);
    expect((await running).body.errors).toBeUndefined();
    expect(await counted(metrics, "store")).toBe(1);
  });
});

describe("RecentInvalidations", () => {
  const changed = (record: RecentInvalidations, ...entities: string[]) => record.record(entities);

  it("records nothing while no miss runs, and a miss begun after an invalidation may store", () => {
    const record = new RecentInvalidations(10);
    changed(record, "contact:a");
    const began = record.begin();
    expect(record.size()).toEqual({ records: 0, running: 1 });
    expect(record.mayStore(began, ["contact:a"])).toBe(true);
    record.end(began);
    expect(record.size()).toEqual({ records: 0, running: 0 });
  });

  it("keeps what an older running miss needs when a newer one ends, and forgets it when the older ends", () => {
    const record = new RecentInvalidations(10);
    const older = record.begin();
    changed(record, "contact:a");
    const newer = record.begin();
    changed(record, "contact:b");
    expect(record.mayStore(older, ["contact:a"])).toBe(false);
    expect(record.mayStore(newer, ["contact:a"])).toBe(true);
    expect(record.mayStore(newer, ["contact:b"])).toBe(false);
    record.end(newer);
    expect(record.size()).toEqual({ records: 2, running: 1 });
    expect(record.mayStore(older, ["contact:b"])).toBe(false);
    record.end(older);
    expect(record.size()).toEqual({ records: 0, running: 0 });
  });

  it("forgets, when the older of two ends first, what only it needed", () => {
    const record = new RecentInvalidations(10);
    const older = record.begin();
    changed(record, "contact:a");
    const newer = record.begin();
    changed(record, "contact:b");
    record.end(older);
    expect(record.size()).toEqual({ records: 1, running: 1 });
    expect(record.mayStore(newer, ["contact:a"])).toBe(true);
    expect(record.mayStore(newer, ["contact:b"])).toBe(false);
  });

  it("past its size forgets the oldest; a miss begun before it may not store, one begun after still may", () => {
    const record = new RecentInvalidations(2);
    const first = record.begin();
    changed(record, "contact:a");
    const second = record.begin();
    changed(record, "contact:b");
    changed(record, "contact:c"); // contact:a is forgotten: the first miss might have missed it
    expect(record.size()).toEqual({ records: 2, running: 1 });
    expect(record.mayStore(first, ["queue:q"])).toBe(false);
    expect(record.mayStore(second, ["contact:a"])).toBe(true);
    expect(record.mayStore(second, ["contact:c"])).toBe(false);
    record.end(first); // already forgotten: nothing changes
    expect(record.size()).toEqual({ records: 2, running: 1 });
    record.end(second);
    expect(record.size()).toEqual({ records: 0, running: 0 });
  });

  it("counts several misses begun at the same invalidation, and forgets only when the last of them ends", () => {
    const record = new RecentInvalidations(10);
    const one = record.begin();
    const two = record.begin();
    changed(record, "contact:a");
    record.end(one);
    expect(record.size()).toEqual({ records: 1, running: 1 });
    expect(record.mayStore(two, ["contact:a"])).toBe(false);
    record.end(two);
    expect(record.size()).toEqual({ records: 0, running: 0 });
  });
});
