import { Readable } from "node:stream";
import type { ApolloServerPlugin } from "@apollo/server";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import type { Config } from "../config/config.js";
import { contactKey, type ContactRef } from "../domain/contactRef.js";
import { accessKey, type Principal } from "../domain/principal.js";
import type { GatewayContext } from "../graphql/context.js";
import { logCachedOperation } from "../graphql/operationLog.js";
import { entityKey, ResponseEntities, responseFreshness, type CachedUntil, type OperationVerdict, type ResponseFreshness } from "../graphql/responseEntities.js";
import type { GatewayMetrics } from "../observability/metrics.js";
import type { Tracing } from "../observability/tracing.js";
import { systemClock, type Clock } from "../upstream/clock.js";
import { isWebSocketUpgrade, requestPrincipal } from "./authentication.js";
import { requestBypassesCache } from "./cacheControl.js";
import { RecentInvalidations } from "./recentInvalidations.js";

export interface ResponseCacheOptions {
  config: Pick<
    Config,
    | "RESPONSE_CACHE"
    | "RESPONSE_CACHE_MAX_MB"
    | "CACHE_TTL_SECONDS"
    | "CACHE_ACTIVE_TTL_SECONDS"
    | "CACHE_NEGATIVE_TTL_SECONDS"
    | "CACHE_RESOURCE_TTL_SECONDS"
    | "AUTH_MODE"
    | "BODY_LIMIT_BYTES"
  >;
  logger: Logger;
  metrics: Pick<GatewayMetrics, "observeResponseCache" | "observeOperation">;
  /**
   * When the cached copy of an entity an operation read expires (the contact, queue and user
   * caches' `expiresAt`): a response expires no later than the copies it was made from. Unset: a
   * response lives its entities' full lifetimes from when it is stored.
   */
  cachedUntil?: CachedUntil | undefined;
  /**
   * With tracing on: a hit gets an operation span of its own, as an executed operation does from the
   * tracing plugin (Apollo never sees a hit), marked `gateway.response_cache: "hit"`.
   */
  tracing?: Pick<Tracing, "startOperation"> | undefined;
  /** Expiries run on it (the caches' clock). Default `systemClock`. */
  clock?: Clock | undefined;
}

/**
 * What one stored response costs besides its body and key: the entry, its slot in the LRU, its
 * headers. An upper bound, measured by `npm run bench` (`responseCacheMemoryAtBound`: V8 heap plus
 * buffers after full collections, against the same fill without the cache): 720 first, from one
 * response in isolation (1.4 KB naming three entities held 2.96 KB and was charged 3.0 KB), let
 * 10,129 entries at a 32 MB bound hold 36.3 MB (3,758 B each, 3,169 charged); 1,400 charges them
 * 3,849. docs/caching-and-quota.md ("Bounds") tells the same.
 */
const ENTRY_OVERHEAD_BYTES = 1_400;
/** What each entity a response names costs: its key string and its place in the entity index. */
const ENTITY_OVERHEAD_BYTES = 160;
/**
 * What remembering one invalidated entity for the misses still running costs (`RecentInvalidations`):
 * its key, made as `contactChanged` makes it, and its place in the record; measured 197–199 bytes
 * each, after full collections, for 10,000 contacts. The record holds at most a sixteenth of
 * `RESPONSE_CACHE_MAX_MB` of them (64 MB: 20,971 entities; 1 MB: 327), and only while a miss
 * that began before them runs: it was 100,000 entities whatever ran, which grew the heap by 15.6–16.6
 * MB for 100,000 contact events with nothing stored, none of it counted.
 */
const INVALIDATION_RECORD_BYTES = 200;

/** The operation response cache, when `RESPONSE_CACHE` is on and the contact cache is (`CACHE_TTL_SECONDS` > 0). */
export function createResponseCache(options: ResponseCacheOptions): ResponseCache | undefined {
  const { config } = options;
  return config.RESPONSE_CACHE && config.CACHE_TTL_SECONDS > 0 ? new ResponseCache(options) : undefined;
}

/**
 * The operation response cache: a repeated query is answered with the bytes of its earlier
 * response, without parsing, validating or executing it, and without any upstream read.
 *
 * - **Key**: the raw request as received (the POST body's bytes, or the GET URL), the `Accept` and
 *   `Content-Type` headers and the others that shape a response (CSRF preflight headers, the
 *   federated-tracing header), and the caller's access: whether it holds `contacts:pii` and the
 *   instances it may read. Two tokens with that same access share responses whoever their subject
 *   (nothing in a response depends on it); any difference in access, body bytes or whitespace is
 *   a miss. Requests are looked up in a Fastify `preParsing` hook, after authentication and before
 *   the body is parsed: a hit costs the body's read, a map lookup and the write.
 * - **Stored**: a single `query` (not a batch) answered HTTP 200 without `errors`, whose reads were
 *   all of cached things (`ResponseEntities`): its body, `Content-Type` and `Cache-Control`, and
 *   its operation name and type for the operation log. `x-request-id`, CORS and the rest are the
 *   new request's own.
 * - **Freshness**: the shortest cache lifetime of what it contains, from when it is stored
 *   (`ResponseEntities.ttlSeconds`), and never past the expiry of a cached copy it was made from
 *   (`cachedUntil`): a contact read from the contact cache 50 s into its 60 s leaves the response
 *   10 s, not 60.
 * - **Invalidation**: every response names the contacts, queues and users it contains. A contact
 *   event drops those naming its contact (`contactChanged`, called on every replica by the relay); a
 *   `Cache-Control: no-cache` request is never answered from the cache nor stored, and those naming
 *   whatever it re-read are dropped on every replica (`invalidate`, called by `NoCacheRereads`, which
 *   records such requests and carries their re-reads between replicas whether or not this cache is
 *   on). A response whose operation was running when one of its entities was invalidated is not
 *   stored.
 * - **Bounds**: an LRU of `RESPONSE_CACHE_MAX_MB`, each response charged its body and key plus its
 *   bookkeeping, none larger than a sixteenth of the whole. Besides it, the record of invalidations
 *   that misses still running need: nothing while none runs, at most a sixteenth of the bound.
 */
export class ResponseCache {
  private readonly responses: LRUCache<string, StoredResponse>;
  /** Entity key → keys of the stored responses naming it. */
  private readonly byEntity = new Map<string, Set<string>>();
  /** The invalidations misses still running need to know of. */
  private readonly recent: RecentInvalidations;
  private readonly freshness: ResponseFreshness;
  private readonly clock: Clock;

  constructor(private readonly options: ResponseCacheOptions) {
    const { config } = options;
    const maxSize = config.RESPONSE_CACHE_MAX_MB * 1024 * 1024;
    this.responses = new LRUCache<string, StoredResponse>({
      maxSize,
      maxEntrySize: Math.floor(maxSize / 16),
      sizeCalculation: (response, key) => response.body.byteLength + key.length + ENTRY_OVERHEAD_BYTES + response.entities.length * ENTITY_OVERHEAD_BYTES,
      dispose: (response, key) => this.unindex(response, key),
    });
    this.recent = new RecentInvalidations(Math.floor(maxSize / 16 / INVALIDATION_RECORD_BYTES));
    this.freshness = responseFreshness(config);
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Serves hits on `path` and stores what misses answered: a `preParsing` hook (after the
   * authentication hook of `onRequest`) and an `onSend` hook. Register it before the route.
   */
  register(app: FastifyInstance, path = "/graphql"): void {
    const { config, metrics, logger } = this.options;
    app.decorateRequest("responseCache", null);
    app.addHook("preParsing", async (request, reply, payload) => {
      if (request.routeOptions.url !== path || (request.method !== "POST" && request.method !== "GET") || isWebSocketUpgrade(request)) return payload;
      const started = performance.now();
      // Neither answered nor stored; `NoCacheRereads` records what it re-reads.
      if (requestBypassesCache(request.headers)) {
        metrics.observeResponseCache("bypass");
        return payload;
      }
      let operation: string;
      let body: Readable | undefined;
      if (request.method === "GET") {
        // Without parameters it is the GraphiQL page or a request Apollo refuses.
        if (!request.url.includes("?")) return payload;
        operation = request.url;
      } else {
        const length = Number(request.headers["content-length"]);
        if (!isJson(request.headers["content-type"]) || !(length > 0 && length <= config.BODY_LIMIT_BYTES) || request.headers["content-encoding"] !== undefined) {
          metrics.observeResponseCache("bypass");
          return payload;
        }
        const bytes = await readBody(payload);
        body = replay(bytes);
        if (isBatch(bytes)) {
          metrics.observeResponseCache("bypass");
          return body;
        }
        operation = bytes.toString("latin1");
      }
      let principal: Principal;
      try {
        principal = requestPrincipal(request, config.AUTH_MODE);
      } catch {
        return body ?? payload; // Apollo refuses it
      }
      const key = this.keyOf(request, principal, operation);
      const stored = this.lookup(key);
      if (!stored) {
        metrics.observeResponseCache("miss");
        request.responseCache = { key, began: this.recent.begin(), entities: new ResponseEntities("miss", this.freshness, this.options.cachedUntil) };
        return body ?? payload;
      }
      metrics.observeResponseCache("hit");
      request.responseCache = HIT;
      const span = this.options.tracing?.startOperation(headerSource(request.headers));
      void reply.code(200).header("content-type", stored.contentType);
      if (stored.cacheControl !== undefined) void reply.header("cache-control", stored.cacheControl);
      void reply.send(stored.body);
      logCachedOperation(logger, metrics, {
        requestId: request.id,
        operationName: stored.operationName,
        operationType: stored.operationType,
        durationMs: performance.now() - started,
      });
      span?.end({ name: stored.operationName, type: stored.operationType, outcome: "ok", errorCodes: [], upstreamCalls: 0, responseCacheHit: true });
      // Resolves once the response is written; Fastify then stops (the reply is sent).
      return reply;
    });
    app.addHook("onSend", async (request, reply, payload) => {
      const ticket = request.responseCache;
      if (!ticket || ticket === HIT) return payload;
      request.responseCache = null;
      try {
        const verdict = ticket.entities.verdict;
        const contentType = reply.getHeader("content-type");
        if (!verdict?.cacheable || reply.statusCode !== 200 || typeof payload !== "string" || typeof contentType !== "string") return payload;
        const cacheControl = reply.getHeader("cache-control");
        const stored = this.store(
          ticket.key,
          {
            body: ownBytes(payload),
            contentType,
            cacheControl: typeof cacheControl === "string" ? cacheControl : undefined,
            operationName: verdict.operationName,
            operationType: verdict.operationType,
          },
          ticket.entities,
          ticket.began,
        );
        if (stored) metrics.observeResponseCache("store");
        return payload;
      } finally {
        // Every miss ends here: Fastify runs onSend for every reply, errors and aborted requests
        // included (the Apollo handler returns its payload). A miss that never did would keep what
        // began after it remembered until the record is full, then no longer.
        this.recent.end(ticket.began);
      }
    });
  }

  /**
   * The Apollo plugin that tells the `onSend` hook whether a missed operation's response may be
   * stored: a single `query`, HTTP 200, no `errors`, and the request's only operation. The operations
   * of an HTTP batch share the request's context, and so its one record: `isBatch` keeps batches
   * from being looked up, and should one get through anyway, the verdict is never to store once a
   * second operation starts, whichever ends last (otherwise the last to end decided for the whole
   * batch, and a batch ending in a clean operation stored the errors of the others).
   */
  readonly plugin: ApolloServerPlugin<GatewayContext> = {
    async requestDidStart({ contextValue }) {
      const entities = contextValue.entities;
      if (entities?.lookup !== "miss") return;
      if (++entities.operations > 1) {
        entities.verdict = SEVERAL_OPERATIONS;
        return;
      }
      return {
        async willSendResponse(rc) {
          if (entities.operations > 1) return;
          const body = rc.response.body;
          entities.verdict = {
            cacheable:
              body.kind === "single" &&
              !body.singleResult.errors?.length &&
              rc.operation?.operation === "query" &&
              (rc.response.http.status ?? 200) === 200 &&
              !rc.requestIsBatched,
            operationName: rc.operationName ?? null,
            operationType: rc.operation?.operation ?? null,
          };
        },
      };
    },
  };

  /** The recorder of what `request`'s operation reads, when the response cache looked at it (the context's `entities`). */
  entitiesOf(request: FastifyRequest): ResponseEntities | undefined {
    const ticket = request.responseCache;
    return ticket && ticket !== HIT ? ticket.entities : undefined;
  }

  /** A contact changed (a contact event, on every replica): drops every response naming it. */
  contactChanged(ref: ContactRef): void {
    this.invalidate([entityKey("contact", contactKey(ref))]);
  }

  /**
   * Drops every response naming one of `entities` (`entityKey`s) on this replica; returns how many.
   * Remembered while a miss that began before it is still running, so that miss stores nothing.
   */
  invalidate(entities: readonly string[]): number {
    this.recent.record(entities);
    let dropped = 0;
    for (const entity of entities) {
      const keys = this.byEntity.get(entity);
      if (!keys) continue;
      for (const key of [...keys]) if (this.responses.delete(key)) dropped++;
    }
    return dropped;
  }

  async close(): Promise<void> {
    this.responses.clear();
  }

  /**
   * What is held: responses, and the bytes they are charged (≤ `RESPONSE_CACHE_MAX_MB`); and the
   * entities remembered for misses still running (`INVALIDATION_RECORD_BYTES` each, not charged).
   */
  usage(): { entries: number; bytes: number; invalidations: number } {
    return { entries: this.responses.size, bytes: this.responses.calculatedSize, invalidations: this.recent.size().records };
  }

  // Private: the key of a request (see the class comment). Values are joined by newlines, which no
  // header value holds; the access is JSON and the operation comes last, so no two requests that
  // differ in any part share a key.
  private keyOf(request: FastifyRequest, principal: Principal, operation: string): string {
    const h = request.headers;
    const preflight = h["x-apollo-operation-name"] || h["apollo-require-preflight"] ? "1" : "0";
    return `${accessKey(principal)}\n${request.method}\n${h.accept ?? ""}\n${h["content-type"] ?? ""}\n${preflight}\n${h["apollo-federation-include-trace"] ?? ""}\n${operation}`;
  }

  private lookup(key: string): StoredResponse | undefined {
    const stored = this.responses.get(key);
    if (stored && stored.expiresAt <= this.clock.now()) {
      this.responses.delete(key);
      return undefined;
    }
    return stored;
  }

  // Private: holds a response for its entities' shortest lifetime (no longer than the cached copies
  // it was made from), unless one of them was invalidated after the miss `began` (the operation may
  // have read it before the change).
  private store(key: string, response: Omit<StoredResponse, "entities" | "expiresAt">, entities: ResponseEntities, began: number): boolean {
    const now = this.clock.now();
    const expiresAt = entities.expiresAt(now);
    if (!(expiresAt > now) || !this.recent.mayStore(began, entities.keys)) return false;
    const names = [...entities.keys];
    const stored: StoredResponse = { ...response, entities: names, expiresAt };
    this.responses.set(key, stored);
    if (this.responses.peek(key) !== stored) return false; // larger than an entry may be
    for (const entity of names) {
      let keys = this.byEntity.get(entity);
      if (!keys) this.byEntity.set(entity, (keys = new Set()));
      keys.add(key);
    }
    return true;
  }

  private unindex(response: StoredResponse, key: string): void {
    for (const entity of response.entities) {
      const keys = this.byEntity.get(entity);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.byEntity.delete(entity);
    }
  }
}

/** One stored response: what a hit sends, and what it names. */
interface StoredResponse {
  readonly body: Buffer;
  readonly contentType: string;
  readonly cacheControl: string | undefined;
  readonly operationName: string | null;
  readonly operationType: string | null;
  /** The `entityKey`s it names. */
  readonly entities: readonly string[];
  /** Wall-clock ms. */
  readonly expiresAt: number;
}

/** What the response cache knows of a request it looked up and did not find. */
interface Ticket {
  /** The key it would be stored under. */
  readonly key: string;
  /** Its mark in the record of recent invalidations (`RecentInvalidations.begin`), ended by `onSend`. */
  readonly began: number;
  readonly entities: ResponseEntities;
}

/** A request answered from the cache. */
const HIT = Symbol("response cache hit");

/** The verdict on a request that started more than one operation: not stored. */
const SEVERAL_OPERATIONS: OperationVerdict = { cacheable: false, operationName: null, operationType: null };

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the response cache's `preParsing` hook on requests it looked at. */
    responseCache: Ticket | typeof HIT | null;
  }
}

// Private: a body Fastify's JSON parser takes (Apollo takes nothing else over POST).
function isJson(contentType: string | undefined): boolean {
  return contentType !== undefined && /^\s*application\/json\s*(?:;|$)/i.test(contentType);
}

// Private: an HTTP batch is a JSON array: its first byte past a UTF-8 byte-order mark (which
// Fastify's JSON parser skips, and so Apollo runs the batch) and JSON's whitespace is `[`.
function isBatch(bytes: Buffer): boolean {
  const start = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  for (let i = start; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return byte === 0x5b;
  }
  return false;
}

// Private: the whole body (its length is known and within BODY_LIMIT_BYTES). A failed read is a
// 400, as when Fastify reads it.
function readBody(payload: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    payload.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
    });
    payload.once("end", () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    payload.once("error", (error: Error & { statusCode?: number }) => {
      error.statusCode ??= 400;
      reject(error);
    });
  });
}

// Private: the body again, for Fastify's parser on a miss (the hook read the request's stream).
function replay(bytes: Buffer): Readable {
  return Object.assign(Readable.from([bytes], { objectMode: false }), { receivedEncodedLength: bytes.length });
}

// Private: the response's bytes in an ArrayBuffer of their own: a small `Buffer.from` is a slice of
// a shared 8 KB pool, which would stay allocated while any slice lives.
function ownBytes(text: string): Buffer {
  const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text));
  bytes.write(text, "utf8");
  return bytes;
}

// Private: Fastify's request headers as the tracing's header source (a repeated header joined, as
// Node joins most of them).
function headerSource(headers: FastifyRequest["headers"]): { get(name: string): string | undefined } {
  return {
    get: (name) => {
      const value = headers[name];
      return Array.isArray(value) ? value.join(",") : value;
    },
  };
}
