import type { KeyValueCache } from "@apollo/utils.keyvaluecache";
import type { Logger } from "pino";
import { createApolloCache } from "./apolloCache.js";
import { ContactCache } from "./tieredCache.js";
import type { Config } from "../config/config.js";
import type { Upstream } from "./upstream.js";
import { toContactModel } from "../domain/contactRef.js";
import { QuotaLimiter } from "./quotaLimiter.js";
import type { FetchContact } from "./fetchContact.js";
import { RedisLink } from "./redisLink.js";

/** Where contacts come from, and the parts that make it so (exposed for tests and metrics). */
export interface ContactSource {
  /** Cache, then one coalesced, quota-limited, retried DescribeContact. */
  readonly fetchContact: FetchContact;
  /** Apollo Server's `cache` (automatic persisted queries), on the same store as the contacts. */
  readonly apolloCache: KeyValueCache<string>;
  readonly cache: ContactCache;
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
    observeLimiterWait?(seconds: number, outcome?: "acquired" | "rejected"): void;
  };
}

/**
 * The upstream discipline, assembled from the configuration: cross-request cache (local, plus Redis
 * when `REDIS_URL` is set) → coalescing → concurrency slot → quota token before every attempt → the
 * SDK with its retries and timeouts. Every replica that shares a Redis shares the cache, the quota
 * and Apollo's persisted queries.
 */
export function createContactSource({ config, upstream, logger, metrics }: ContactSourceOptions): ContactSource {
  const redis = config.REDIS_URL ? new RedisLink({ url: config.REDIS_URL, timeoutMs: config.REDIS_TIMEOUT_MS, logger }) : undefined;
  const limiter = new QuotaLimiter({
    rps: config.CONNECT_MAX_RPS,
    burst: config.CONNECT_BURST,
    maxWaitMs: config.CONNECT_MAX_WAIT_MS,
    concurrency: config.CONNECT_MAX_CONCURRENCY,
    redis,
    keyPrefix: config.REDIS_KEY_PREFIX,
    observeWait: metrics?.observeLimiterWait?.bind(metrics),
  });
  const cache = new ContactCache({
    ttlSeconds: config.CACHE_TTL_SECONDS,
    activeTtlSeconds: config.CACHE_ACTIVE_TTL_SECONDS,
    negativeTtlSeconds: config.CACHE_NEGATIVE_TTL_SECONDS,
    maxEntries: config.CACHE_MAX_ENTRIES,
    maxBytes: config.CACHE_MAX_MB * 1024 * 1024,
    // One object per cached contact: the model resolvers read, shared by every request.
    keep: toContactModel,
    redis,
    keyPrefix: config.REDIS_KEY_PREFIX,
    observeLookup: metrics?.observeCacheLookup?.bind(metrics),
  });
  const fetchContact = cache.wrap((ref, options) =>
    limiter.run((deadline) =>
      upstream.describeContact(ref, {
        operation: options.operation,
        // The first attempt shares the call's wait budget with the wait for a slot; a retry gets its own.
        beforeAttempt: (scope, attempt) => limiter.acquire(scope, attempt === 1 ? deadline : undefined),
      }),
    ),
  );
  return {
    fetchContact,
    apolloCache: createApolloCache(redis, config.REDIS_KEY_PREFIX),
    cache,
    limiter,
    redis,
    close: async () => redis?.close(),
  };
}
