import type { Contact } from "@aws-sdk/client-connect";
import { createKeyv, type Keyv } from "@keyv/redis";
import { LRUCache } from "lru-cache";
import { contactKey, type ContactRef } from "../domain/contactRef.js";
import type { FetchContact, FetchOptions } from "./fetchContact.js";
import type { RedisLink } from "./redisLink.js";

/**
 * When a cached contact is fresh enough. Connect keeps changing a contact while it is in progress
 * (queue, agent, timestamps) and during after-contact work; once both are over it changes rarely
 * (tags, evaluations), so it is kept much longer.
 */
export interface FreshnessPolicy {
  /** A finished contact: disconnected, after-contact work (if any) ended (`CACHE_TTL_SECONDS`). 0 turns the cache off. */
  ttlSeconds: number;
  /** A contact in progress or in after-contact work (`CACHE_ACTIVE_TTL_SECONDS`); 0 never caches it. */
  activeTtlSeconds: number;
  /** A contact id Connect answered ResourceNotFoundException for (`CACHE_NEGATIVE_TTL_SECONDS`); 0 never caches it. */
  negativeTtlSeconds: number;
}

export interface ContactCacheOptions extends FreshnessPolicy {
  /** Most contacts held in process (`CACHE_MAX_ENTRIES`). */
  maxEntries: number;
  /**
   * Most resident memory the entries held in process may cost, bytes (`CACHE_MAX_MB` × 2^20): each
   * is charged `residentBytes` (its contact's JSON, held outside V8's heap, plus its overhead).
   */
  maxBytes: number;
  /**
   * The object handed to requests for a contact read upstream, from Redis or from the entry's JSON,
   * made once per read and shared by every request while it lives (`createContactSource` hands out
   * the resolvers' model, so readers make no copy of their own). Default: the contact as read.
   */
  keep?: ((contact: Contact, ref: ContactRef) => Contact) | undefined;
  /** The second tier shared with every replica; unset keeps the cache in process. */
  redis?: RedisLink | undefined;
  /** Prefix of the cache's Redis keys (`REDIS_KEY_PREFIX`). */
  keyPrefix?: string;
  /** Observes every lookup (metrics). */
  observeLookup?: ((result: "hit" | "miss", layer: "memory" | "redis") => void) | undefined;
}

/** Seconds a contact may be served from cache under `policy`. */
export function contactTtlSeconds(contact: Contact, policy: FreshnessPolicy): number {
  const agent = contact.AgentInfo;
  const inAfterContactWork = agent?.AfterContactWorkStartTimestamp !== undefined && agent.AfterContactWorkEndTimestamp === undefined;
  return contact.DisconnectTimestamp !== undefined && !inAfterContactWork ? policy.ttlSeconds : policy.activeTtlSeconds;
}

/**
 * What one entry costs besides its contact's JSON: on V8's heap its key, its WeakRef-and-record,
 * its ArrayBuffer object and its slots in the LRU's map and lists (about 380 bytes in a heap
 * snapshot), charged at 4 times that, the largest multiple of its live data V8 lets its heap grow
 * to (below); outside it the allocator's and V8's bookkeeping of the bytes (~150). Checked on
 * resident memory: 100,000 contacts of the emulator's data set (2.65 KB of JSON each) grew the
 * gateway's RSS by 3.6 KB each in the benchmark (`npm run bench -- --memory`, less the 81 MB the
 * same load grows it without a cache), and a quiet process by 3.6 KB each; charged 4.4 KB.
 *
 * While the cache evicts, an evicted entry's memory is returned at V8's next collections, so the
 * process may hold more than the bound by what was evicted in between: nothing at Connect's default
 * quota (10 reads a second); in the benchmark's fill (1,500 reads a second, quota opened) with the
 * bound at 256 MB, the cache cost 270 MB.
 */
export const ENTRY_OVERHEAD_BYTES = 1_792;

/**
 * What one entry costs in resident memory, bytes (what `CACHE_MAX_MB` bounds): its contact's JSON
 * (`jsonBytes`; 0 for a not-found answer) plus its overhead.
 *
 * Why JSON outside V8's heap rather than the objects: between two full collections V8 lets its heap
 * grow to a multiple of what survived the last one (up to 4× on a machine this size), and keeps that
 * resident. Filling a cache of objects with 100,000 contacts (`npm run bench -- --memory`) grew the
 * gateway's RSS by 820 MB for about 480 MB of live objects, and with the cache bounded to half of
 * them, evicting as it went, by 830 MB all the same (the same fill without a cache: 81 MB). No
 * per-entry estimate of an object's heap bounds that; bytes in an ArrayBuffer cost what they are.
 */
export function residentBytes(jsonBytes: number): number {
  return jsonBytes + ENTRY_OVERHEAD_BYTES;
}

/**
 * A cached contact. The JSON (the shared tier's format) is what the cache holds; the object handed
 * to requests (`keep`) is made from it on demand and held weakly (the entry is that WeakRef, one
 * object less per entry), so a hot contact is parsed once and shared by every request while the
 * collector keeps it (in practice while it is in use or recently used), and a contact nobody reads
 * costs only its bytes.
 */
class ContactEntry extends WeakRef<Contact> {
  readonly size: number;

  constructor(
    kept: Contact,
    /** UTF-8; an ArrayBuffer, not a Buffer, which would add a view object per entry. */
    readonly json: ArrayBuffer,
  ) {
    super(kept);
    this.size = residentBytes(json.byteLength);
  }
}

/** A not-found answer Connect gave for the key (one instance serves every key). */
class NotFound {
  readonly size = residentBytes(0);
}
const NOT_FOUND = new NotFound();

type Entry = ContactEntry | NotFound;

/**
 * The cross-request contact cache. It sits under the per-request DataLoader (which de-duplicates
 * within one operation) and above the quota limiter:
 *
 * 1. in process, an LRU bounded by entry count and by the resident memory its entries cost
 *    (`residentBytes`: each contact's JSON, kept outside V8's heap, plus overhead);
 * 2. with Redis, a second tier shared by every replica (Keyv on `@keyv/redis`), read on a local miss
 *    and written on every upstream read, each entry carrying its absolute expiry so a copy made
 *    from Redis expires when the original does;
 * 3. concurrent loads of one contact, from any number of GraphQL requests, share one upstream call.
 *
 * Not-found answers are cached briefly (negative cache) so a hot missing id cannot drain the quota;
 * every other error is never cached. Redis failures are cache misses, never query failures.
 */
export class ContactCache {
  private readonly policy: FreshnessPolicy;
  private readonly local: LRUCache<string, Entry>;
  private readonly shared: Keyv<string> | undefined;
  private readonly redis: RedisLink | undefined;
  private readonly inFlight = new Map<string, Promise<Contact>>();
  private readonly observeLookup: ContactCacheOptions["observeLookup"];
  private readonly keep: (contact: Contact, ref: ContactRef) => Contact;

  constructor(options: ContactCacheOptions) {
    this.policy = options;
    this.keep = options.keep ?? ((contact) => contact);
    this.local = new LRUCache<string, Entry>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: (entry) => entry.size,
    });
    this.redis = options.redis;
    if (options.redis) {
      this.shared = createKeyv(options.redis.client, { namespace: `${options.keyPrefix ?? ""}contact`, throwOnErrors: true });
      this.shared.on("error", () => {}); // failures reach `run` as rejections; RedisLink logs them
    }
    this.observeLookup = options.observeLookup;
  }

  /** Whether contacts are cached at all (`CACHE_TTL_SECONDS` > 0); coalescing happens regardless. */
  get enabled(): boolean {
    return this.policy.ttlSeconds > 0;
  }

  /**
   * A `FetchContact` that answers from the cache and otherwise calls `load` (the quota-limited
   * upstream), at most once at a time per contact. With `noCache` it skips cached answers and
   * in-flight calls that started earlier, and refreshes the cache with what it reads.
   */
  wrap(load: (ref: ContactRef, options: FetchOptions) => Promise<Contact>): FetchContact {
    return async (ref: ContactRef, options: FetchOptions = {}) => {
      const key = contactKey(ref);
      if (!options.noCache) {
        const cached = this.enabled ? this.getLocal(key, ref) : undefined;
        if (cached) return answer(cached);
        const pending = this.inFlight.get(key);
        if (pending) return pending;
      }
      const call = this.readThrough(key, ref, load, options);
      this.inFlight.set(key, call);
      try {
        return await call;
      } finally {
        if (this.inFlight.get(key) === call) this.inFlight.delete(key);
      }
    };
  }

  /** Drops everything held in process (the shared tier is left to its TTLs). */
  clear(): void {
    this.local.clear();
  }

  /** What is held in process: entries, and the resident memory they are charged (≤ `maxBytes`). */
  usage(): { entries: number; bytes: number } {
    return { entries: this.local.size, bytes: this.local.calculatedSize };
  }

  // Private: the slow path, shared by every caller of one contact.
  private async readThrough(key: string, ref: ContactRef, load: (ref: ContactRef, options: FetchOptions) => Promise<Contact>, options: FetchOptions): Promise<Contact> {
    if (this.enabled && !options.noCache) {
      const shared = await this.getShared(key, ref);
      if (shared) return answer(shared);
    }
    let contact: Contact;
    try {
      contact = await load(ref, options);
    } catch (error) {
      if (isNotFound(error)) await this.store(key, undefined, undefined, this.policy.negativeTtlSeconds);
      throw error;
    }
    const kept = this.keep(contact, ref);
    await this.store(key, contact, kept, contactTtlSeconds(contact, this.policy));
    return kept;
  }

  // The warm path: a hit whose object is alive costs a map lookup and a `deref`.
  private getLocal(key: string, ref: ContactRef): Contact | NotFound | undefined {
    const entry = this.local.get(key);
    this.observeLookup?.(entry ? "hit" : "miss", "memory");
    if (entry === undefined || entry instanceof NotFound) return entry;
    return entry.deref() ?? this.revive(key, entry, ref);
  }

  // A hit whose object the collector dropped: made again from the entry's JSON (~30 µs a contact).
  private revive(key: string, entry: ContactEntry, ref: ContactRef): Contact | undefined {
    const read = deserialize(Buffer.from(entry.json).toString("utf8"));
    if (!read || !("contact" in read)) {
      this.local.delete(key);
      return undefined;
    }
    const kept = this.keep(read.contact, ref);
    // The same expiry (a ttl of 0 would mean none).
    this.local.set(key, new ContactEntry(kept, entry.json), { ttl: Math.max(1, this.local.getRemainingTTL(key)) });
    return kept;
  }

  private async getShared(key: string, ref: ContactRef): Promise<Contact | NotFound | undefined> {
    if (!this.shared || !this.redis?.available) return undefined;
    let text: string | undefined;
    try {
      text = await this.redis.run(() => this.shared!.get(key));
    } catch {
      return undefined;
    }
    const read = text === undefined ? undefined : deserialize(text);
    const ttl = read ? read.expiresAt - Date.now() : 0;
    this.observeLookup?.(read && ttl > 0 ? "hit" : "miss", "redis");
    if (!read || ttl <= 0) return undefined;
    if (!("contact" in read)) {
      this.local.set(key, NOT_FOUND, { ttl });
      return NOT_FOUND;
    }
    const kept = this.keep(read.contact, ref);
    this.local.set(key, contactEntry(text!, kept), { ttl });
    return kept;
  }

  /**
   * Holds a contact (`read`, as Connect sent it, handed out as `kept`) or, without one, a not-found
   * answer, in process and, with Redis, in the shared tier.
   */
  private async store(key: string, read: Contact | undefined, kept: Contact | undefined, ttlSeconds: number): Promise<void> {
    if (!this.enabled || ttlSeconds <= 0) return;
    const ttl = ttlSeconds * 1000;
    const expiresAt = Date.now() + ttl;
    const text = serialize(read ? { contact: read, expiresAt } : { notFound: true, expiresAt });
    this.local.set(key, read ? contactEntry(text, kept!) : NOT_FOUND, { ttl });
    if (!this.shared || !this.redis?.available) return;
    // Awaited (within REDIS_TIMEOUT_MS) so another replica asked right after this answer finds it.
    await this.redis.run(() => this.shared!.set(key, text, ttl)).catch(() => {});
  }
}

// Private: a contact's entry. Its bytes get an ArrayBuffer of their own: a small `Buffer.from` is a
// slice of a shared 8 KB pool, which would stay allocated while any slice lives.
function contactEntry(text: string, kept: Contact): ContactEntry {
  const json = new ArrayBuffer(Buffer.byteLength(text));
  Buffer.from(json).write(text, "utf8");
  return new ContactEntry(kept, json);
}

// Private: cached values to answers. A cached not-found is rethrown as the exception Connect sent,
// so the error table maps it to NOT_FOUND exactly as a live answer.
function answer(cached: Contact | NotFound): Contact {
  if (!(cached instanceof NotFound)) return cached;
  throw Object.assign(new Error("Contact not found (cached answer)"), { name: "ResourceNotFoundException", $metadata: { httpStatusCode: 404 } });
}

function isNotFound(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "ResourceNotFoundException";
}

// Private: JSON that keeps the SDK's Date members Dates across Redis.
function serialize(value: { contact?: Contact; notFound?: true; expiresAt: number }): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const raw = this[key];
    return raw instanceof Date ? { $date: raw.getTime() } : v;
  });
}

function deserialize(text: string): { contact: Contact; expiresAt: number } | { notFound: true; expiresAt: number } | undefined {
  try {
    const value = JSON.parse(text, (_key, v: unknown) => {
      if (v && typeof v === "object" && "$date" in v && typeof (v as { $date: unknown }).$date === "number") {
        return new Date((v as { $date: number }).$date);
      }
      return v;
    }) as { contact?: Contact; notFound?: true; expiresAt?: unknown };
    if (typeof value.expiresAt !== "number") return undefined;
    if (value.notFound) return { notFound: true, expiresAt: value.expiresAt };
    if (value.contact && typeof value.contact === "object") return { contact: value.contact, expiresAt: value.expiresAt };
  } catch {
    // An unreadable entry (another version's format) is a miss.
  }
  return undefined;
}
