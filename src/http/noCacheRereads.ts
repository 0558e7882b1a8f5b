import type { ApolloServerPlugin } from "@apollo/server";
import type { GatewayContext } from "../graphql/context.js";
import { parseEntityKey, ResponseEntities, type EntityKind, type ResponseFreshness } from "../graphql/responseEntities.js";
import type { ResponseInvalidationBus } from "./responseInvalidationBus.js";

export interface NoCacheRereadsOptions {
  /**
   * Carries what this replica re-read to the others, and what they re-read to it (`REDIS_URL`);
   * unset: this replica alone.
   */
  bus?: ResponseInvalidationBus | undefined;
  /** Drops this replica's stored responses naming these `entityKey`s (`ResponseCache.invalidate`); unset: no response cache. */
  dropResponses?: ((entities: readonly string[]) => void) | undefined;
  /**
   * Drops this replica's in-process copy of an entity another replica has just re-read from
   * Connect, so its next read takes the copy that re-read left in Redis.
   */
  evictLocal: (kind: EntityKind, key: string) => void;
  /** The caches' lifetimes, which the recorder of a request's reads needs (nothing here is stored). */
  freshness: ResponseFreshness;
}

/**
 * The no-cache re-reads of this replica, when anything beyond the contact source's own refresh must
 * hear of them: a response cache, or other replicas through Redis. `undefined` when neither.
 */
export function createNoCacheRereads(options: NoCacheRereadsOptions): NoCacheRereads | undefined {
  return options.bus || options.dropResponses ? new NoCacheRereads(options) : undefined;
}

/**
 * A request with `Cache-Control: no-cache` (or `max-age=0`, or `Pragma: no-cache`) reads Connect
 * again and refreshes the cache for everyone: its own read refreshes this replica's copy and the
 * one in Redis (the contact, queue and user caches do that), and this makes the rest of "everyone"
 * hear of it. The request's context records every contact, queue and user its operations read
 * (`recorder`), and before the response is sent (`plugin`) this replica's stored responses naming
 * them are dropped and they are published on the bus; every other replica drops its stored
 * responses naming them and its in-process copies of them, so its next read takes the copy just
 * refreshed in Redis instead of an older one of its own.
 *
 * Apart from the response cache because it is not the response cache's: with
 * `RESPONSE_CACHE=false` the other replicas' in-process copies are just as stale, and nothing else
 * told them (the bus was the response cache's, so a re-read reached no other replica).
 *
 * No Fastify hook: the context already decides whether a request is no-cache, and the plugin does
 * nothing for one that is not, so those (nearly all requests) pay one check.
 */
export class NoCacheRereads {
  constructor(private readonly options: NoCacheRereadsOptions) {}

  /** A record of what a no-cache request's operations read: its context's `entities`. */
  recorder(): ResponseEntities {
    return new ResponseEntities("bypass", this.options.freshness);
  }

  /** What each request's record has had published already (an HTTP batch's operations share one record). */
  private readonly published = new WeakMap<ResponseEntities, Set<string>>();

  /**
   * Makes a no-cache request's re-reads known before its response is sent (Apollo awaits
   * `willSendResponse`): after each operation, what it read that was not published yet, so an HTTP
   * batch's are all known however its operations end, each once.
   */
  readonly plugin: ApolloServerPlugin<GatewayContext> = {
    requestDidStart: async ({ contextValue }) => {
      const recorded = contextValue.entities;
      if (recorded?.lookup !== "bypass") return;
      return {
        willSendResponse: async () => {
          let done = this.published.get(recorded);
          if (!done) this.published.set(recorded, (done = new Set()));
          const fresh = [...recorded.keys].filter((key) => !done.has(key));
          if (fresh.length === 0) return;
          for (const key of fresh) done.add(key);
          await this.reread(fresh);
        },
      };
    },
  };

  /** Hears the other replicas' re-reads (with Redis). */
  async start(): Promise<void> {
    await this.options.bus?.start((entities) => {
      this.options.dropResponses?.(entities);
      for (const entity of entities) {
        const parsed = parseEntityKey(entity);
        if (parsed) this.options.evictLocal(parsed.kind, parsed.key);
      }
    });
  }

  async close(): Promise<void> {
    await this.options.bus?.close();
  }

  // Private: this replica's re-read of `entities`, made known here and to the other replicas (the
  // bus never rejects: during an outage they keep what they hold until it expires).
  private async reread(entities: string[]): Promise<void> {
    this.options.dropResponses?.(entities);
    await this.options.bus?.publish(entities);
  }
}
