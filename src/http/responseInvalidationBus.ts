import type { RedisClientType } from "@keyv/redis";
import type { Logger } from "pino";
import type { RedisLink } from "../upstream/redisLink.js";

/**
 * How one replica tells the others which entities it has just re-read from Connect (a request with
 * `Cache-Control: no-cache`), so each drops its own in-process copies of them and its stored
 * responses naming them. Made whenever Redis is configured, response cache or not (`NoCacheRereads`
 * publishes and hears). Contact events need none of this: the event relay already calls every
 * replica.
 */
export interface ResponseInvalidationBus {
  /** Tells the other replicas; never rejects (an outage is logged once; their copies and responses then live out their TTLs). */
  publish(entities: readonly string[]): Promise<void>;
  /** Starts hearing the other replicas' invalidations. */
  start(onRemote: (entities: readonly string[]) => void): Promise<void>;
  close(): Promise<void>;
}

/** How long `start` waits for the subscription before carrying on without it (it completes later). */
const START_WAIT_MS = 2000;

/**
 * Redis pub/sub on `{prefix}response-invalidations`, as the contact events' bus does it: publishing
 * through the gateway's Redis link (fails fast while Redis is down), hearing on a connection of its
 * own, which node-redis subscribes again after a reconnect. Messages carry entity keys only
 * (`contact:region/instance/id`), never response data.
 */
export function createResponseInvalidationBus(redis: RedisLink, keyPrefix: string, replicaId: string, logger: Logger): ResponseInvalidationBus {
  const channel = `${keyPrefix}response-invalidations`;
  let subscriber: RedisClientType | undefined;
  let degraded = false;
  return {
    async publish(entities) {
      if (entities.length === 0) return;
      try {
        await redis.run((client) => client.publish(channel, JSON.stringify({ origin: replicaId, entities })));
        if (degraded) logger.info("no-cache re-reads reach every replica again");
        degraded = false;
      } catch {
        if (!degraded) logger.warn("Redis unavailable: other replicas keep their cached copies and responses of what no-cache requests re-read until they expire");
        degraded = true;
      }
    },
    async start(onRemote) {
      subscriber = redis.client.duplicate({ disableOfflineQueue: false }) as RedisClientType;
      // The gateway's link logs outages; the first failure only ends start-up's wait.
      const unreachable = new Promise((resolve) => subscriber!.on("error", resolve));
      void subscriber.connect().catch(() => {});
      const subscribed = subscriber
        .subscribe(channel, (message: string) => {
          const entities = readMessage(message, replicaId);
          if (entities) onRemote(entities);
        })
        .catch(() => logger.warn("could not subscribe to other replicas' no-cache re-reads"));
      // Start-up waits for the subscription while Redis answers, not for an outage to end.
      await Promise.race([subscribed, unreachable, new Promise((resolve) => setTimeout(resolve, START_WAIT_MS).unref())]);
    },
    async close() {
      const connection = subscriber;
      subscriber = undefined;
      if (!connection) return;
      // A connection still waiting for Redis would wait forever to close gracefully (its queued
      // SUBSCRIBE never completes): it is cut instead.
      if (!connection.isReady) {
        if (connection.isOpen) connection.destroy();
        return;
      }
      try {
        await connection.close();
      } catch {
        connection.destroy();
      }
    },
  };
}

// Private: another replica's entity keys; `undefined` for this replica's own or a malformed message.
function readMessage(message: string, self: string): string[] | undefined {
  try {
    const parsed = JSON.parse(message) as { origin?: unknown; entities?: unknown };
    if (parsed.origin === self || !Array.isArray(parsed.entities)) return undefined;
    return parsed.entities.filter((e): e is string => typeof e === "string");
  } catch {
    return undefined;
  }
}
