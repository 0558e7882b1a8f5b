import { describe, expect, it } from "vitest";
import { ENTRY_OVERHEAD_BYTES, TieredCache, type FreshnessPolicy } from "../../src/upstream/tieredCache.js";
import { ManualClock } from "./manualClock.js";

/** A value that says how long it may be cached, so the policy is visible in each spec. */
interface Item {
  name: string;
  ttl: number;
  when?: Date;
}

const byItem: FreshnessPolicy<Item> = { ttlSeconds: (item) => item.ttl, negativeTtlSeconds: 10 };

/** A cache on a manual clock, and a load per key that records its calls and answers from `answers`. */
function cacheWithLoads(freshness: FreshnessPolicy<Item> = byItem) {
  const clock = new ManualClock();
  const cache = new TieredCache<Item>({ name: "item", freshness, maxEntries: 100, maxBytes: 1 << 20, clock });
  const answers = new Map<string, Item | Error>();
  const loads: string[] = [];
  let gate: Promise<void> | undefined;
  const load = (key: string) => async () => {
    loads.push(key);
    const answer = answers.get(key);
    if (gate) await gate;
    if (answer instanceof Error) throw answer;
    if (!answer) throw Object.assign(new Error(`${key} not found`), { name: "ResourceNotFoundException" });
    return { ...answer };
  };
  const read = (key: string, noCache = false) => cache.read(key, load(key), { noCache });
  /** Loads started from now on wait until the returned function is called. */
  const hold = () => {
    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    return () => {
      gate = undefined;
      release();
    };
  };
  return { clock, cache, answers, loads, read, hold };
}

describe("TieredCache", () => {
  it("serves a value from process for the TTL its policy gives that value, then loads it again", async () => {
    const { clock, answers, loads, read } = cacheWithLoads();
    answers.set("queue/us-east-1/q-1", { name: "short", ttl: 5 });
    answers.set("user:any string at all", { name: "long", ttl: 60 });
    await read("queue/us-east-1/q-1");
    await read("user:any string at all");
    await clock.advance(4_999);
    await read("queue/us-east-1/q-1");
    await read("user:any string at all");
    expect(loads).toEqual(["queue/us-east-1/q-1", "user:any string at all"]);
    await clock.advance(1);
    await read("queue/us-east-1/q-1");
    await read("user:any string at all");
    expect(loads).toEqual(["queue/us-east-1/q-1", "user:any string at all", "queue/us-east-1/q-1"]);
  });

  it("hands every reader the one object it holds, Dates as Dates", async () => {
    const { answers, read } = cacheWithLoads();
    answers.set("a", { name: "a", ttl: 60, when: new Date(1_700_000_000_000) });
    const first = await read("a");
    expect(await read("a")).toBe(first);
    expect(first.when).toBeInstanceOf(Date);
  });

  it("remembers a not-found answer for the negative TTL, rethrowing ResourceNotFoundException, and never caches another error", async () => {
    const { clock, answers, loads, read } = cacheWithLoads();
    answers.set("broken", Object.assign(new Error("boom"), { name: "InternalServiceException" }));
    await expect(read("missing")).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(read("missing")).rejects.toMatchObject({ name: "ResourceNotFoundException", $metadata: { httpStatusCode: 404 } });
    await expect(read("broken")).rejects.toThrow("boom");
    await expect(read("broken")).rejects.toThrow("boom");
    expect(loads).toEqual(["missing", "broken", "broken"]);
    await clock.advance(10_000);
    await expect(read("missing")).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    expect(loads).toEqual(["missing", "broken", "broken", "missing"]);
  });

  it("shares one load between concurrent reads of a key", async () => {
    const { answers, loads, read, hold } = cacheWithLoads();
    answers.set("a", { name: "a", ttl: 60 });
    const release = hold();
    const reads = Array.from({ length: 5 }, () => read("a"));
    release();
    const values = await Promise.all(reads);
    expect(new Set(values).size).toBe(1);
    expect(loads).toEqual(["a"]);
  });

  it("with noCache, loads again, shares nothing started earlier, and holds its answer, which no earlier load overwrites", async () => {
    const { clock, answers, loads, read, hold } = cacheWithLoads();
    answers.set("a", { name: "old", ttl: 60 });
    const release = hold();
    const older = read("a");
    await clock.advance(0); // the older load has begun
    answers.set("a", { name: "new", ttl: 60 });
    const refreshed = read("a", true);
    const joined = read("a");
    release();
    expect((await older).name).toBe("old");
    expect((await refreshed).name).toBe("new");
    expect(await joined).toBe(await refreshed);
    expect((await read("a")).name).toBe("new");
    expect(loads).toEqual(["a", "a"]);
  });

  it("set holds a value in place of the cached one, for its TTL, and a load in flight does not overwrite it", async () => {
    const { clock, cache, answers, loads, read, hold } = cacheWithLoads();
    answers.set("a", { name: "read", ttl: 60 });
    await read("a");
    await cache.set("a", { name: "set", ttl: 5 });
    expect((await read("a")).name).toBe("set");
    await clock.advance(5_000);
    const release = hold();
    const inFlight = read("a");
    await cache.set("a", { name: "set again", ttl: 60 });
    release();
    expect((await inFlight).name).toBe("read");
    expect((await read("a")).name).toBe("set again");
    expect(loads).toEqual(["a", "a"]);
  });

  it("set with a value its policy gives no TTL drops the cached copy", async () => {
    const { cache, answers, loads, read } = cacheWithLoads();
    answers.set("a", { name: "read", ttl: 60 });
    await read("a");
    await cache.set("a", { name: "uncacheable", ttl: 0 });
    expect((await read("a")).name).toBe("read");
    expect(loads).toEqual(["a", "a"]);
  });

  it("delete and deleteLocal drop a key, so the next read loads it, and a load in flight stores nothing", async () => {
    const { cache, answers, loads, read, hold } = cacheWithLoads();
    answers.set("a", { name: "a", ttl: 60 });
    await read("a");
    await cache.delete("a");
    await read("a");
    cache.deleteLocal("a");
    const release = hold();
    const inFlight = read("a");
    cache.deleteLocal("a");
    release();
    await inFlight;
    await read("a");
    expect(loads).toEqual(["a", "a", "a", "a"]);
  });

  it("turned off by its policy, holds nothing and still shares one load between concurrent reads", async () => {
    const { cache, answers, loads, read, hold } = cacheWithLoads({ ...byItem, enabled: false });
    answers.set("a", { name: "a", ttl: 60 });
    const release = hold();
    const reads = [read("a"), read("a")];
    release();
    await Promise.all(reads);
    await expect(read("missing")).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await read("a");
    await expect(read("missing")).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    expect(loads).toEqual(["a", "missing", "a", "missing"]);
    expect(cache.usage()).toEqual({ entries: 0, bytes: 0 });
  });

  it("peek answers a fresh value at once and counts the hit; misses, expired entries, not-found answers and a cache turned off are left to read", async () => {
    const clock = new ManualClock();
    const lookups: string[] = [];
    const cache = new TieredCache<Item>({ name: "item", freshness: byItem, maxEntries: 100, maxBytes: 1 << 20, clock, observeLookup: (result, layer) => lookups.push(`${layer}:${result}`) });
    expect(cache.peek("a")).toBeUndefined();
    const held = await cache.read("a", async () => ({ name: "a", ttl: 5 }));
    await expect(cache.read("gone", async () => Promise.reject(Object.assign(new Error("no"), { name: "ResourceNotFoundException" })))).rejects.toThrow();
    lookups.length = 0;
    expect(cache.peek("a")).toBe(held);
    expect(cache.peek("gone")).toBeUndefined();
    expect(lookups).toEqual(["memory:hit"]);
    await clock.advance(5_000);
    expect(cache.peek("a")).toBeUndefined();
    expect(lookups).toEqual(["memory:hit"]);
    const off = new TieredCache<Item>({ name: "item", freshness: { ...byItem, enabled: false }, maxEntries: 100, maxBytes: 1 << 20 });
    await off.read("a", async () => ({ name: "a", ttl: 60 }));
    expect(off.peek("a")).toBeUndefined();
  });

  it("expiresAt tells when the entry holding the value a read answered expires, and nothing once another value, no entry or an expired one holds the key", async () => {
    const { clock, cache, answers, read } = cacheWithLoads();
    answers.set("a", { name: "A", ttl: 5 });
    const start = clock.now();
    const first = await read("a");
    await clock.advance(2_000);
    expect(cache.expiresAt("a", await read("a"))).toBe(start + 5_000); // a hit: the time left, not a new 5 s
    expect(cache.expiresAt("a", { ...first })).toBeUndefined(); // an equal object is not the one held

    const second = await read("a", true); // re-read: a new entry, a new expiry
    expect(cache.expiresAt("a", second)).toBe(start + 7_000);
    expect(cache.expiresAt("a", first)).toBeUndefined();
    expect(cache.expiresAt("a")).toBeUndefined(); // not a not-found

    await expect(read("missing")).rejects.toThrow();
    expect(cache.expiresAt("missing")).toBe(start + 12_000); // remembered for the negative TTL
    expect(cache.expiresAt("missing", second)).toBeUndefined();

    await clock.advance(5_000);
    expect(cache.expiresAt("a", second)).toBeUndefined();
    expect(cache.expiresAt("never")).toBeUndefined();
  });

  it("charges each entry its JSON plus ENTRY_OVERHEAD_BYTES: a not-found answer the overhead alone, 1,000 more characters 1,000 bytes more", async () => {
    const { cache, answers, read } = cacheWithLoads();
    await expect(read("missing")).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    expect(cache.usage()).toEqual({ entries: 1, bytes: ENTRY_OVERHEAD_BYTES });
    answers.set("a", { name: "a", ttl: 60 });
    answers.set("b", { name: `b${"x".repeat(1000)}`, ttl: 60 });
    await read("a");
    const withA = cache.usage().bytes;
    await read("b");
    expect(cache.usage().bytes - withA - (withA - ENTRY_OVERHEAD_BYTES)).toBe(1000);
  });
});
