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

// These run against the emulator, which enforces Connect's quota on its own (real) clock, so they
// take the seconds the quota takes.
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
