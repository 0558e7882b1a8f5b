import type { Config } from "../config/config.js";
import { contactKey, type ContactModel, type ContactRef } from "../domain/contactRef.js";
import { ErrorCode, upstreamErrorCode } from "../domain/errors.js";
import { resourceKey, type ResourceRef } from "../domain/resourceRef.js";
import { contactTtlSeconds } from "../upstream/contactFreshness.js";
import type { CachedContact, FetchContact, RelatedFetch } from "../upstream/fetchContact.js";

/** What a response can name: a contact, a queue or a user (the response cache's entities). */
export type EntityKind = "contact" | "queue" | "user";

/** The one string an entity is indexed and invalidated by: `contact:us-east-1/<instance>/<contact>`. */
export function entityKey(kind: EntityKind, key: string): string {
  return `${kind}:${key}`;
}

/** The kind and the cache key (`contactKey`, `resourceKey`) of an `entityKey`; `undefined` for anything else. */
export function parseEntityKey(entity: string): { kind: EntityKind; key: string } | undefined {
  const colon = entity.indexOf(":");
  const kind = entity.slice(0, colon);
  return kind === "contact" || kind === "queue" || kind === "user" ? { kind, key: entity.slice(colon + 1) } : undefined;
}

/** How long what an operation read may be served again: the cross-request caches' own TTLs, in seconds. */
export interface ResponseFreshness {
  /** A finished contact (`CACHE_TTL_SECONDS`); also a response that read nothing from Connect. */
  readonly ttlSeconds: number;
  /** A contact in progress or in after-contact work (`CACHE_ACTIVE_TTL_SECONDS`). */
  readonly activeTtlSeconds: number;
  /** A contact, queue or user Connect does not know (`CACHE_NEGATIVE_TTL_SECONDS`). */
  readonly negativeTtlSeconds: number;
  /** A queue or a user (`CACHE_RESOURCE_TTL_SECONDS`). */
  readonly resourceTtlSeconds: number;
}

/** The caches' lifetimes, as the settings give them. */
export function responseFreshness(
  config: Pick<Config, "CACHE_TTL_SECONDS" | "CACHE_ACTIVE_TTL_SECONDS" | "CACHE_NEGATIVE_TTL_SECONDS" | "CACHE_RESOURCE_TTL_SECONDS">,
): ResponseFreshness {
  return {
    ttlSeconds: config.CACHE_TTL_SECONDS,
    activeTtlSeconds: config.CACHE_ACTIVE_TTL_SECONDS,
    negativeTtlSeconds: config.CACHE_NEGATIVE_TTL_SECONDS,
    resourceTtlSeconds: config.CACHE_RESOURCE_TTL_SECONDS,
  };
}

/**
 * When the cached copy an operation just read expires (wall-clock ms): the copy holding `value`
 * (a contact or resource model) under `key` (`contactKey`, `resourceKey`), or, without `value`, a
 * remembered not-found; `undefined` when no cached copy holds it (`TieredCache.expiresAt`).
 */
export type CachedUntil = (kind: EntityKind, key: string, value?: object) => number | undefined;

/** How an operation ended, as the response cache needs it to store and replay the response. */
export interface OperationVerdict {
  /** A single `query` operation whose response is HTTP 200 without `errors`. */
  readonly cacheable: boolean;
  readonly operationName: string | null;
  readonly operationType: string | null;
}

/**
 * What one operation read from Connect, recorded for the response cache: every contact, queue and
 * user its response can contain (cache hits included), and how long the response may be served
 * again, the shortest lifetime among them, each by its own cache's policy. A read that is never
 * cached across requests (attributes, references, a search page), or that failed other than with
 * not-found, makes the response uncacheable; a not-found answer lives its negative TTL. An operation
 * that read nothing from Connect (`__typename`, introspection, an empty list) depends only on the
 * schema and the caller's access, and lives as long as a finished contact.
 *
 * A copy read from a cache has already spent part of its lifetime there: with `cachedUntil`, the
 * response also expires no later than the soonest of the cached copies it was made from, so it
 * never shows an entity after the cache it came from would have read it again.
 */
export class ResponseEntities {
  /** The `entityKey` of every contact, queue and user read. */
  readonly keys = new Set<string>();
  /** Set once the operation is over (the response cache's Apollo plugin). */
  verdict: OperationVerdict | undefined;
  /**
   * The operations started with this record (the response cache's Apollo plugin): an HTTP batch
   * runs all of its operations with its request's one context.
   */
  operations = 0;
  private shortest = Infinity;
  /** The soonest expiry (wall-clock ms) of the cached copies read. */
  private soonest = Infinity;
  private uncacheable = false;

  constructor(
    /** How the response cache treated the request: looked up and not found, or skipped (`Cache-Control: no-cache`). */
    readonly lookup: "miss" | "bypass",
    private readonly freshness: ResponseFreshness,
    private readonly cachedUntil?: CachedUntil | undefined,
  ) {}

  /** Seconds the response may be served from the response cache, counted from now; 0: not at all. */
  get ttlSeconds(): number {
    if (this.uncacheable) return 0;
    return this.shortest === Infinity ? this.freshness.ttlSeconds : this.shortest;
  }

  /**
   * When a response stored at `now` (wall-clock ms) expires: after `ttlSeconds`, or sooner when a
   * cached copy it was made from expires sooner; `now` or earlier: do not store it.
   */
  expiresAt(now: number): number {
    const ttlSeconds = this.ttlSeconds;
    return ttlSeconds > 0 ? Math.min(now + ttlSeconds * 1000, this.soonest) : now;
  }

  contact(ref: ContactRef, contact: ContactModel): void {
    const key = contactKey(ref);
    this.keys.add(entityKey("contact", key));
    // The contact cache holds nothing with CACHE_TTL_SECONDS=0, whatever the contact's state.
    this.live(this.freshness.ttlSeconds > 0 ? contactTtlSeconds(contact, this.freshness) : 0);
    this.until(this.cachedUntil?.("contact", key, contact));
  }

  resource(kind: "queue" | "user", ref: ResourceRef, resource: object): void {
    const key = resourceKey(ref);
    this.keys.add(entityKey(kind, key));
    this.live(this.freshness.resourceTtlSeconds);
    this.until(this.cachedUntil?.(kind, key, resource));
  }

  /** A read that failed: a not-found answer is cached for its negative TTL, anything else never. */
  failed(kind: EntityKind, key: string, error: unknown): void {
    this.keys.add(entityKey(kind, key));
    if (upstreamErrorCode(error) === ErrorCode.NOT_FOUND) {
      this.live(this.freshness.negativeTtlSeconds);
      this.until(this.cachedUntil?.(kind, key));
    } else this.uncacheable = true;
  }

  /** A read no cross-request cache holds (attributes, references, search). */
  notCached(): void {
    this.uncacheable = true;
  }

  private live(seconds: number): void {
    if (seconds < this.shortest) this.shortest = seconds;
  }

  private until(expiresAt: number | undefined): void {
    if (expiresAt !== undefined && expiresAt < this.soonest) this.soonest = expiresAt;
  }
}

/**
 * The context's sources with every read recorded in `entities`: the loaders read through these, so
 * whatever a response can contain (each distinct contact, queue and user, from a cache or from
 * Connect) is recorded once per operation, with the object read (a contact's freshness depends on
 * its state).
 */
export function recordReads(
  sources: { readonly fetchContact: FetchContact; readonly cachedContact?: CachedContact | undefined; readonly related: RelatedFetch },
  entities: ResponseEntities,
): { fetchContact: FetchContact; cachedContact: CachedContact | undefined; related: RelatedFetch } {
  const { fetchContact, cachedContact, related } = sources;
  const recorded = <T>(read: Promise<T>, onValue: (value: T) => void, kind: EntityKind, key: () => string): Promise<T> =>
    read.then(
      (value) => {
        onValue(value);
        return value;
      },
      (error: unknown) => {
        entities.failed(kind, key(), error);
        throw error;
      },
    );
  const uncached = <T>(read: Promise<T>): Promise<T> => {
    entities.notCached();
    return read;
  };
  return {
    fetchContact: (ref, options) =>
      recorded(fetchContact(ref, options), (contact) => entities.contact(ref, contact), "contact", () => contactKey(ref)),
    cachedContact:
      cachedContact &&
      ((ref, options) => {
        const contact = cachedContact(ref, options);
        if (contact) entities.contact(ref, contact);
        return contact;
      }),
    related: {
      describeQueue: (ref, options) => recorded(related.describeQueue(ref, options), (queue) => entities.resource("queue", ref, queue), "queue", () => resourceKey(ref)),
      describeUser: (ref, options) => recorded(related.describeUser(ref, options), (user) => entities.resource("user", ref, user), "user", () => resourceKey(ref)),
      getContactAttributes: (ref, options) => uncached(related.getContactAttributes(ref, options)),
      listContactReferences: (ref, types, token, options) => uncached(related.listContactReferences(ref, types, token, options)),
      searchContacts: (request, options) => uncached(related.searchContacts(request, options)),
    },
  };
}
