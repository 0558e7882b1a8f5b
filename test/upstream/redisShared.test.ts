import { createHash, randomUUID } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { QuotaLimiter } from "../../src/upstream/quotaLimiter.js";
import { TieredCache } from "../../src/upstream/tieredCache.js";
import type { QuotaScope } from "../../src/upstream/upstream.js";
import { RedisLink } from "../../src/upstream/redisLink.js";
import { spawnGateway, type GatewayProcess } from "../support/processes.js";
import { deleteKeys, freePort, PrivateRedis, requireSharedRedis, SHARED_REDIS_URL, withRedis } from "../support/redisServer.js";
import type { LogLine } from "../support/loggedGateway.js";
import { startStack } from "../support/stack.js";
import { ManualClock } from "./manualClock.js";

const I = DEMO.instanceId;
const CONTACT = `query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id } }`;
const quiet = pino({ level: "silent" });
/** Every test file and run gets its own keys, so parallel runs never share a bucket or a cache entry. */
const PREFIX = `test-${randomUUID()}:`;

interface Answer {
  status: number;
  body: { data?: any; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as Answer["body"] };
}

/** Distinct contacts of the main instance, the demo ones excluded, handed out once each. */
function contactPool(emulator: Emulator): (count: number) => string[] {
  const ids = [...emulator.dataset.instances.get(I)!.contacts.keys()].filter((id) => !Object.values(DEMO).includes(id as never));
  let next = 0;
  return (count) => {
    const taken = ids.slice(next, next + count);
    next += count;
    expect(taken).toHaveLength(count);
    return taken;
  };
}

/** A gateway process in emulator mode, reading the shared emulator, sharing `redisUrl` under `prefix`. */
function gatewayProcess(emulator: Emulator, redisUrl: string, prefix: string): Promise<GatewayProcess> {
  return spawnGateway({ CONNECT_MODE: "emulator", EMULATOR_URL: emulator.url, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, LOG_LEVEL: "info" });
}

beforeAll(requireSharedRedis);
afterAll(() => deleteKeys(SHARED_REDIS_URL, PREFIX));

// Real time: shared bookings are made on Redis's clock (its TIME), and the outage is a real Redis
// server stopping and starting; the limiter's own schedule is specified on a manual clock in
// quotaLimiter.test.ts.
describe("the quota limiter on Redis", () => {
  const scope: QuotaScope = { api: "DescribeContact", region: "us-east-1", identity: `AKIA${randomUUID()}` };

  it("shares one bucket between replicas: two limiters together get the usable burst once", async () => {
    const links = [0, 1].map(() => new RedisLink({ url: SHARED_REDIS_URL, timeoutMs: 500, logger: quiet }));
    try {
      await expect.poll(() => links.every((l) => l.available)).toBe(true);
      const [a, b] = links.map((redis) => new QuotaLimiter({ rps: 10, burst: 15, maxWaitMs: 10_000, redis, keyPrefix: PREFIX }));
      const now = performance.now();
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, n) => (n % 2 ? a! : b!).acquire(scope, now)));
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(12);
      expect(a!.stats.sharedGrants + b!.stats.sharedGrants).toBe(12);
      expect(a!.stats.localGrants + b!.stats.localGrants).toBe(0);
    } finally {
      await Promise.all(links.map((l) => l.close()));
    }
  });

  it("holds a caller flooding through two replicas to its fair share across both: a light caller's call on either gets a slot within the look-ahead", async () => {
    const fair: QuotaScope = { ...scope, identity: `AKIA${randomUUID()}` };
    const links = [0, 1].map(() => new RedisLink({ url: SHARED_REDIS_URL, timeoutMs: 500, logger: quiet }));
    try {
      await expect.poll(() => links.every((l) => l.available)).toBe(true);
      const [a, b] = links.map((redis) => new QuotaLimiter({ rps: 10, burst: 15, maxWaitMs: 10_000, redis, keyPrefix: PREFIX })) as [QuotaLimiter, QuotaLimiter];
      const started = performance.now();
      const sentAt: number[] = [];
      const grant = (limiter: QuotaLimiter, share: string) => limiter.acquire(fair, undefined, share).then(() => performance.now() - started);
      // 40 calls of one caller through each replica: in arrival order, the last would go out after 6.8 s.
      const flood = Array.from({ length: 80 }, (_, n) => grant(n % 2 ? a : b, "p:flood").then((at) => sentAt.push(at)));
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const lightOnA = grant(a, "p:light");
      const lightOnB = grant(b, "p:other");
      const waited = (await Promise.all([lightOnA, lightOnB])).map((at) => at - 1000);
      // The look-ahead (150 ms), one slot per busy caller, and the timers' and Redis's own delays.
      for (const ms of waited) expect(ms).toBeLessThan(150 + 3 * 100 + 150);
      await Promise.all(flood);
      // Both replicas' bookings came from Redis, as one schedule: the usable burst once, then 10/s.
      expect(a.stats.sharedGrants + b.stats.sharedGrants).toBe(82);
      expect(sentAt.filter((at) => at < 1000 - 50).length).toBeLessThanOrEqual(12 + 10);
    } finally {
      await Promise.all(links.map((l) => l.close()));
    }
  });

  it("books from the replica's own share, starting empty, while Redis is down, and from Redis again once it is back", async () => {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    const lines: string[] = [];
    const logger = pino({ level: "info" }, { write: (line: string) => lines.push(line) });
    const link = new RedisLink({ url: redis.url, timeoutMs: 200, logger });
    try {
      await expect.poll(() => link.available).toBe(true);
      const limiter = new QuotaLimiter({ rps: 10, burst: 15, maxWaitMs: 10_000, redis: link, keyPrefix: PREFIX });
      await limiter.acquire(scope);
      expect(limiter.stats.sharedGrants).toBe(1);

      await redis.stop();
      await expect.poll(() => link.available).toBe(false);
      // Starting empty: a call that may not wait at all is refused, one that may wait is granted locally.
      await expect(limiter.acquire(scope, performance.now())).rejects.toThrow();
      await limiter.acquire(scope);
      expect(limiter.stats.localGrants).toBe(1);

      await redis.start();
      await expect.poll(() => link.available, { timeout: 5000 }).toBe(true);
      await limiter.acquire(scope);
      expect(limiter.stats.sharedGrants).toBe(2);
      const messages = lines.map((l) => JSON.parse(l).msg as string);
      expect(messages.filter((m) => m.startsWith("Redis unavailable"))).toHaveLength(1);
      expect(messages.filter((m) => m.startsWith("Redis is back"))).toHaveLength(1);
    } finally {
      await link.close();
      await redis.stop();
    }
  });

  it("restarts a bucket that Redis lost in a restart empty, though no call booked anything while it was down", async () => {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    const link = new RedisLink({ url: redis.url, timeoutMs: 200, logger: quiet });
    try {
      await expect.poll(() => link.available).toBe(true);
      const limiter = new QuotaLimiter({ rps: 10, burst: 15, maxWaitMs: 10_000, redis: link, keyPrefix: PREFIX });
      const atOnce = async (count: number) => {
        const now = performance.now();
        const results = await Promise.allSettled(Array.from({ length: count }, () => limiter.acquire(scope, now)));
        return results.filter((r) => r.status === "fulfilled").length;
      };
      expect(await atOnce(12)).toBe(12);

      // Redis keeps nothing on disk: the bucket the burst booked is gone when it comes back.
      await redis.stop();
      await expect.poll(() => link.available).toBe(false);
      await redis.start();
      await expect.poll(() => link.available, { timeout: 5000 }).toBe(true);
      // Read as a full bucket, the lost one would let 12 more through at once, on top of the 12
      // Connect has just been sent: one token, then the rate.
      expect(await atOnce(12)).toBe(1);
      expect(limiter.stats).toMatchObject({ sharedGrants: 13, localGrants: 0, refused: 11 });
    } finally {
      await link.close();
      await redis.stop();
    }
  });
});

// Two caches on one Redis stand for two replicas. Expiries are the caches' own (written on their
// clock, a manual one here), so these run on fake time; Redis's own key expiry is set well beyond.
describe("the tiered cache's shared tier on Redis", () => {
  interface Item {
    name: string;
  }
  const links: RedisLink[] = [];
  afterAll(() => Promise.all(links.map((l) => l.close())));

  /** Two replicas' caches of one namespace, on one manual clock, each loading through `load`. */
  async function replicas() {
    const clock = new ManualClock(Date.now());
    const name = `items-${randomUUID()}`;
    const pair = [0, 1].map(() => {
      const redis = new RedisLink({ url: SHARED_REDIS_URL, timeoutMs: 500, logger: quiet });
      links.push(redis);
      return new TieredCache<Item>({ name, freshness: { ttlSeconds: () => 60, negativeTtlSeconds: 10 }, maxEntries: 100, maxBytes: 1 << 20, redis, keyPrefix: PREFIX, clock });
    });
    await expect.poll(() => links.every((l) => l.available)).toBe(true);
    const loads: string[] = [];
    const load = (replica: number, item: Item) => async () => {
      loads.push(`${replica}: ${item.name}`);
      return item;
    };
    return { clock, a: pair[0]!, b: pair[1]!, loads, load };
  }

  it("serves what one replica read to the other without a load, until the expiry the first one wrote", async () => {
    const { clock, a, b, loads, load } = await replicas();
    await a.read("k", load(0, { name: "read by a" }));
    await clock.advance(59_999);
    expect((await b.read("k", load(1, { name: "read by b" }))).name).toBe("read by a");
    await clock.advance(1);
    expect((await b.read("k", load(1, { name: "read by b" }))).name).toBe("read by b");
    expect(loads).toEqual(["0: read by a", "1: read by b"]);
  });

  it("set reaches the other replica's next read through Redis; deleteLocal drops only the other's stale copy", async () => {
    const { a, b, loads, load } = await replicas();
    await b.read("k", load(1, { name: "old" }));
    await a.set("k", { name: "set by a" });
    expect((await b.read("k", load(1, { name: "unused" }))).name).toBe("old");
    b.deleteLocal("k");
    expect((await b.read("k", load(1, { name: "unused" }))).name).toBe("set by a");
    expect(loads).toEqual(["1: old"]);
  });

  it("delete drops a key from Redis as well: the other replica, without its own copy, loads it", async () => {
    const { a, b, loads, load } = await replicas();
    await a.read("k", load(0, { name: "first" }));
    await a.delete("k");
    expect((await b.read("k", load(1, { name: "second" }))).name).toBe("second");
    expect(loads).toEqual(["0: first", "1: second"]);
  });
});

// Real time: gateway processes, the emulator enforcing Connect's quota on its own clock, Redis.
describe("two gateway processes sharing Redis and one emulator (quota 10/s, burst 15)", () => {
  let emulator: Emulator;
  let gateways: GatewayProcess[] = [];
  let take: (count: number) => string[];

  beforeAll(async () => {
    emulator = await startEmulator({ quota: true });
    take = contactPool(emulator);
    gateways = await Promise.all([0, 1].map(() => gatewayProcess(emulator, SHARED_REDIS_URL, PREFIX)));
  });
  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()));
    await emulator?.close();
  });

  it("serves a contact read through one replica from the cache in the other, without an upstream call", async () => {
    const [c] = take(1);
    emulator.resetStats();
    const first = await post(gateways[0]!.url, { query: CONTACT, variables: { i: I, c } });
    expect(first.body.data.contact.id).toBe(c);
    expect(emulator.calls.byApi.DescribeContact).toBe(1);
    const second = await post(gateways[1]!.url, { query: CONTACT, variables: { i: I, c } });
    expect(second.body).toEqual(first.body);
    expect(emulator.calls.byApi.DescribeContact).toBe(1);
  });

  it("answers 100 distinct contacts requested at once, half through each replica, with no error and no 429, inside the quota together", async () => {
    const ids = take(100);
    emulator.resetStats();
    const answers = await Promise.all(ids.map((c, n) => post(gateways[n % 2]!.url, { query: CONTACT, variables: { i: I, c } })));
    for (const [n, { status, body }] of answers.entries()) {
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data.contact.id).toBe(ids[n]);
    }
    expect(emulator.calls.byApi.DescribeContact).toBe(100);
    expect(emulator.calls.throttled).toBe(0);
    expect(emulator.calls.maxPerSecondByApi.DescribeContact).toBeLessThanOrEqual(15 + 10);
  });

  it("knows an automatic persisted query registered through one replica in the other", async () => {
    const query = `query PersistedContact($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id channel } }`;
    const sha256Hash = createHash("sha256").update(query).digest("hex");
    const extensions = { persistedQuery: { version: 1, sha256Hash } };
    const variables = { i: I, c: DEMO.fullContactId };
    const unknown = await post(gateways[1]!.url, { variables, extensions });
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe("PERSISTED_QUERY_NOT_FOUND");
    const registered = await post(gateways[0]!.url, { query, variables, extensions });
    expect(registered.body.errors).toBeUndefined();
    const byHash = await post(gateways[1]!.url, { variables, extensions });
    expect(byHash.body.errors).toBeUndefined();
    expect(byHash.body.data).toEqual(registered.body.data);
    // Stored with an expiry, so clients cannot grow Redis without bound.
    const ttls = await withRedis(async (client) => {
      const keys = await client.keys(`${PREFIX}apollo*${sha256Hash}`);
      return Promise.all(keys.map((k) => client.pTTL(k)));
    });
    expect(ttls).toHaveLength(1);
    expect(ttls[0]).toBeGreaterThan(0);
  });
});

// Real time: the outage is a real Redis server stopping and starting under real traffic.
describe("Redis going away", () => {
  it("costs no failed query when Redis stops and starts again under load through two replicas, each logging the outage once", async () => {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    const emulator = await startEmulator({ quota: true });
    const take = contactPool(emulator);
    const gateways = await Promise.all([0, 1].map(() => gatewayProcess(emulator, redis.url, PREFIX)));
    try {
      const answers: Array<Promise<Answer>> = [];
      const seen: string[] = [];
      // About 5 s of traffic, 8 new contacts a second across both replicas plus repeats of earlier ones;
      // Redis is down from about 1.2 s to 2.8 s.
      for (let tick = 0; tick < 20; tick++) {
        if (tick === 5) await redis.stop();
        if (tick === 11) await redis.start();
        for (const [n, gateway] of gateways.entries()) {
          const [c] = take(1);
          seen.push(c!);
          answers.push(post(gateway.url, { query: CONTACT, variables: { i: I, c } }));
          const repeat = seen[(tick * 7 + n) % seen.length]!;
          answers.push(post(gateway.url, { query: CONTACT, variables: { i: I, c: repeat } }));
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      const settled = await Promise.all(answers);
      for (const { status, body } of settled) {
        expect(status).toBe(200);
        expect(body.errors).toBeUndefined();
        expect(body.data.contact.id).toEqual(expect.any(String));
      }
      for (const gateway of gateways) {
        const messages = gateway
          .output()
          .split("\n")
          .filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l).msg as string);
        expect(messages.filter((m) => m.startsWith("Redis unavailable"))).toHaveLength(1);
        expect(messages.filter((m) => m.startsWith("Redis is back"))).toHaveLength(1);
      }
      // Shared again after the outage: a contact read through one replica costs the other nothing.
      const [c] = take(1);
      await post(gateways[0]!.url, { query: CONTACT, variables: { i: I, c } });
      const before = emulator.calls.byApi.DescribeContact;
      const again = await post(gateways[1]!.url, { query: CONTACT, variables: { i: I, c } });
      expect(again.body.data.contact.id).toBe(c);
      expect(emulator.calls.byApi.DescribeContact).toBe(before);
    } finally {
      await Promise.all(gateways.map((g) => g.stop()));
      await emulator.close();
      await redis.stop();
    }
  });

  it("closes the gateway at once after Redis has frozen: a degraded answer first, then no wait for what Redis never answers", async () => {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    const stack = await startStack({ env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: PREFIX } });
    let closing: Promise<void> | undefined;
    try {
      const [first, second] = contactPool(stack.emulator)(2);
      expect((await stack.query(CONTACT, { i: I, c: first })).body.data.contact.id).toBe(first);
      redis.freeze();
      // The cache's Redis lookup gives up after REDIS_TIMEOUT_MS (500 ms) and Connect answers.
      const asked = performance.now();
      const degraded = await stack.query(CONTACT, { i: I, c: second });
      expect(degraded.body.errors).toBeUndefined();
      expect(degraded.body.data.contact.id).toBe(second);
      expect(performance.now() - asked).toBeGreaterThanOrEqual(500);
      expect(stack.describeContactCalls()).toBe(2);
      // node-redis's close() waited for the lookup's command, which the frozen Redis never answers.
      const started = performance.now();
      closing = stack.close();
      const closed = await Promise.race([closing.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 5000))]);
      expect(closed).toBe(true);
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      redis.thaw();
      await (closing ?? stack.close());
      await redis.stop();
    }
  });

  it("sends Connect no 429 when Redis restarts between two bursts: the bucket it lost comes back empty, one call at once and then the rate", async () => {
    const redis = new PrivateRedis(await freePort());
    await redis.start();
    const logLines: LogLine[] = [];
    const stack = await startStack({ emulator: { quota: true }, env: { REDIS_URL: redis.url, REDIS_KEY_PREFIX: PREFIX }, logLines });
    try {
      const take = contactPool(stack.emulator);
      const burst = async (ids: string[]) => {
        const answers = await Promise.all(ids.map((c) => stack.query(CONTACT, { i: I, c })));
        for (const [n, { body }] of answers.entries()) {
          expect(body.errors).toBeUndefined();
          expect(body.data.contact.id).toBe(ids[n]);
        }
      };
      // One read first, so the burst is not slowed by the stack's first request.
      await burst(take(1));
      await new Promise((resolve) => setTimeout(resolve, 200));
      const first = performance.now();
      await burst(take(12));
      // A restart with no query in it: nothing is booked from the local bucket while Redis is away.
      await redis.stop();
      await redis.start();
      await expect.poll(() => logLines.filter((l) => l.msg.startsWith("Redis is back")), { timeout: 5000 }).toHaveLength(1);
      // Half a second after the first burst, Connect's bucket of 15 holds about 8 tokens.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, first + 500 - performance.now())));
      const second = performance.now();
      await burst(take(12));
      expect(stack.emulator.calls.throttled).toBe(0);
      expect(stack.emulator.calls.byApi.DescribeContact).toBe(25);
      // Booked from an empty bucket: the first call at once, the 12th 11 intervals (1.1 s) later.
      expect(performance.now() - second).toBeGreaterThanOrEqual(1100);
    } finally {
      await stack.close();
      await redis.stop();
    }
  });

  it("serves queries, and repeats from the local cache, when Redis is unreachable from the start", async () => {
    const stack = await startStack({ env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}`, REDIS_KEY_PREFIX: PREFIX } });
    try {
      for (let n = 0; n < 2; n++) {
        const { body } = await stack.query(CONTACT, { i: I, c: DEMO.fullContactId });
        expect(body.errors).toBeUndefined();
        expect(body.data.contact.id).toBe(DEMO.fullContactId);
      }
      expect(stack.describeContactCalls()).toBe(1);
    } finally {
      await stack.close();
    }
  });
});
