import { randomUUID } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisLink, RedisUnavailableError } from "../../src/upstream/redisLink.js";
import { deleteKeys, freePort, PrivateRedis, requireSharedRedis, SHARED_REDIS_URL, withRedis } from "../support/redisServer.js";

const quiet = pino({ level: "silent" });
/** Every test file and run gets its own keys, so parallel runs never share one. */
const PREFIX = `test-${randomUUID()}:`;

beforeAll(requireSharedRedis);
afterAll(() => deleteKeys(SHARED_REDIS_URL, PREFIX));

/** How long `promise` took to settle, ms, or `Infinity` when it had not within `boundMs`. */
async function settleTime(promise: Promise<unknown>, boundMs: number): Promise<number> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const settled = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), boundMs))),
  ]);
  clearTimeout(timer);
  return settled ? performance.now() - started : Infinity;
}

/** A link (timeout 300 ms) to a private Redis that `body` may freeze or restart: thawed, closed and stopped after it. */
async function withPrivateRedis(body: (link: RedisLink, redis: PrivateRedis) => Promise<void>): Promise<void> {
  const redis = new PrivateRedis(await freePort());
  await redis.start();
  const link = new RedisLink({ url: redis.url, timeoutMs: 300, logger: quiet });
  try {
    await expect.poll(() => link.available).toBe(true);
    await body(link, redis);
  } finally {
    redis.thaw();
    await link.close();
    await redis.stop();
  }
}

// Real time and real Redis servers: a frozen one is a private redis-server stopped with SIGSTOP,
// whose connections stay open and whose answers never come until it is thawed.
describe("closing the Redis link", () => {
  it("lets a command already sent finish: a write issued just before close still lands", async () => {
    const link = new RedisLink({ url: SHARED_REDIS_URL, timeoutMs: 500, logger: quiet });
    await expect.poll(() => link.available).toBe(true);
    const key = `${PREFIX}written-before-close`;
    const written = link.run((client) => client.set(key, "landed"));
    await link.close();
    await expect(written).resolves.toBe("OK");
    expect(await withRedis((client) => client.get(key))).toBe("landed");
  });

  it("finishes within its timeout when Redis freezes with a command pending, and the command fails as unavailable", async () => {
    await withPrivateRedis(async (link, redis) => {
      redis.freeze();
      const pending = link.run((client) => client.get(`${PREFIX}never-answered`));
      pending.catch(() => {});
      // node-redis's own close() waits for every pending command, so a frozen Redis held it forever.
      const closing = link.close();
      expect(await settleTime(closing, 3000)).toBeLessThan(300 + 200);
      await expect(pending).rejects.toBeInstanceOf(RedisUnavailableError);
    });
  });

  it("finishes at once while Redis is down: the commands its timeouts gave up on are cut, not awaited", async () => {
    await withPrivateRedis(async (link, redis) => {
      redis.freeze();
      const abandoned = await Promise.allSettled([0, 1, 2].map((n) => link.run((client) => client.get(`${PREFIX}abandoned-${n}`))));
      expect(abandoned.map((r) => r.status)).toEqual(["rejected", "rejected", "rejected"]);
      expect(link.available).toBe(false);
      expect(await settleTime(link.close(), 3000)).toBeLessThan(100);
    });
  });
});

// Real time: the outage is a private redis-server stopped and started again.
describe("the Redis link's outages", () => {
  it("has had none when it connected at once, and has one from losing Redis until the window after it came back", async () => {
    await withPrivateRedis(async (link, redis) => {
      expect(link.outageWithin(10_000)).toBe(false);
      await redis.stop();
      await expect.poll(() => link.available).toBe(false);
      expect(link.outageWithin(10_000)).toBe(true);
      await redis.start();
      await expect.poll(() => link.available, { timeout: 5000 }).toBe(true);
      expect(link.outageWithin(10_000)).toBe(true);
      // Over once the window has passed since it came back.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(link.outageWithin(10_000)).toBe(true);
      expect(link.outageWithin(200)).toBe(false);
    });
  });
});

describe("the Redis link's log", () => {
  /** The warnings a link to `url` logs in its first `ms`, then closed. */
  async function warnings(url: string, ms = 1500): Promise<Array<{ msg: string; reason: string }>> {
    const lines: Array<{ msg: string; reason: string }> = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const link = new RedisLink({ url, timeoutMs: 300, logger });
    await new Promise((resolve) => setTimeout(resolve, ms));
    await link.close();
    return lines;
  }

  it("names REDIS_URL as the likely cause, once, when Redis refuses its database or credentials, and not when Redis is out of reach", async () => {
    const [database, password, unreachable] = await Promise.all([
      warnings(`${SHARED_REDIS_URL}/99`),
      warnings("redis://nobody:Pa55-Never-Logged@127.0.0.1:6379"),
      freePort().then((port) => warnings(`redis://127.0.0.1:${port}`)),
    ]);
    const LIKELY = "Redis unavailable, likely because of the setting REDIS_URL (Redis refused its database or credentials): serving from the local cache and limiter until it returns";
    expect(database).toMatchObject([{ msg: LIKELY, reason: "ERR DB index is out of range" }]);
    expect(password).toMatchObject([{ msg: LIKELY, reason: expect.stringMatching(/^WRONGPASS /) }]);
    expect(unreachable).toMatchObject([{ msg: "Redis unavailable: serving from the local cache and limiter until it returns" }]);
    // The password is never in the log.
    expect(JSON.stringify(password)).not.toContain("Pa55-Never-Logged");
  });
});
