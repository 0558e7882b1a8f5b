import { afterEach, describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { QuotaLimiter } from "../../src/upstream/quotaLimiter.js";
import { QuotaWaitExceededError } from "../../src/upstream/quotaWaitExceeded.js";
import type { Clock } from "../../src/upstream/clock.js";
import type { QuotaScope } from "../../src/upstream/upstream.js";
import { startStack, type Stack } from "../support/stack.js";
import { ManualClock } from "./manualClock.js";

const I = DEMO.instanceId;
const scope: QuotaScope = { api: "DescribeContact", region: "us-east-1", identity: "AKIAEXAMPLE" };
const CONTACT = `query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id } }`;
const CONTACTS = `query ($i: ID!, $ids: [ID!]!) { contacts(instanceId: $i, contactIds: $ids) { id } }`;

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

/** `count` distinct contact ids of the main instance, the well-known demo contacts excluded. */
function contactIds(s: Stack, count: number): string[] {
  const ids = [...s.emulator.dataset.instances.get(I)!.contacts.keys()].filter((id) => !Object.values(DEMO).includes(id as never));
  expect(ids.length).toBeGreaterThanOrEqual(count);
  return ids.slice(0, count);
}

/** A limiter on a manual clock, and `acquire` calls that record the clock's time when each is granted. */
function limiterOnClock(options: { rps: number; burst: number; maxWaitMs?: number }) {
  const clock = new ManualClock();
  const limiter = new QuotaLimiter({ maxWaitMs: 10_000, ...options, clock });
  const grantedAt: number[] = [];
  const acquire = (deadline?: number, on: QuotaScope = scope) =>
    limiter.acquire(on, deadline).then(() => {
      grantedAt.push(clock.monotonic());
    });
  return { clock, limiter, grantedAt, acquire };
}

// The limiter's own schedule, on a manual clock: every wait is exact and none is slept.
describe("QuotaLimiter", () => {
  it("grants the usable burst at once and refuses, without booking, a call that would have to wait", async () => {
    // 15 burst at 10/s: 3 tokens (10/s × 300 ms of slack) are held back for late arrivals.
    const { clock, limiter } = limiterOnClock({ rps: 10, burst: 15 });
    const now = clock.monotonic();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => limiter.acquire(scope, now)));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(12);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(refused).toHaveLength(8);
    expect(refused[0]!.reason).toBeInstanceOf(QuotaWaitExceededError);
    expect(limiter.stats).toEqual({ sharedGrants: 0, localGrants: 12, refused: 8, rebooked: 0 });
  });

  it("keeps one bucket per credentials, region and API", async () => {
    const { clock, limiter } = limiterOnClock({ rps: 1, burst: 1 });
    const now = clock.monotonic();
    await limiter.acquire(scope, now);
    await limiter.acquire({ ...scope, region: "eu-west-2" }, now);
    await limiter.acquire({ ...scope, identity: "AKIAOTHER" }, now);
    await limiter.acquire({ ...scope, api: "DescribeQueue" }, now);
    await expect(limiter.acquire(scope, now)).rejects.toBeInstanceOf(QuotaWaitExceededError);
  });

  it("after the usable burst, grants one call every 1/rps, in arrival order, each when its booked time comes", async () => {
    const { clock, grantedAt, acquire } = limiterOnClock({ rps: 10, burst: 15 });
    const calls = Array.from({ length: 20 }, () => acquire());
    await clock.advance(0);
    expect(grantedAt).toEqual(Array(12).fill(0));
    await clock.advance(99);
    expect(grantedAt).toHaveLength(12);
    await clock.advance(1);
    expect(grantedAt).toHaveLength(13);
    await clock.advance(700);
    await Promise.all(calls);
    expect(grantedAt.slice(12)).toEqual([100, 200, 300, 400, 500, 600, 700, 800]);
    // In any second, at most the usable burst plus the rate: what Connect's bucket of 15 allows.
    expect(grantedAt.filter((t) => t < 1000).length).toBeLessThanOrEqual(15 + 10);
  });

  it("with a burst too small to hold tokens back, spaces calls by 1/rps plus the slack", async () => {
    const { clock, grantedAt, acquire } = limiterOnClock({ rps: 1, burst: 1 });
    const calls = [acquire(), acquire(), acquire()];
    await clock.advance(2600);
    await Promise.all(calls);
    expect(grantedAt).toEqual([0, 1300, 2600]);
  });

  it("refuses at once a call whose turn would come after its deadline, booking nothing: the next call gets that turn", async () => {
    const { clock, limiter, grantedAt, acquire } = limiterOnClock({ rps: 10, burst: 15 });
    await Promise.all(Array.from({ length: 12 }, () => acquire()));
    await expect(acquire(clock.monotonic() + 99)).rejects.toBeInstanceOf(QuotaWaitExceededError);
    const next = acquire();
    await clock.advance(100);
    await next;
    expect(grantedAt.at(-1)).toBe(100);
    expect(limiter.stats).toMatchObject({ localGrants: 13, refused: 1 });
  });

  it("books a new turn for a call woken more than half the slack after its own, rather than send it bunched with later ones", async () => {
    const clock = new ManualClock();
    // An event loop too busy to wake sleepers on time: every sleep ends 200 ms late (slack 300 ms).
    const late: Clock = { now: () => clock.now(), monotonic: () => clock.monotonic(), timer: (ms, f) => clock.timer(ms, f), sleep: (ms) => clock.sleep(ms + 200) };
    const limiter = new QuotaLimiter({ rps: 10, burst: 15, maxWaitMs: 10_000, clock: late });
    await Promise.all(Array.from({ length: 12 }, () => limiter.acquire(scope)));
    const woken = limiter.acquire(scope);
    await clock.advance(300);
    await woken;
    expect(limiter.stats).toEqual({ sharedGrants: 0, localGrants: 14, refused: 0, rebooked: 1 });
  });
});

/** Whether `times` (ms, sorted) conform to a token bucket of `rps` per second holding `burst`. */
function conformsToBucket(times: number[], rps: number, burst: number): boolean {
  const sorted = [...times].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i++) {
    for (let j = i; j < sorted.length; j++) if (j - i + 1 > burst + ((sorted[j]! - sorted[i]!) * rps) / 1000 + 1e-9) return false;
  }
  return true;
}

/** A limiter on a manual clock, and calls for named shares recording when and in what order each share's calls are granted. */
function sharedLimiter(options: { rps: number; burst: number; maxWaitMs?: number }) {
  const clock = new ManualClock();
  const limiter = new QuotaLimiter({ maxWaitMs: 10_000, ...options, clock });
  const granted: Array<{ share: string; n: number; at: number }> = [];
  const sent = new Map<string, number>();
  /** One call for `share`: resolves to whether it was granted (a refusal is an outcome, not an error). */
  const call = (share: string, deadline?: number): Promise<"granted" | "refused"> => {
    const n = sent.get(share) ?? 0;
    sent.set(share, n + 1);
    return limiter.acquire(scope, deadline, share).then(
      () => {
        granted.push({ share, n, at: clock.monotonic() });
        return "granted" as const;
      },
      (error: unknown) => {
        expect(error).toBeInstanceOf(QuotaWaitExceededError);
        return "refused" as const;
      },
    );
  };
  const of = (share: string) => granted.filter((g) => g.share === share);
  return { clock, limiter, granted, call, of };
}

// Fair shares: each caller (token subject, hashed) books only a little ahead of now, so another
// caller's call lands behind at most that, not behind the whole of a flood.
describe("QuotaLimiter, between callers", () => {
  it("refuses a call still waiting in its caller's line when its deadline comes, however slowly Redis answers the calls ahead of it", async () => {
    const clock = new ManualClock();
    // A Redis that grants every booking at once, but answers each after 450 ms (inside REDIS_TIMEOUT_MS).
    const slowRedis = {
      available: true,
      run: (op: (client: unknown) => Promise<unknown>) => op({ eval: async () => (await clock.sleep(450), [1, 0, 1, 0]) }),
    };
    const limiter = new QuotaLimiter({ rps: 10, burst: 15, maxWaitMs: 10_000, clock, redis: slowRedis as never });
    const deadline = clock.monotonic() + 2_000;
    const settled: Array<{ outcome: "granted" | "refused"; at: number }> = [];
    const calls = Array.from({ length: 10 }, () =>
      limiter.acquire(scope, deadline, "p:one").then(
        () => void settled.push({ outcome: "granted", at: clock.monotonic() }),
        (error: unknown) => {
          expect(error).toBeInstanceOf(QuotaWaitExceededError);
          settled.push({ outcome: "refused", at: clock.monotonic() });
        },
      ),
    );
    await clock.advance(6_000);
    await Promise.all(calls);
    expect(settled.filter((s) => s.outcome === "granted").length).toBeGreaterThan(0);
    expect(settled.filter((s) => s.outcome === "refused").length).toBeGreaterThan(0);
    // Every call settled by its deadline, plus at most the one Redis round trip it was in.
    expect(Math.max(...settled.map((s) => s.at))).toBeLessThanOrEqual(deadline + 450);
  });

  it("grants a light caller's call within the look-ahead plus one slot per busy caller, while a flooding caller has 90 calls waiting", async () => {
    const { clock, limiter, call, of } = sharedLimiter({ rps: 10, burst: 15 });
    // The look-ahead is half the slack: 150 ms.
    expect(limiter.aheadMs).toBe(150);
    const flood = Array.from({ length: 90 }, () => call("p:flood"));
    await clock.advance(2000);
    // The burst and 20 slots have gone to the flood; 58 of its calls still wait.
    expect(of("p:flood")).toHaveLength(12 + 20);
    const light = call("p:light");
    await clock.advance(400);
    expect(of("p:light")).toHaveLength(1);
    await light;
    // In arrival order it would have come after the 58: 5.8 s from now.
    expect(of("p:light")[0]!.at - 2000).toBeLessThanOrEqual(150 + 2 * 100);
    await clock.advance(10_000);
    // 90 calls fit in 10 s even at half the rate for a moment: none of the flood was refused.
    expect(await Promise.all(flood)).toEqual(Array(90).fill("granted"));
  });

  it("splits the rate evenly between two callers that both ask more than the quota, each caller's calls in arrival order, and the total inside the bucket", async () => {
    const { clock, granted, call, of } = sharedLimiter({ rps: 10, burst: 15 });
    const calls = [...Array.from({ length: 60 }, () => call("p:a")), ...Array.from({ length: 60 }, () => call("p:b"))];
    await clock.advance(10_000);
    await Promise.all(calls);
    const within = (share: string, from: number, to: number) => of(share).filter((g) => g.at >= from && g.at < to).length;
    // After the first caller's head start (the burst, and its look-ahead), one slot each in turn.
    expect(within("p:a", 1000, 7000)).toBe(30);
    expect(within("p:b", 1000, 7000)).toBe(30);
    for (const share of ["p:a", "p:b"]) expect(of(share).map((g) => g.n)).toEqual(of(share).map((_, i) => i));
    expect(conformsToBucket(granted.map((g) => g.at), 10, 15)).toBe(true);
  });

  it("still gives one caller alone the whole usable burst at once and then the whole rate", async () => {
    const { clock, call, of } = sharedLimiter({ rps: 10, burst: 15 });
    const calls = Array.from({ length: 42 }, () => call("p:alone"));
    await clock.advance(3000);
    await Promise.all(calls);
    expect(of("p:alone").map((g) => g.at)).toEqual([...Array(12).fill(0), ...Array.from({ length: 30 }, (_, i) => 100 * (i + 1))]);
  });

  it("gives a flooding caller the whole rate again once the light caller has gone, leaving no slot unused", async () => {
    const { clock, granted, call, of } = sharedLimiter({ rps: 10, burst: 15 });
    const flood = Array.from({ length: 80 }, () => call("p:flood"));
    await clock.advance(1000);
    const light = [call("p:light")];
    await clock.advance(500);
    light.push(call("p:light"));
    await clock.advance(3500);
    expect(of("p:light")).toHaveLength(2);
    await Promise.all(light);
    // 5 s of flood and two light calls: the burst plus 10 a second, every slot taken by someone.
    expect(granted.filter((g) => g.at < 5000 && g.at > 0)).toHaveLength(49);
    expect(of("p:flood").filter((g) => g.at > 2000 && g.at <= 5000)).toHaveLength(30);
    await clock.advance(10_000);
    await Promise.all(flood);
    expect(conformsToBucket(granted.map((g) => g.at), 10, 15)).toBe(true);
  });

  it("refuses at once, booking nothing, the calls of a flood whose turn would come after CONNECT_MAX_WAIT_MS, as it refused them before there were shares", async () => {
    const { clock, limiter, call } = sharedLimiter({ rps: 10, burst: 15, maxWaitMs: 10_000 });
    const results = Array.from({ length: 200 }, () => call("p:flood"));
    await clock.advance(0);
    // 12 at once and one every 100 ms for 10 s; the other 88 are told now, not after waiting.
    expect(limiter.stats.refused).toBe(88);
    await clock.advance(10_000);
    const outcomes = await Promise.all(results);
    expect(outcomes.filter((o) => o === "granted")).toHaveLength(112);
    expect(outcomes.slice(0, 112).every((o) => o === "granted")).toBe(true);
  });

  it("counts calls made outside any request as one share of their own, the system's", async () => {
    const { clock, limiter, granted, call } = sharedLimiter({ rps: 10, burst: 15 });
    const flood = Array.from({ length: 60 }, () => call("p:flood"));
    await clock.advance(1000);
    // The event relay's refresh: no share given.
    const refresh = limiter.acquire(scope).then(() => granted.push({ share: "system", n: 0, at: clock.monotonic() }));
    await clock.advance(400);
    expect(granted.filter((g) => g.share === "system")).toHaveLength(1);
    await refresh;
    expect(granted.find((g) => g.share === "system")!.at - 1000).toBeLessThanOrEqual(150 + 2 * 100);
    await clock.advance(10_000);
    await Promise.all(flood);
  });
});

// These run against the emulator, which enforces Connect's quota on its own (real) clock, so they
// take the seconds the quota takes.
describe("QuotaLimiter on the process's clock", () => {
  it("keeps a call waiting in its caller's line with CONNECT_MAX_WAIT_MS at its greatest, 2147483647 ms, rather than refuse it at once", async () => {
    // 10/s with a burst of 1: one call every 400 ms (the interval plus the slack). The first goes at
    // once, the second books a slot, the third waits to book (the share is booked ahead), and the
    // fourth waits in line behind it until its deadline plus the look-ahead: past Node's longest
    // timer delay, which the process's clock must not run after 1 ms.
    const limiter = new QuotaLimiter({ rps: 10, burst: 1, maxWaitMs: 2_147_483_647 });
    const calls = Array.from({ length: 4 }, () => limiter.acquire(scope, undefined, "p:one"));
    const outcomes = await Promise.allSettled(calls);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "fulfilled", "fulfilled", "fulfilled"]);
    expect(limiter.stats).toMatchObject({ localGrants: 4, refused: 0 });
  });
});

describe("the gateway under Connect's quota (emulator at 10/s, burst 15)", () => {
  it("answers 100 distinct contacts requested at once with no error, while the emulator sends no 429 and sees at most burst + rate in any second", async () => {
    stack = await startStack({ emulator: { quota: true } });
    const ids = contactIds(stack, 100);
    const responses = await Promise.all(ids.map((c) => stack!.query(CONTACT, { i: I, c })));
    for (const [n, { status, body }] of responses.entries()) {
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data.contact.id).toBe(ids[n]);
    }
    const calls = stack.emulator.calls;
    expect(calls.byApi.DescribeContact).toBe(100);
    expect(calls.throttled).toBe(0);
    expect(calls.maxPerSecondByApi.DescribeContact).toBeLessThanOrEqual(15 + 10);
  });

  it("retries injected 5xx answers, each retry inside the quota, until every query succeeds", async () => {
    stack = await startStack({ emulator: { quota: true, failures: { rate: 0.2, status: 500, seed: 7 } }, env: { CONNECT_MAX_ATTEMPTS: "8" } });
    stack.emulator.failNext(5, 503);
    const ids = contactIds(stack, 30);
    const { body } = await stack.query(CONTACTS, { i: I, ids });
    expect(body.errors).toBeUndefined();
    expect(body.data.contacts.map((c: { id: string }) => c.id)).toEqual(ids);
    const calls = stack.emulator.calls;
    expect(calls.injectedFailures).toBeGreaterThanOrEqual(5);
    expect(calls.byApi.DescribeContact).toBe(30 + calls.injectedFailures);
    expect(calls.throttled).toBe(0);
  });

  it("retries a 429 from Connect with back-off", async () => {
    stack = await startStack();
    stack.emulator.failNext(2, 429);
    const { body } = await stack.query(CONTACT, { i: I, c: DEMO.fullContactId });
    expect(body.errors).toBeUndefined();
    expect(stack.describeContactCalls()).toBe(3);
  });

  it("does not retry a 4xx answer", async () => {
    stack = await startStack();
    stack.emulator.failNext(1, 400);
    const { body } = await stack.query(CONTACT, { i: I, c: DEMO.fullContactId });
    expect(body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(stack.describeContactCalls()).toBe(1);
  });

  it("gives up after CONNECT_MAX_ATTEMPTS timed-out attempts with UPSTREAM_ERROR saying Connect did not answer in time", async () => {
    stack = await startStack({ emulator: { latencyMs: 1000 }, env: { CONNECT_REQUEST_TIMEOUT_MS: "100", CONNECT_MAX_ATTEMPTS: "2" } });
    const { body } = await stack.query(CONTACT, { i: I, c: DEMO.fullContactId });
    expect(body.data.contact).toBeNull();
    expect(body.errors?.[0]?.extensions?.code).toBe("UPSTREAM_ERROR");
    expect(body.errors?.[0]?.message).toMatch(/did not answer in time/);
    expect(stack.describeContactCalls()).toBe(2);
  });

  it("fails calls that would wait longer than CONNECT_MAX_WAIT_MS with UPSTREAM_THROTTLED at once, without calling upstream for them", async () => {
    stack = await startStack({ env: { CONNECT_MAX_RPS: "10", CONNECT_BURST: "3", CONNECT_MAX_WAIT_MS: "500" } });
    const ids = contactIds(stack, 5);
    const { body } = await stack.query(CONTACTS, { i: I, ids });
    // A burst of 3 at 10/s is all held back as slack (300 ms), so calls go out 400 ms apart: the
    // first two fit in 0.5 s.
    expect(body.data.contacts.filter(Boolean)).toHaveLength(2);
    const throttled = body.errors!.filter((e) => e.extensions?.code === "UPSTREAM_THROTTLED");
    expect(throttled).toHaveLength(3);
    expect(throttled[0]!.message).toMatch(/quota/);
    expect(stack.describeContactCalls()).toBe(2);
  });
});
