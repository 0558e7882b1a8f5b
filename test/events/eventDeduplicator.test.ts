import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventDeduplicator } from "../../src/events/eventDeduplicator.js";
import { RedisLink } from "../../src/upstream/redisLink.js";
import { deleteKeys, requireSharedRedis, SHARED_REDIS_URL } from "../support/redisServer.js";
import { waitUntil } from "../support/liveStack.js";

const PREFIX = `dedup-test-${process.pid}:`;
const links: RedisLink[] = [];

beforeAll(async () => {
  await requireSharedRedis();
  for (let i = 0; i < 2; i++) links.push(new RedisLink({ url: SHARED_REDIS_URL, timeoutMs: 500, logger: pino({ level: "silent" }) }));
  await waitUntil(() => links.every((l) => l.available), "Redis connected");
});
afterAll(async () => {
  await Promise.all(links.map((l) => l.close()));
  await deleteKeys(SHARED_REDIS_URL, PREFIX);
});

describe("EventDeduplicator", () => {
  it("lets one replica apply an event, defers a copy while it is applied, then drops copies as duplicates", async () => {
    const [a, b] = links.map((redis) => new EventDeduplicator({ redis, keyPrefix: PREFIX, claimMs: 30_000, windowMs: 60_000 }));
    expect(await a!.claim("e-1")).toBe("claimed");
    expect(await b!.claim("e-1")).toBe("busy"); // in flight on A: B must leave its copy on the queue
    expect(await a!.claim("e-1")).toBe("busy");
    await a!.applied("e-1");
    expect(await b!.claim("e-1")).toBe("applied");
  });

  it("lets the redelivered copy apply an event whose first apply failed", async () => {
    const [a, b] = links.map((redis) => new EventDeduplicator({ redis, keyPrefix: PREFIX, claimMs: 30_000, windowMs: 60_000 }));
    expect(await a!.claim("e-2")).toBe("claimed");
    await a!.release("e-2");
    expect(await b!.claim("e-2")).toBe("claimed");
  });

  it("works in one process without Redis", async () => {
    const alone = new EventDeduplicator({ claimMs: 30_000, windowMs: 60_000 });
    expect(await alone.claim("e-3")).toBe("claimed");
    expect(await alone.claim("e-3")).toBe("busy");
    await alone.applied("e-3");
    expect(await alone.claim("e-3")).toBe("applied");
  });
});
