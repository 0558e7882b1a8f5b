import { LRUCache } from "lru-cache";
import type { RedisLink } from "../upstream/redisLink.js";

/** What `claim` found: see `EventDeduplicator.claim`. */
export type ClaimResult = "claimed" | "applied" | "busy";

export interface EventDeduplicatorOptions {
  /** Shares claims with every replica; unset keeps them in this process. */
  redis?: RedisLink | undefined;
  keyPrefix?: string;
  /** How long a claim protects an event being applied, ms: no longer than the queue's visibility timeout, so a copy redelivered after a crash can claim it. */
  claimMs: number;
  /** How long an applied event's id is remembered, ms. */
  windowMs: number;
}

/**
 * SQS delivers at least once, and EventBridge may send an event twice: the same EventBridge `id`
 * must reach subscribers once. Before applying an event a replica claims its id (with Redis, for
 * every replica: `SET NX` with the claim's expiry); when applied the id is remembered for `windowMs`;
 * when applying failed the claim is released so the redelivered copy applies it. A copy that arrives
 * while another is still being applied is neither applied nor dropped: it waits for redelivery, so
 * an apply that fails after the copy arrived loses nothing. While Redis is
 * down claims are this replica's alone (a copy consumed by another replica then may be delivered
 * twice; none is lost).
 */
export class EventDeduplicator {
  private readonly local: LRUCache<string, "claimed" | "applied">;

  constructor(private readonly options: EventDeduplicatorOptions) {
    this.local = new LRUCache({ max: 100_000, ttl: options.windowMs });
  }

  /**
   * Claims `eventId` for this replica: `claimed` (apply it), `applied` (a duplicate: drop it), or
   * `busy` (another replica, or an earlier copy here, is applying it right now: leave the message
   * for redelivery, since that apply may still fail).
   */
  async claim(eventId: string): Promise<ClaimResult> {
    const local = this.local.get(eventId);
    if (local) return local === "applied" ? "applied" : "busy";
    const shared = await this.shared(async (client, key) => {
      const set = await client.set(key, "claimed", { condition: "NX", expiration: { type: "PX", value: this.options.claimMs } });
      return set === null ? ((await client.get(key)) === "applied" ? "applied" : "busy") : "claimed";
    }, eventId);
    if (shared === "applied" || shared === "busy") return shared;
    this.local.set(eventId, "claimed", { ttl: this.options.claimMs });
    return "claimed";
  }

  /** The event was applied: copies of it are duplicates for `windowMs`. */
  async applied(eventId: string): Promise<void> {
    this.local.set(eventId, "applied");
    await this.shared((client, key) => client.set(key, "applied", { expiration: { type: "PX", value: this.options.windowMs } }), eventId);
  }

  /** Applying failed: the next copy may apply it. */
  async release(eventId: string): Promise<void> {
    this.local.delete(eventId);
    await this.shared((client, key) => client.del(key), eventId);
  }

  // Private: one command on the event's key; `undefined` without Redis or while it is down.
  private async shared<T>(command: (client: RedisLink["client"], key: string) => Promise<T>, eventId: string): Promise<T | undefined> {
    const redis = this.options.redis;
    if (!redis?.available) return undefined;
    const key = `${this.options.keyPrefix ?? ""}event:${eventId}`;
    return redis.run((client) => command(client, key)).catch(() => undefined);
  }
}
