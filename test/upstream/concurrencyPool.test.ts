import { describe, expect, it } from "vitest";
import { ConcurrencyPool } from "../../src/upstream/concurrencyPool.js";
import { QuotaWaitExceededError } from "../../src/upstream/quotaWaitExceeded.js";
import { ManualClock } from "./manualClock.js";

/** A pool on a manual clock, and calls that stay in flight until released, recording their order. */
function poolWithCalls(slots: number, maxWaitMs: number) {
  const clock = new ManualClock();
  const refusals: Array<[string, number, string]> = [];
  const pool = new ConcurrencyPool({ slots, maxWaitMs, clock, observeWait: (api, seconds, outcome) => refusals.push([api, seconds, outcome]) });
  const started: string[] = [];
  const releases = new Map<string, () => void>();
  const call = (name: string, api = "DescribeContact") =>
    pool.run(api, (deadline) => {
      started.push(name);
      return new Promise<string>((resolve) => releases.set(name, () => resolve(`${name} done by ${deadline}`)));
    });
  const release = (name: string) => releases.get(name)!();
  return { clock, pool, refusals, started, call, release };
}

/** A pool on a manual clock, and calls for named shares that stay in flight until released, recording the order they start in. */
function sharedPool(slots: number) {
  const clock = new ManualClock();
  const pool = new ConcurrencyPool({ slots, maxWaitMs: 10_000, clock });
  const started: string[] = [];
  const running = new Map<string, () => void>();
  const call = (share: string, name: string) =>
    pool.runFor(share, "DescribeContact", () => {
      started.push(name);
      return new Promise<void>((resolve) => running.set(name, resolve));
    });
  /** Ends the call named `name`, or the one running longest. */
  const releaseOldest = (name = running.keys().next().value) => {
    running.get(name!)!();
    running.delete(name!);
  };
  /** Ends calls, oldest first, until none is running or waiting. */
  const releaseAll = async () => {
    while (running.size > 0) {
      releaseOldest();
      await clock.advance(0);
    }
  };
  return { clock, pool, started, call, releaseOldest, releaseAll };
}

describe("ConcurrencyPool", () => {
  it("runs at most `slots` calls at once, the others in arrival order as slots free up", async () => {
    const { clock, pool, started, call, release } = poolWithCalls(2, 10_000);
    const calls = ["a", "b", "c", "d"].map((name) => call(name));
    await clock.advance(0);
    expect(started).toEqual(["a", "b"]);
    expect([pool.active, pool.waiting]).toEqual([2, 2]);
    release("b");
    await clock.advance(0);
    expect(started).toEqual(["a", "b", "c"]);
    release("a");
    release("c");
    await clock.advance(0);
    release("d");
    expect(await Promise.all(calls)).toHaveLength(4);
    expect([pool.active, pool.waiting]).toEqual([0, 0]);
  });

  it("refuses a call still waiting after CONNECT_MAX_WAIT_MS, without running it, and counts the refusal with its API", async () => {
    const { clock, pool, refusals, started, call, release } = poolWithCalls(1, 500);
    const first = call("first");
    const queued = call("queued", "SearchContacts");
    const refused = expect(queued).rejects.toBeInstanceOf(QuotaWaitExceededError);
    await clock.advance(499);
    expect(pool.waiting).toBe(1);
    await clock.advance(1);
    await refused;
    expect(pool.waiting).toBe(0);
    release("first");
    await first;
    expect(started).toEqual(["first"]);
    expect(refusals).toEqual([["SearchContacts", 0.5, "rejected"]]);
    expect(pool.stats.refused).toBe(1);
  });

  it("with CONNECT_MAX_WAIT_MS=0, runs a call at once while a slot is free and refuses one at once when none is", async () => {
    const { pool, refusals, call, release } = poolWithCalls(1, 0);
    const first = call("first");
    await expect(call("second", "DescribeQueue")).rejects.toBeInstanceOf(QuotaWaitExceededError);
    release("first");
    await first;
    expect(refusals).toEqual([["DescribeQueue", 0, "rejected"]]);
    expect(pool.active).toBe(0);
  });

  it("hands each call the deadline its first attempt must meet: its arrival plus CONNECT_MAX_WAIT_MS, the wait for a slot included", async () => {
    const { clock, call, release } = poolWithCalls(1, 1000);
    const first = call("first");
    await clock.advance(300);
    const second = call("second");
    await clock.advance(200);
    release("first");
    await clock.advance(0);
    release("second");
    expect(await first).toBe("first done by 1000");
    expect(await second).toBe("second done by 1300");
  });

  it("hands freed slots to waiting callers in turn, each caller's calls in arrival order", async () => {
    const { clock, started, call, releaseAll } = sharedPool(2);
    const calls = [...[0, 1, 2, 3, 4].map((n) => call("p:a", `a${n}`)), ...[0, 1, 2, 3, 4].map((n) => call("p:b", `b${n}`))];
    await clock.advance(0);
    expect(started).toEqual(["a0", "a1"]);
    await releaseAll();
    await Promise.all(calls);
    expect(started).toEqual(["a0", "a1", "b0", "a2", "b1", "a3", "b2", "a4", "b3", "b4"]);
  });

  it("keeps the last free slot for another caller while one caller holds the others, so the other's call starts at once", async () => {
    const { clock, pool, started, call, releaseOldest, releaseAll } = sharedPool(3);
    const flood = Array.from({ length: 10 }, (_, n) => call("p:flood", `flood ${n}`));
    await clock.advance(0);
    expect(started).toEqual(["flood 0", "flood 1", "flood 2"]);
    // A light caller asks while the flood holds every slot: it has the first slot freed.
    const light = call("p:light", "light");
    releaseOldest();
    await clock.advance(0);
    expect(started.at(-1)).toBe("light");
    // Its call done, the slot stays free for it (or anyone but the flood) while it is active...
    releaseOldest("light");
    await light;
    await clock.advance(0);
    expect([pool.active, pool.waiting]).toEqual([2, 7]);
    const again = call("p:light", "light again");
    await clock.advance(0);
    expect(started.at(-1)).toBe("light again");
    releaseOldest("light again");
    await again;
    // ...and goes back to the flood once the light caller has been quiet for a second.
    await clock.advance(999);
    expect(pool.active).toBe(2);
    await clock.advance(1001);
    expect([pool.active, pool.waiting]).toEqual([3, 6]);
    await releaseAll();
    await Promise.all(flood);
  });

  it("gives a caller the slot it was kept from once the other caller has been quiet for a second, even with nothing finishing meanwhile", async () => {
    const { clock, pool, started, call, releaseOldest, releaseAll } = sharedPool(2);
    const long = call("p:a", "a long");
    const brief = call("p:b", "b brief");
    await clock.advance(0);
    releaseOldest("b brief");
    await brief;
    await clock.advance(10);
    // One slot free, p:a holds the other and p:b asked 10 ms ago: p:a's next call waits for it...
    const next = call("p:a", "a next");
    await clock.advance(0);
    expect([pool.active, pool.waiting]).toEqual([1, 1]);
    // ...and starts once p:b has been quiet for a second, although "a long" is still running.
    await clock.advance(1_000);
    expect(started.at(-1)).toBe("a next");
    expect(pool.stats.refused).toBe(0);
    await releaseAll();
    await Promise.all([long, next]);
  });

  it("forgets callers that have been quiet for a second, however many there were", async () => {
    const { clock, pool, call, releaseAll } = sharedPool(2);
    for (let n = 0; n < 1_000; n++) {
      const one = call(`p:${n}`, `caller ${n}`);
      await releaseAll();
      await one;
    }
    await clock.advance(1_001);
    await Promise.all([call("p:last", "last"), releaseAll()]);
    expect((pool as unknown as { asked: Map<string, number> }).asked.size).toBeLessThanOrEqual(1);
  });

  it("lets one caller alone hold every slot", async () => {
    const { clock, pool, call, releaseOldest, releaseAll } = sharedPool(3);
    const calls = Array.from({ length: 4 }, (_, n) => call("p:alone", `call ${n}`));
    await clock.advance(0);
    expect([pool.active, pool.waiting]).toEqual([3, 1]);
    releaseOldest();
    await clock.advance(0);
    expect([pool.active, pool.waiting]).toEqual([3, 0]);
    await releaseAll();
    await Promise.all(calls);
  });

  it("frees the slot of a call that failed", async () => {
    const clock = new ManualClock();
    const pool = new ConcurrencyPool({ slots: 1, maxWaitMs: 0, clock });
    await expect(pool.run("DescribeContact", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await pool.run("DescribeContact", async () => "next")).toBe("next");
  });
});
