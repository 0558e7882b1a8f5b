import { randomUUID } from "node:crypto";
import type { Contact } from "@aws-sdk/client-connect";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { contactKey, type ContactRef } from "../../src/domain/contactRef.js";
import { createContactSource, type ContactSource, type ContactSourceOptions } from "../../src/upstream/contactSource.js";
import { RedisLink } from "../../src/upstream/redisLink.js";
import { TieredCache } from "../../src/upstream/tieredCache.js";
import { deleteKeys, requireSharedRedis, SHARED_REDIS_URL } from "../support/redisServer.js";
import { ManualClock } from "./manualClock.js";
import { RecordingUpstream } from "./recordingUpstream.js";

const CONFIG: ContactSourceOptions["config"] = {
  CONNECT_MAX_RPS: 10,
  CONNECT_BURST: 15,
  CONNECT_MAX_WAIT_MS: 10_000,
  CONNECT_MAX_CONCURRENCY: 10,
  CACHE_TTL_SECONDS: 300,
  CACHE_ACTIVE_TTL_SECONDS: 5,
  CACHE_NEGATIVE_TTL_SECONDS: 10,
  CACHE_MAX_ENTRIES: 1000,
  CACHE_MAX_MB: 16,
  REDIS_URL: undefined,
  REDIS_KEY_PREFIX: "test:",
  REDIS_TIMEOUT_MS: 500,
};

const ref = (contactId: string): ContactRef => ({ region: "us-east-1", instanceId: "i-1", contactId });
const started = new Date(1_700_000_000_000);
const ended = new Date(1_700_000_060_000);
const finished = (id: string): Contact => ({ Id: id, InitiationTimestamp: started, DisconnectTimestamp: ended });
const active = (id: string): Contact => ({ Id: id, InitiationTimestamp: started });

let source: ContactSource | undefined;
afterEach(async () => {
  await source?.close();
  source = undefined;
});

/** The contact source over a recording upstream that knows `finished-1` and `active-1`, on a manual clock. */
function sourceWithUpstream(config: Partial<ContactSourceOptions["config"]> = {}) {
  const clock = new ManualClock();
  const upstream = new RecordingUpstream();
  upstream.contacts.set("finished-1", finished("finished-1"));
  upstream.contacts.set("active-1", active("active-1"));
  source = createContactSource({ config: { ...CONFIG, ...config }, upstream, logger: pino({ level: "silent" }), clock });
  return { source, upstream, clock };
}

describe("the contact cache's TTLs (manual clock)", () => {
  it("serves a finished contact from cache until CACHE_TTL_SECONDS have passed, and reads Connect again after", async () => {
    const { source, upstream, clock } = sourceWithUpstream();
    await source.fetchContact(ref("finished-1"));
    await clock.advance(299_999);
    await source.fetchContact(ref("finished-1"));
    expect(upstream.count("DescribeContact")).toBe(1);
    await clock.advance(1);
    await source.fetchContact(ref("finished-1"));
    expect(upstream.count("DescribeContact")).toBe(2);
  });

  it("serves a contact in progress from cache until CACHE_ACTIVE_TTL_SECONDS have passed, and reads Connect again after", async () => {
    const { source, upstream, clock } = sourceWithUpstream();
    await source.fetchContact(ref("active-1"));
    await clock.advance(4_999);
    await source.fetchContact(ref("active-1"));
    expect(upstream.count("DescribeContact")).toBe(1);
    await clock.advance(1);
    await source.fetchContact(ref("active-1"));
    expect(upstream.count("DescribeContact")).toBe(2);
  });

  it("remembers a not-found contact until CACHE_NEGATIVE_TTL_SECONDS have passed, and asks Connect again after", async () => {
    const { source, upstream, clock } = sourceWithUpstream();
    await expect(source.fetchContact(ref("missing"))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await clock.advance(9_999);
    await expect(source.fetchContact(ref("missing"))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    expect(upstream.count("DescribeContact")).toBe(1);
    await clock.advance(1);
    await expect(source.fetchContact(ref("missing"))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    expect(upstream.count("DescribeContact")).toBe(2);
  });
});

describe("ContactSource", () => {
  it("hands out the resolvers' model: the contact and the ref it was read under", async () => {
    const { source } = sourceWithUpstream();
    const contact = await source.fetchContact(ref("finished-1"));
    expect(contact).toMatchObject({ id: "finished-1", $ref: ref("finished-1") });
    expect(contact.disconnectTimestamp).toBe(ended.toISOString());
  });

  it("refresh reads Connect past a cached contact, in one call, and later reads get its answer", async () => {
    const { source, upstream } = sourceWithUpstream();
    await source.fetchContact(ref("active-1"));
    upstream.contacts.set("active-1", finished("active-1"));
    const refreshed = await source.refresh(ref("active-1"));
    expect(refreshed.disconnectTimestamp).toBe(ended.toISOString());
    expect(await source.fetchContact(ref("active-1"))).toBe(refreshed);
    expect(upstream.count("DescribeContact")).toBe(2);
  });

  it("refresh shares no read that started before it, and that read's older answer does not replace the refreshed one", async () => {
    const { source, upstream, clock } = sourceWithUpstream();
    const release = upstream.hold();
    const older = source.fetchContact(ref("active-1"));
    await clock.advance(0); // the older call has reached Connect
    upstream.contacts.set("active-1", finished("active-1"));
    const refreshed = source.refresh(ref("active-1"));
    const joined = source.fetchContact(ref("active-1"));
    release();
    expect((await older).disconnectTimestamp).toBeUndefined();
    expect((await refreshed).disconnectTimestamp).toBe(ended.toISOString());
    expect(await joined).toBe(await refreshed);
    expect(await source.fetchContact(ref("active-1"))).toBe(await refreshed);
    expect(upstream.count("DescribeContact")).toBe(2);
  });

  it("store holds a contact read elsewhere: readers get it, as the model, with no upstream call", async () => {
    const { source, upstream } = sourceWithUpstream();
    const stored = await source.store(ref("elsewhere"), finished("elsewhere"));
    const read = await source.fetchContact(ref("elsewhere"));
    expect(read).toBe(stored);
    expect(read).toMatchObject({ id: "elsewhere", $ref: ref("elsewhere") });
    expect(upstream.count("DescribeContact")).toBe(0);
  });

  it("evict and evictLocal drop a cached contact, so the next read calls Connect", async () => {
    const { source, upstream } = sourceWithUpstream();
    await source.fetchContact(ref("finished-1"));
    await source.evict(ref("finished-1"));
    await source.fetchContact(ref("finished-1"));
    source.evictLocal(ref("finished-1"));
    await source.fetchContact(ref("finished-1"));
    expect(upstream.count("DescribeContact")).toBe(3);
  });

  it("caches nothing with CACHE_TTL_SECONDS=0, not even a not-found answer", async () => {
    const { source, upstream } = sourceWithUpstream({ CACHE_TTL_SECONDS: 0 });
    await source.fetchContact(ref("finished-1"));
    await source.fetchContact(ref("finished-1"));
    await expect(source.fetchContact(ref("missing"))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await expect(source.fetchContact(ref("missing"))).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    expect(upstream.count("DescribeContact")).toBe(4);
  });
});

describe("the contact cache's entries in Redis", () => {
  it("reads an entry an earlier version wrote (the SDK's contact, not Connect's answer) as a miss, and reads Connect once instead", async () => {
    await requireSharedRedis();
    const prefix = `test-${randomUUID()}:`;
    const quiet = pino({ level: "silent" });
    const redis = new RedisLink({ url: SHARED_REDIS_URL, timeoutMs: 500, logger: quiet });
    try {
      await expect.poll(() => redis.available).toBe(true);
      // What the previous version stored: the SDK-shaped contact, Dates as {"$date": ms}.
      const earlier = new TieredCache<object>({ name: "contact", freshness: { ttlSeconds: () => 300, negativeTtlSeconds: 10 }, maxEntries: 10, maxBytes: 1 << 20, redis, keyPrefix: prefix });
      await earlier.set(contactKey(ref("finished-1")), { ...finished("finished-1"), $ref: ref("finished-1") });
      const upstream = new RecordingUpstream();
      upstream.contacts.set("finished-1", finished("finished-1"));
      source = createContactSource({ config: { ...CONFIG, REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix }, upstream, logger: quiet });
      await expect.poll(() => source!.redis?.available).toBe(true);
      const read = await source.fetchContact(ref("finished-1"));
      expect(read).toMatchObject({ id: "finished-1", disconnectTimestamp: ended.toISOString(), $ref: ref("finished-1") });
      expect(upstream.count("DescribeContact")).toBe(1);
    } finally {
      await redis.close();
      await deleteKeys(SHARED_REDIS_URL, prefix);
    }
  });
});

