import { Queue$, User$ } from "@aws-sdk/client-connect";
import type { Config } from "../config/config.js";
import { DEFAULT_API_QUOTAS, RELATED_APIS, type RelatedApi } from "../domain/apiQuotas.js";
import type { ContactRef } from "../domain/contactRef.js";
import { graphqlModel } from "../domain/graphqlModel.js";
import { resourceKey, type ResourceModel, type ResourceRef } from "../domain/resourceRef.js";
import { traceCachedRead } from "../observability/tracing.js";
import type { Clock } from "./clock.js";
import { ConcurrencyPool } from "./concurrencyPool.js";
import type { FetchOptions, RelatedFetch } from "./fetchContact.js";
import { QuotaLimiter } from "./quotaLimiter.js";
import type { RedisLink } from "./redisLink.js";
import { TieredCache } from "./tieredCache.js";
import type { CallOptions, Upstream } from "./upstream.js";

export interface RelatedSourceOptions {
  config: Pick<
    Config,
    | "CONNECT_API_QUOTAS"
    | "CONNECT_MAX_WAIT_MS"
    | "CONNECT_MAX_CONCURRENCY"
    | "CACHE_RESOURCE_TTL_SECONDS"
    | "CACHE_NEGATIVE_TTL_SECONDS"
    | "REDIS_KEY_PREFIX"
  >;
  upstream: Upstream;
  /**
   * The upstream slots every call takes (the contact source's), so `CONNECT_MAX_CONCURRENCY` bounds
   * all APIs together. Default: a pool of its own.
   */
  pool?: ConcurrencyPool | undefined;
  /** Shares the quotas and the queue/user cache with other replicas (the contact source's link). */
  redis?: RedisLink | undefined;
  /** Optional observers (the gateway's Prometheus metrics): every API's waits and refusals. */
  metrics?: { observeLimiterWait?(api: string, seconds: number, outcome?: "acquired" | "rejected"): void } | undefined;
  /** The caches' expiries, the limiters' and its own pool's waits run on it. Default `systemClock`. */
  clock?: Clock | undefined;
}

/** The related reads with their quota limiters and caches, exposed for tests. */
export interface RelatedSource {
  readonly fetch: RelatedFetch;
  /** One limiter per API: each Connect API has its own quota, per region (the limiter's scope). */
  readonly limiters: Readonly<Record<RelatedApi, QuotaLimiter>>;
  /** The upstream slots its calls take (the one passed in, or its own). */
  readonly pool: ConcurrencyPool;
  /** The cross-request caches of DescribeQueue and DescribeUser answers. */
  readonly queues: TieredCache<ResourceModel>;
  readonly users: TieredCache<ResourceModel>;
  /** Drops every cached queue and user held in process. */
  clear(): void;
}

/**
 * The upstream discipline of the related APIs, like `createContactSource`'s for DescribeContact:
 * every call takes a slot of the shared `ConcurrencyPool`, then every attempt waits for a token of
 * its API's bucket in its region (shared through Redis when configured), failing fast with
 * UPSTREAM_THROTTLED past `CONNECT_MAX_WAIT_MS`; waits and refusals are observed by API. Queues
 * and users change rarely, so they are cached across requests for `CACHE_RESOURCE_TTL_SECONDS` (a
 * `TieredCache` each, keyed by `resourceKey`: in process, Redis when configured, concurrent loads
 * coalesced, not-found answers remembered for `CACHE_NEGATIVE_TTL_SECONDS`). Attributes, references
 * and search results change while contacts are in progress and are never cached across requests;
 * the per-request loaders still share them within one operation.
 */
export function createRelatedSource({ config, upstream, pool: shared, redis, metrics, clock }: RelatedSourceOptions): RelatedSource {
  const observeWait = metrics?.observeLimiterWait?.bind(metrics);
  const pool = shared ?? new ConcurrencyPool({ slots: config.CONNECT_MAX_CONCURRENCY, maxWaitMs: config.CONNECT_MAX_WAIT_MS, clock, observeWait });
  const overrides = config.CONNECT_API_QUOTAS;
  const limiters = Object.fromEntries(
    RELATED_APIS.map((api) => {
      const quota = overrides[api] ?? DEFAULT_API_QUOTAS[api];
      const limiter = new QuotaLimiter({
        rps: quota.rps,
        burst: quota.burst,
        maxWaitMs: config.CONNECT_MAX_WAIT_MS,
        redis,
        keyPrefix: config.REDIS_KEY_PREFIX,
        observeWait,
        clock,
      });
      return [api, limiter];
    }),
  ) as Record<RelatedApi, QuotaLimiter>;

  // Runs one upstream call in a slot of the pool, each attempt granted by its API's bucket.
  const limited = <T>(api: RelatedApi, options: FetchOptions | undefined, call: (options: CallOptions) => Promise<T>): Promise<T> =>
    pool.runFor(options?.operation?.share, api, (deadline) =>
      call({
        operation: options?.operation,
        beforeAttempt: (scope, attempt) => limiters[api].acquire(scope, attempt === 1 ? deadline : undefined, options?.operation?.share),
      }),
    );

  const queues = resourceCache("queue", config, redis, clock);
  const users = resourceCache("user", config, redis, clock);
  const loadQueue = (ref: ResourceRef, options: FetchOptions) => limited("DescribeQueue", options, (o) => upstream.describeQueue(ref, o).then(queueModel));
  const loadUser = (ref: ResourceRef, options: FetchOptions) => limited("DescribeUser", options, (o) => upstream.describeUser(ref, o).then(userModel));
  // Traced, a read the cache answers is a span of its own (a miss is the call's span); untraced, the
  // read stays one expression (see contactSource.ts's fetchContact).
  const describeQueue = (ref: ResourceRef, options: FetchOptions = {}): Promise<ResourceModel> => {
    const trace = options.operation?.trace;
    if (trace) return traceCachedRead(trace, "DescribeQueue", ref, (load) => queues.read(resourceKey(ref), load, options), () => loadQueue(ref, options));
    return queues.read(resourceKey(ref), () => loadQueue(ref, options), options);
  };
  const describeUser = (ref: ResourceRef, options: FetchOptions = {}): Promise<ResourceModel> => {
    const trace = options.operation?.trace;
    if (trace) return traceCachedRead(trace, "DescribeUser", ref, (load) => users.read(resourceKey(ref), load, options), () => loadUser(ref, options));
    return users.read(resourceKey(ref), () => loadUser(ref, options), options);
  };

  return {
    fetch: {
      describeQueue,
      describeUser,
      getContactAttributes: (ref: ContactRef, options) => limited("GetContactAttributes", options, (o) => upstream.getContactAttributes(ref, o)),
      listContactReferences: (ref, types, nextToken, options) =>
        limited("ListContactReferences", options, (o) => upstream.listContactReferences(ref, types, nextToken, o)),
      searchContacts: (request, options) => limited("SearchContacts", options, (o) => upstream.searchContacts(request.region, request.input, o)),
    },
    limiters,
    pool,
    queues,
    users,
    clear() {
      queues.clear();
      users.clear();
    },
  };
}

// Private: a cross-request cache of queues or users, in its own Redis namespace, with one TTL for
// every entry: a queue or user is never "in progress".
function resourceCache(name: "queue" | "user", config: RelatedSourceOptions["config"], redis: RedisLink | undefined, clock: Clock | undefined): TieredCache<ResourceModel> {
  return new TieredCache<ResourceModel>({
    name,
    // The GraphQL-shaped model (earlier versions kept the SDK's queue or user).
    format: "model1",
    freshness: {
      ttlSeconds: () => config.CACHE_RESOURCE_TTL_SECONDS,
      negativeTtlSeconds: config.CACHE_NEGATIVE_TTL_SECONDS,
      enabled: config.CACHE_RESOURCE_TTL_SECONDS > 0,
    },
    maxEntries: 10_000,
    maxBytes: 64 * 1024 * 1024,
    redis,
    keyPrefix: config.REDIS_KEY_PREFIX,
    clock,
  });
}

// Private: DescribeQueue's and DescribeUser's answers in the GraphQL shape (`graphqlModel`), made
// once per read; the caches hold these models.
const queueModel = graphqlModel(Queue$) as (queue: unknown) => ResourceModel;
const userModel = graphqlModel(User$) as (user: unknown) => ResourceModel;
