import { KeyvAdapter } from "@apollo/utils.keyvadapter";
import { InMemoryLRUCache, type KeyValueCache, type KeyValueCacheSetOptions } from "@apollo/utils.keyvaluecache";
import { createKeyv, type Keyv } from "@keyv/redis";
import type { RedisLink } from "./redisLink.js";

/** How long an Apollo cache entry without a TTL of its own (a persisted query) is kept in Redis. */
export const APOLLO_SHARED_TTL_SECONDS = 86_400;

/**
 * Apollo Server's cache (automatic persisted queries) on the same store: in process always, and
 * through Redis when configured, so a query registered on one replica is known to all. Redis errors
 * and timeouts are misses; the in-process copy keeps persisted queries working while Redis is down.
 */
export function createApolloCache(redis: RedisLink | undefined, keyPrefix = ""): KeyValueCache<string> {
  const local = new InMemoryLRUCache<string>();
  if (!redis) return local;
  const keyv = createKeyv(redis.client, { namespace: `${keyPrefix}apollo`, throwOnErrors: true }) as Keyv<string>;
  keyv.on("error", () => {});
  // (The adapter is CommonJS and types `keyv` from its CommonJS build; the instance is the same.)
  const shared = new KeyvAdapter<string>(keyv as never, { disableBatchReads: true });
  const remote = <T>(operation: () => Promise<T>) =>
    redis.available ? redis.run(operation).catch(() => undefined) : Promise.resolve(undefined);
  return {
    async get(key) {
      const value = (await local.get(key)) ?? (await remote(() => shared.get(key)));
      if (value !== undefined) await local.set(key, value);
      return value;
    },
    async set(key, value, options?: KeyValueCacheSetOptions) {
      await local.set(key, value, options);
      // Apollo stores persisted queries without a TTL; in Redis that would let clients grow it
      // without bound, so entries without one expire after a day (in process the LRU bounds them).
      await remote(() => shared.set(key, value, { ttl: options?.ttl ?? APOLLO_SHARED_TTL_SECONDS }));
    },
    async delete(key) {
      await local.delete(key);
      await remote(() => shared.delete(key));
    },
  };
}
