import type { FastifyInstance, FastifyRequest } from "fastify";
import { parseEntityKey, ResponseEntities, type EntityKind, type ResponseFreshness } from "../graphql/responseEntities.js";
import { isWebSocketUpgrade } from "./authentication.js";
import { requestBypassesCache } from "./cacheControl.js";
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
 * hear of it. It records every contact, queue and user the request's operations read and, before
 * the response is sent, drops this replica's stored responses naming them and publishes them on
 * the bus; every other replica drops its stored responses naming them and its in-process copies of
 * them, so its next read takes the copy just refreshed in Redis instead of an older one of its own.
 *
 * Apart from the response cache because it is not the response cache's: with
 * `RESPONSE_CACHE=false` the other replicas' in-process copies are just as stale, and nothing else
 * told them (the bus was the response cache's, so a re-read reached no other replica).
 */
export class NoCacheRereads {
  constructor(private readonly options: NoCacheRereadsOptions) {}

  /**
   * Records the no-cache requests to `path` (an `onRequest` hook) and makes their re-reads known
   * once the response is ready (an `onSend` hook, which the response waits for). Register it before
   * the route. Callback-style hooks: every request passes them, and most have nothing to do.
   */
  register(app: FastifyInstance, path = "/graphql"): void {
    const { freshness } = this.options;
    app.decorateRequest("noCacheRereads", null);
    app.addHook("onRequest", (request, _reply, done) => {
      if (
        request.routeOptions.url === path &&
        (request.method === "POST" || request.method === "GET") &&
        requestBypassesCache(request.headers) &&
        !isWebSocketUpgrade(request)
      ) {
        request.noCacheRereads = new ResponseEntities("bypass", freshness);
      }
      done();
    });
    app.addHook("onSend", (request, _reply, payload, done) => {
      const rereads = request.noCacheRereads;
      if (!rereads) return done(null, payload);
      request.noCacheRereads = null;
      if (rereads.keys.size === 0) return done(null, payload);
      this.reread([...rereads.keys]).then(() => done(null, payload), done);
    });
  }

  /** The recorder of what `request`'s operations read, when it is a no-cache request (the context's `entities`). */
  entitiesOf(request: FastifyRequest): ResponseEntities | undefined {
    return request.noCacheRereads ?? undefined;
  }

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

declare module "fastify" {
  interface FastifyRequest {
    /** Set by `NoCacheRereads` on no-cache requests: what their operations read. */
    noCacheRereads: ResponseEntities | null;
  }
}
