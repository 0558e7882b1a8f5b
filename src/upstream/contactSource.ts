import type { KeyValueCache } from "@apollo/utils.keyvaluecache";
import type { Logger } from "pino";
import type { Config } from "../config/config.js";
import { contactAnswerJson, contactFromAnswer, contactKey, refOfContactKey, toContactModel, type ContactModel, type ContactRef } from "../domain/contactRef.js";
import { traceCachedRead } from "../observability/tracing.js";
import { createApolloCache } from "./apolloCache.js";
import type { Clock } from "./clock.js";
import { ConcurrencyPool } from "./concurrencyPool.js";
import { contactFreshness } from "./contactFreshness.js";
import type { CachedContact, FetchContact, FetchOptions } from "./fetchContact.js";
import { QuotaLimiter } from "./quotaLimiter.js";
import { RedisLink } from "./redisLink.js";
import { TieredCache } from "./tieredCache.js";
import { ANSWER_JSON, type ContactAnswer, type Upstream } from "./upstream.js";

/** Where contacts come from, and the parts that make it so (exposed for tests and metrics). */
export interface ContactSource {
  /** Cache, then one coalesced, quota-limited, retried DescribeContact. */
  readonly fetchContact: FetchContact;
  /**
   * `fetchContact`'s answer at once when this process holds the contact fresh; never for a traced
   * read (a read the cache answers is a span of its own, made by `fetchContact`).
   */
  readonly cachedContact: CachedContact;
  /**
   * One DescribeContact that skips cached answers and reads already in flight; its answer (or
   * not-found) replaces the contact in both tiers, and reads that start meanwhile share it.
   */
  refresh(ref: ContactRef, options?: Pick<FetchOptions, "operation">): Promise<ContactModel>;
  /**
   * Holds `contact` (read elsewhere: another replica, an event) as the cached answer for `ref` in
   * both tiers, in place of anything cached or being read; resolves to the object readers get.
   */
  store(ref: ContactRef, contact: ContactAnswer): Promise<ContactModel>;
  /** Drops the contact from both tiers. */
  evict(ref: ContactRef): Promise<void>;
  /** Drops this replica's copy only (another replica has just stored a newer one in Redis). */
  evictLocal(ref: ContactRef): void;
  /** Apollo Server's `cache` (automatic persisted queries), on the same store as the contacts. */
  readonly apolloCache: KeyValueCache<string>;
  readonly cache: TieredCache<ContactModel>;
  /** The process's upstream slots, shared with every other API (`createRelatedSource`'s `pool`). */
  readonly pool: ConcurrencyPool;
  /** DescribeContact's quota. */
  readonly limiter: QuotaLimiter;
  /** The shared connection when `REDIS_URL` is set. */
  readonly redis: RedisLink | undefined;
  /** Closes the Redis connection. */
  close(): Promise<void>;
}

export interface ContactSourceOptions {
  config: Pick<
    Config,
    | "CONNECT_MAX_RPS"
    | "CONNECT_BURST"
    | "CONNECT_MAX_WAIT_MS"
    | "CONNECT_MAX_CONCURRENCY"
    | "CACHE_TTL_SECONDS"
    | "CACHE_ACTIVE_TTL_SECONDS"
    | "CACHE_NEGATIVE_TTL_SECONDS"
    | "CACHE_MAX_ENTRIES"
    | "CACHE_MAX_MB"
    | "REDIS_URL"
    | "REDIS_KEY_PREFIX"
    | "REDIS_TIMEOUT_MS"
  >;
  upstream: Upstream;
  logger: Logger;
  /** Optional observers (the gateway's Prometheus metrics). */
  metrics?: {
    observeCacheLookup?(result: "hit" | "miss", layer?: "memory" | "redis"): void;
    observeLimiterWait?(api: string, seconds: number, outcome?: "acquired" | "rejected"): void;
  };
  /** The cache's expiries, the pool's and the limiter's waits run on it. Default `systemClock`. */
  clock?: Clock;
}

/**
 * The upstream discipline, assembled from the configuration: cross-request cache (local, plus Redis
 * when `REDIS_URL` is set) → coalescing → concurrency slot → quota token before every attempt → the
 * SDK with its retries and timeouts. Every replica that shares a Redis shares the cache, the quota
 * and Apollo's persisted queries.
 */
export function createContactSource({ config, upstream, logger, metrics, clock }: ContactSourceOptions): ContactSource {
  const redis = config.REDIS_URL ? new RedisLink({ url: config.REDIS_URL, timeoutMs: config.REDIS_TIMEOUT_MS, logger }) : undefined;
  const observeWait = metrics?.observeLimiterWait?.bind(metrics);
  const pool = new ConcurrencyPool({ slots: config.CONNECT_MAX_CONCURRENCY, maxWaitMs: config.CONNECT_MAX_WAIT_MS, clock, observeWait });
  const limiter = new QuotaLimiter({
    rps: config.CONNECT_MAX_RPS,
    burst: config.CONNECT_BURST,
    maxWaitMs: config.CONNECT_MAX_WAIT_MS,
    redis,
    keyPrefix: config.REDIS_KEY_PREFIX,
    observeWait,
    clock,
  });
  // The cache keeps each contact as DescribeContact's answer, the JSON Connect sent (taken as it
  // came: no second serialization), and hands out the resolvers' model made from it once (the
  // contact and the ref it was read under): one object per cached contact, shared by every
  // request, so readers make no copy of their own.
  const cache = new TieredCache<ContactModel>({
    name: "contact",
    // DescribeContact's answer as Connect sent it (earlier versions kept the SDK's contact).
    format: "answer1",
    codec: {
      encode: contactAnswerJson,
      decode: (answer, key) => contactFromAnswer(answer as { Contact?: unknown }, refOfContactKey(key)),
    },
    freshness: contactFreshness({
      ttlSeconds: config.CACHE_TTL_SECONDS,
      activeTtlSeconds: config.CACHE_ACTIVE_TTL_SECONDS,
      negativeTtlSeconds: config.CACHE_NEGATIVE_TTL_SECONDS,
    }),
    maxEntries: config.CACHE_MAX_ENTRIES,
    maxBytes: config.CACHE_MAX_MB * 1024 * 1024,
    redis,
    keyPrefix: config.REDIS_KEY_PREFIX,
    clock,
    observeLookup: metrics?.observeCacheLookup?.bind(metrics),
  });
  const describeContact = (ref: ContactRef, options: FetchOptions): Promise<ContactModel> =>
    pool.runFor(options.operation?.share, "DescribeContact", (deadline) =>
      upstream
        .describeContact(ref, {
          operation: options.operation,
          // The first attempt shares the call's wait budget with the wait for a slot; a retry gets its own.
          beforeAttempt: (scope, attempt) => limiter.acquire(scope, attempt === 1 ? deadline : undefined, options.operation?.share),
        })
        .then((answer) => modelOfAnswer(answer, ref)),
    );
  const fetchContact: FetchContact = (ref, options = {}) => {
    const trace = options.operation?.trace;
    // Traced, a read the cache answers is a span of its own (a miss is the call's span). Untraced,
    // the read stays one expression: a loader closure shared by both branches tripled the cost of a
    // cached read (src/observability/tracing.ts).
    if (trace) return traceCachedRead(trace, "DescribeContact", ref, (load) => cache.read(contactKey(ref), load, options), () => describeContact(ref, options));
    return cache.read(contactKey(ref), () => describeContact(ref, options), options);
  };
  const cachedContact: CachedContact = (ref, options = {}) => (options.noCache || options.operation?.trace ? undefined : cache.peek(contactKey(ref)));
  return {
    fetchContact,
    cachedContact,
    refresh: (ref, options = {}) => cache.read(contactKey(ref), () => describeContact(ref, options), { noCache: true }),
    store: (ref, contact) => cache.set(contactKey(ref), modelOfAnswer(contact, ref)),
    evict: (ref) => cache.delete(contactKey(ref)),
    evictLocal: (ref) => cache.deleteLocal(contactKey(ref)),
    apolloCache: createApolloCache(redis, config.REDIS_KEY_PREFIX),
    cache,
    pool,
    limiter,
    redis,
    close: async () => redis?.close(),
  };
}

// Private: the model of an answer, with the body's text when the upstream kept it.
function modelOfAnswer(answer: ContactAnswer, ref: ContactRef): ContactModel {
  return toContactModel(answer, ref, (answer as { [ANSWER_JSON]?: string })[ANSWER_JSON]);
}
