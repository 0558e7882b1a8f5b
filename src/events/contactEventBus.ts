import type { RedisClientType } from "@keyv/redis";
import type { Logger } from "pino";
import type { ContactEvent } from "../domain/contactEvent.js";
import type { RedisLink } from "../upstream/redisLink.js";

/**
 * How an event applied on one replica reaches the others. The replica that consumed an event from
 * the queue delivers it to its own subscribers directly and publishes it here; every other replica
 * hears it once, refreshes its copy of the contact from the shared cache and delivers it to its
 * subscribers. Without Redis there are no other replicas to tell.
 */
export interface ContactEventBus {
  /** Tells the other replicas; never rejects (an outage is logged, the event stays applied here). */
  publish(event: ContactEvent): Promise<void>;
  /** Starts hearing other replicas' events, in the order they were published. */
  start(onRemote: (event: ContactEvent) => void): Promise<void>;
  close(): Promise<void>;
}

/** How long `start` waits for the subscription before carrying on without it (it completes later). */
const START_WAIT_MS = 2000;

/** One replica alone: nothing to tell, nothing to hear. */
export const LOCAL_BUS: ContactEventBus = {
  publish: async () => {},
  start: async () => {},
  close: async () => {},
};

/**
 * Redis pub/sub on `{prefix}contact-events`. Publishing goes through the gateway's Redis link
 * (fails fast while Redis is down); hearing needs a connection of its own (a subscribed connection
 * serves nothing else), which node-redis re-subscribes after reconnecting. While Redis is down, an
 * event reaches only the subscribers of the replica that consumed it; that is logged once per outage.
 */
export function createRedisBus(redis: RedisLink, keyPrefix: string, replicaId: string, logger: Logger): ContactEventBus {
  const channel = `${keyPrefix}contact-events`;
  let subscriber: RedisClientType | undefined;
  let degraded = false;
  return {
    async publish(event) {
      try {
        await redis.run((client) => client.publish(channel, JSON.stringify({ origin: replicaId, event })));
        if (degraded) logger.info("contact events reach every replica again");
        degraded = false;
      } catch {
        if (!degraded) logger.warn("Redis unavailable: contact events reach only this replica's subscribers until it returns");
        degraded = true;
      }
    },
    async start(onRemote) {
      // Its own connection, whose commands wait for it to connect (the link's fail fast): the
      // subscription is made whenever Redis is reachable, and node-redis restores it after a reconnect.
      subscriber = redis.client.duplicate({ disableOfflineQueue: false }) as RedisClientType;
      subscriber.on("error", () => {}); // the gateway's link logs outages
      void subscriber.connect().catch(() => {});
      const subscribed = subscriber
        .subscribe(channel, (message: string) => {
          const event = readMessage(message, replicaId);
          if (event) onRemote(event);
        })
        .catch(() => logger.warn("could not subscribe to other replicas' contact events"));
      // Start-up waits for the subscription while Redis answers, not for an outage to end.
      await Promise.race([subscribed, new Promise((resolve) => setTimeout(resolve, START_WAIT_MS).unref())]);
    },
    async close() {
      const connection = subscriber;
      subscriber = undefined;
      // Destroyed, not closed: a subscribed connection has nothing to flush, and close() would wait
      // for a queued SUBSCRIBE that an unreachable Redis never answers.
      if (connection?.isOpen) connection.destroy();
    },
  };
}

// Private: another replica's event; `undefined` for this replica's own or a malformed message.
function readMessage(message: string, self: string): ContactEvent | undefined {
  try {
    const parsed = JSON.parse(message) as { origin?: unknown; event?: ContactEvent & { timestamp: string } };
    if (parsed.origin === self || !parsed.event?.ref) return undefined;
    return { ...parsed.event, timestamp: new Date(parsed.event.timestamp) };
  } catch {
    return undefined;
  }
}
