import { createKeyv, type Keyv } from "@keyv/redis";
import { LRUCache } from "lru-cache";
import { systemClock, type Clock } from "./clock.js";
import type { RedisLink } from "./redisLink.js";

/** How long a cached value stays fresh: the one policy a `TieredCache` is given. */
export interface FreshnessPolicy<V> {
  /** Seconds `value` may be served from cache once read; 0 serves it only to the callers of that read. */
  ttlSeconds(value: V): number;
  /** Seconds a not-found answer (Connect's ResourceNotFoundException) is remembered; 0 never remembers one. */
  negativeTtlSeconds: number;
  /** `false` turns the cache off: nothing is held or served, concurrent reads still share one load. Default true. */
  enabled?: boolean;
}

/**
 * How a value is kept as JSON (its entry in process and in Redis) and made again from it. The
 * default keeps the value's own JSON, `Date`s as `{"$date": ms}`. A cache of upstream answers keeps
 * the answer's JSON instead (the contact cache: the body Connect sent, taken as it is, with no second
 * serialization) and builds its value from that.
 */
export interface EntryCodec<V> {
  /** The JSON text of `value`. */
  encode(value: V): string;
  /** The value again from `encode`'s JSON, parsed; `key` is the key it was stored under. */
  decode(json: unknown, key: string): V;
}

export interface TieredCacheOptions<V> {
  /** What the cache holds (`contact`, `queue`, `user`): its namespace in Redis, after `keyPrefix`. */
  name: string;
  /**
   * The entries' format, part of the Redis namespace (`{keyPrefix}{name}.{format}`), so replicas of
   * versions that store different formats never read each other's entries (during a rolling
   * deployment or a rollback each reads only its own, at worst a miss). Change it whenever what
   * `codec` writes changes. Default: none (`{keyPrefix}{name}`).
   */
  format?: string;
  freshness: FreshnessPolicy<V>;
  /** How values are kept as JSON. Default: the value's own JSON, `Date`s kept as `Date`s. */
  codec?: EntryCodec<V>;
  /** Most entries held in process. */
  maxEntries: number;
  /** Most resident memory the entries held in process may cost, bytes: each is charged `residentBytes`. */
  maxBytes: number;
  /** The second tier, shared with every replica; unset keeps the cache in process. */
  redis?: RedisLink | undefined;
  /** Prefix of the cache's Redis keys (`REDIS_KEY_PREFIX`). */
  keyPrefix?: string;
  /** Expiries are written in its wall-clock time. Default `systemClock`. */
  clock?: Clock;
  /** Observes every lookup (metrics). */
  observeLookup?: ((result: "hit" | "miss", layer: "memory" | "redis") => void) | undefined;
}

export interface ReadOptions {
  /** Skip cached answers and reads already in flight, read through `load`, and hold its answer. */
  noCache?: boolean;
}

/**
 * What one entry costs in process besides its JSON, bytes: on V8's heap its key, its WeakRef and
 * record, its ArrayBuffer object and its slots in the LRU, charged at the multiple of live data V8
 * lets its heap grow to; outside it, the allocator's bookkeeping of the bytes. An upper bound, not
 * an estimate: `npm run bench -- --memory` measures it (bench/README.md, finding 6).
 */
export const ENTRY_OVERHEAD_BYTES = 1_792;

/** What one entry costs in resident memory, bytes (what `maxBytes` bounds): its JSON plus its overhead. */
export function residentBytes(jsonBytes: number): number {
  return jsonBytes + ENTRY_OVERHEAD_BYTES;
}

/**
 * A cross-request cache of one kind of Connect answer, keyed by a string:
 *
 * 1. in process, an LRU bounded by entry count and by the resident memory its entries cost;
 * 2. with Redis, a second tier shared by every replica (Keyv on `@keyv/redis`), read on a local miss
 *    and written with every answer, each entry carrying its absolute expiry, so a copy taken from
 *    Redis expires when the original does;
 * 3. concurrent reads of one key share one load, and only the latest load of a key (or `set`) may
 *    write it, so an answer read before a refresh, a `set` or a `delete` never overwrites it.
 *
 * Entries are held as JSON outside V8's heap, the object handed out made from it on demand and held
 * weakly: V8 lets its heap grow to a multiple of what survived its last collection and keeps that
 * resident, so no per-object estimate bounds a cache of objects, while bytes in an ArrayBuffer cost
 * what they are. A hot value is parsed once and shared by every reader while the collector keeps it.
 *
 * Not-found answers are cached for the negative TTL, so a hot missing id cannot drain the quota;
 * every other error is never cached. Redis failures are misses, never read failures.
 */
export class TieredCache<V extends object> {
  private readonly freshness: FreshnessPolicy<V>;
  private readonly codec: EntryCodec<V>;
  private readonly local: LRUCache<string, Entry<V>>;
  private readonly shared: Keyv<string> | undefined;
  private readonly redis: RedisLink | undefined;
  private readonly clock: Clock;
  private readonly inFlight = new Map<string, Flight<V>>();
  private readonly observeLookup: TieredCacheOptions<V>["observeLookup"];

  constructor(options: TieredCacheOptions<V>) {
    this.freshness = options.freshness;
    this.codec = options.codec ?? (jsonWithDates as EntryCodec<V>);
    this.clock = options.clock ?? systemClock;
    this.local = new LRUCache<string, Entry<V>>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      sizeCalculation: (entry) => residentBytes(entry instanceof ValueEntry ? entry.json.byteLength : 0),
    });
    this.redis = options.redis;
    if (options.redis) {
      this.shared = createKeyv(options.redis.client, { namespace: `${options.keyPrefix ?? ""}${options.name}${options.format ? `.${options.format}` : ""}`, throwOnErrors: true });
      this.shared.on("error", () => {}); // failures reach `run` as rejections; RedisLink logs them
    }
    this.observeLookup = options.observeLookup;
  }

  /** Whether anything is cached at all (`FreshnessPolicy.enabled`); reads are coalesced regardless. */
  get enabled(): boolean {
    return this.freshness.enabled ?? true;
  }

  /**
   * The value for `key`: fresh from this process, else from Redis, else from `load`, called at most
   * once at a time per key and its answer (or not-found) held for its TTL. With `noCache` it skips
   * cached answers and loads in flight, and its answer replaces them.
   */
  async read(key: string, load: () => Promise<V>, options: ReadOptions = {}): Promise<V> {
    if (!options.noCache) {
      const cached = this.enabled ? this.getLocal(key) : undefined;
      if (cached) return answer(cached);
      const pending = this.inFlight.get(key);
      if (pending) return pending.promise;
    }
    this.supersede(key);
    const flight: Flight<V> = { current: true, promise: undefined as never };
    this.inFlight.set(key, flight);
    flight.promise = this.readThrough(key, load, options, flight).finally(() => {
      if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
    });
    return flight.promise;
  }

  /**
   * The value for `key` at once, if this process holds it fresh: what `read` would answer without
   * a load or a promise. A miss, an expired entry, a remembered not-found, an entry that cannot be
   * made again and a cache turned off are `undefined`, left to `read` (which counts the miss and
   * drops the entry); a hit is counted here.
   */
  peek(key: string): V | undefined {
    if (!this.enabled) return undefined;
    const entry = this.local.get(key);
    if (!(entry instanceof ValueEntry) || entry.expiresAt <= this.clock.now()) return undefined;
    const value = entry.deref() ?? this.revive(key, entry);
    if (value !== undefined) this.observeLookup?.("hit", "memory");
    return value;
  }

  /**
   * When this process's entry for `key` expires (wall-clock ms), if that entry is the one a read
   * just answered with: the entry holding `value` itself (the same object, as `read` and `peek`
   * hand out), or, without `value`, a remembered not-found. `undefined` when the key's entry is
   * another (a newer read replaced it), gone or expired, or the cache is off. A copy taken from
   * Redis keeps the original's expiry, so this is when the answer was read plus its TTL, wherever
   * it was read. Whatever is built from a cached answer (the response cache's responses) may live
   * until then and no longer. Touches no recency.
   */
  expiresAt(key: string, value?: object): number | undefined {
    if (!this.enabled) return undefined;
    const entry = this.local.peek(key);
    if (entry === undefined || entry.expiresAt <= this.clock.now()) return undefined;
    const holds = value === undefined ? entry instanceof NotFoundEntry : entry instanceof ValueEntry && entry.deref() === value;
    return holds ? entry.expiresAt : undefined;
  }

  /**
   * Holds `value` as the answer for `key` in both tiers, for its TTL, in place of anything cached or
   * being read; resolves to it. A value its policy gives no TTL drops the key's copies instead; a
   * cache turned off holds nothing.
   */
  async set(key: string, value: V): Promise<V> {
    this.supersede(key);
    await this.hold(key, value, true);
    return value;
  }

  /** Drops `key` from both tiers; a read in flight for it will not store its answer. */
  async delete(key: string): Promise<void> {
    this.deleteLocal(key);
    await this.remote((shared) => shared.delete(key));
  }

  /**
   * Drops this process's copy of `key` only (another replica has just written a newer one to
   * Redis); a read in flight for it will not store its answer.
   */
  deleteLocal(key: string): void {
    this.supersede(key);
    this.local.delete(key);
  }

  /** Drops everything held in process (the shared tier is left to its TTLs). */
  clear(): void {
    this.local.clear();
  }

  /** What is held in process: entries, and the resident memory they are charged (≤ `maxBytes`). */
  usage(): { entries: number; bytes: number } {
    return { entries: this.local.size, bytes: this.local.calculatedSize };
  }

  // Private: the slow path, shared by every reader of one key.
  private async readThrough(key: string, load: () => Promise<V>, options: ReadOptions, flight: Flight<V>): Promise<V> {
    if (this.enabled && !options.noCache) {
      const shared = await this.getShared(key, flight);
      if (shared) return answer(shared);
    }
    let value: V;
    try {
      value = await load();
    } catch (error) {
      if (isNotFound(error) && flight.current) await this.hold(key, undefined, options.noCache);
      throw error;
    }
    if (flight.current) await this.hold(key, value, options.noCache);
    return value;
  }

  // The warm path: a hit whose object is alive costs a map lookup and a `deref`.
  private getLocal(key: string): V | NotFoundEntry | undefined {
    let entry = this.local.get(key);
    if (entry && entry.expiresAt <= this.clock.now()) {
      this.local.delete(key);
      entry = undefined;
    }
    this.observeLookup?.(entry ? "hit" : "miss", "memory");
    if (entry === undefined || entry instanceof NotFoundEntry) return entry;
    return entry.deref() ?? this.revive(key, entry);
  }

  // A hit whose object the collector dropped: made again from the entry's JSON.
  private revive(key: string, entry: ValueEntry<V>): V | undefined {
    const read = this.deserialize(key, Buffer.from(entry.json).toString("utf8"));
    if (!read || !("value" in read)) {
      this.local.delete(key);
      return undefined;
    }
    this.local.set(key, new ValueEntry(read.value, entry.json, entry.expiresAt));
    return read.value;
  }

  private async getShared(key: string, flight: Flight<V>): Promise<V | NotFoundEntry | undefined> {
    if (!this.shared || !this.redis?.available) return undefined;
    let text: string | undefined;
    try {
      text = await this.redis.run(() => this.shared!.get(key));
    } catch {
      return undefined;
    }
    const read = text === undefined ? undefined : this.deserialize(key, text);
    const fresh = read !== undefined && read.expiresAt > this.clock.now();
    this.observeLookup?.(fresh ? "hit" : "miss", "redis");
    if (!fresh) return undefined;
    const entry = "value" in read ? valueEntry(text!, read.value, read.expiresAt) : new NotFoundEntry(read.expiresAt);
    if (flight.current) this.local.set(key, entry);
    return "value" in read ? read.value : entry;
  }

  /**
   * Holds `value` or, without one, a not-found answer, in process and, with Redis, in the shared
   * tier. An answer its policy gives no TTL drops this process's copy, and with `replace` (a `set`,
   * a `noCache` read) the shared one too.
   */
  private async hold(key: string, value: V | undefined, replace = false): Promise<void> {
    if (!this.enabled) return;
    const ttlSeconds = value === undefined ? this.freshness.negativeTtlSeconds : this.freshness.ttlSeconds(value);
    if (!(ttlSeconds > 0)) {
      this.local.delete(key);
      if (replace) await this.remote((shared) => shared.delete(key));
      return;
    }
    const ttl = ttlSeconds * 1000;
    const expiresAt = this.clock.now() + ttl;
    // `encode` is called once per value held (a contact's answer text is handed out once).
    // The entry is the value's JSON inside an envelope with its expiry, joined as text: the value's
    // JSON (an upstream answer, for the contact cache) is never parsed or serialized again here.
    const text = value === undefined ? `{"notFound":true,"expiresAt":${expiresAt}}` : `{"expiresAt":${expiresAt},"value":${this.codec.encode(value)}}`;
    this.local.set(key, value === undefined ? new NotFoundEntry(expiresAt) : valueEntry(text, value, expiresAt));
    // Awaited (within REDIS_TIMEOUT_MS) so another replica asked right after this answer finds it.
    await this.remote((shared) => shared.set(key, text, ttl));
  }

  // Private: an entry's text to its expiry and value; an unreadable entry (another version's format,
  // a value the codec refuses) is a miss.
  private deserialize(key: string, text: string): Stored<V> | undefined {
    try {
      const stored = JSON.parse(text) as { value?: unknown; notFound?: true; expiresAt?: unknown };
      if (typeof stored.expiresAt !== "number") return undefined;
      if (stored.notFound) return { notFound: true, expiresAt: stored.expiresAt };
      if (stored.value && typeof stored.value === "object") return { value: this.codec.decode(stored.value, key), expiresAt: stored.expiresAt };
    } catch {
      // a miss
    }
    return undefined;
  }

  // Private: one shared-tier write; a failure or an unavailable Redis is left to the entries' TTLs.
  private async remote(operation: (shared: Keyv<string>) => Promise<unknown>): Promise<void> {
    if (!this.shared || !this.redis?.available) return;
    await this.redis.run(() => operation(this.shared!)).catch(() => {});
  }

  // Private: a later read, `set` or delete of `key` takes over; the load in flight stores nothing.
  private supersede(key: string): void {
    const flight = this.inFlight.get(key);
    if (!flight) return;
    flight.current = false;
    this.inFlight.delete(key);
  }
}

/** One load in flight; `current` until a later read, `set` or delete of its key supersedes it. */
interface Flight<V> {
  current: boolean;
  promise: Promise<V>;
}

/**
 * A cached value: its JSON (the shared tier's format; an ArrayBuffer, not a Buffer, which would add
 * a view object per entry) and the object handed out, held weakly (the entry is that WeakRef).
 */
class ValueEntry<V extends object> extends WeakRef<V> {
  constructor(
    value: V,
    readonly json: ArrayBuffer,
    /** Wall-clock ms. */
    readonly expiresAt: number,
  ) {
    super(value);
  }
}

/** A not-found answer Connect gave for the key. */
class NotFoundEntry {
  constructor(readonly expiresAt: number) {}
}

type Entry<V extends object> = ValueEntry<V> | NotFoundEntry;

// Private: a value's entry. Its bytes get an ArrayBuffer of their own: a small `Buffer.from` is a
// slice of a shared 8 KB pool, which would stay allocated while any slice lives.
function valueEntry<V extends object>(text: string, value: V, expiresAt: number): ValueEntry<V> {
  const json = new ArrayBuffer(Buffer.byteLength(text));
  Buffer.from(json).write(text, "utf8");
  return new ValueEntry(value, json, expiresAt);
}

// Private: cached answers to results. A cached not-found is rethrown as the exception Connect sent,
// so the error table maps it to NOT_FOUND exactly as a live answer.
function answer<V extends object>(cached: V | NotFoundEntry): V {
  if (!(cached instanceof NotFoundEntry)) return cached;
  throw Object.assign(new Error("Not found (cached answer)"), { name: "ResourceNotFoundException", $metadata: { httpStatusCode: 404 } });
}

function isNotFound(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "ResourceNotFoundException";
}

type Stored<V> = { value: V; expiresAt: number } | { notFound: true; expiresAt: number };

/** The default codec: the value's own JSON, its `Date`s as `{"$date": ms}` and back. */
const jsonWithDates: EntryCodec<object> = {
  encode: (value) =>
    JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
      const raw = this[key];
      return raw instanceof Date ? { $date: raw.getTime() } : v;
    }),
  decode: (json) => reviveDates(json) as object,
};

function reviveDates(value: unknown): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = reviveDates(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  const date = record.$date;
  if (typeof date === "number" && Object.keys(record).length === 1) return new Date(date);
  for (const key of Object.keys(record)) record[key] = reviveDates(record[key]);
  return record;
}
