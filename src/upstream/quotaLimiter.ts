import { createHash, randomUUID } from "node:crypto";
import { systemClock, type Clock } from "./clock.js";
import { QuotaWaitExceededError, type WaitObserver } from "./quotaWaitExceeded.js";
import type { RedisLink } from "./redisLink.js";
import type { QuotaScope } from "./upstream.js";

export interface QuotaLimiterOptions {
  /** Sustained calls per second of one quota, across every replica (`CONNECT_MAX_RPS`). */
  rps: number;
  /** Calls allowed at once after a quiet period (`CONNECT_BURST`). */
  burst: number;
  /** Longest a call may wait for its turn before failing with UPSTREAM_THROTTLED, ms (`CONNECT_MAX_WAIT_MS`). */
  maxWaitMs: number;
  /** Shares the quota with every replica through Redis; unset keeps it in this process. */
  redis?: RedisLink | undefined;
  /** Prefix of the limiter's Redis keys (`REDIS_KEY_PREFIX`). */
  keyPrefix?: string;
  /** Observes each grant's wait and each refusal, labelled with the scope's API (metrics). */
  observeWait?: WaitObserver | undefined;
  /**
   * Slack for the time between a call being granted and its request reaching Connect (event-loop
   * lag, sockets, the network), ms. Default 300. See `QuotaLimiter`.
   */
  slackMs?: number;
  /** Bookings, waits and deadlines run on its monotonic time (Redis's TIME decides shared bookings). Default `systemClock`. */
  clock?: Clock;
}

/** What the limiter has done, for tests and metrics. */
export interface LimiterStats {
  /** Calls granted by the bucket shared through Redis. */
  sharedGrants: number;
  /** Calls granted by this process's own bucket (no Redis, or Redis down). */
  localGrants: number;
  /** Calls refused because they would have waited too long. */
  refused: number;
  /** Calls that woke too late for their slot and booked another. */
  rebooked: number;
}

/**
 * Keeps every attempt (retries included) of one Connect API inside its quota, which is a token
 * bucket of `rps` tokens per second holding at most `burst`, per API, credentials and region (the
 * `QuotaScope`). Concurrency is not its concern: calls hold a `ConcurrencyPool` slot first.
 *
 * The algorithm is GCRA, the exact equivalent of that token bucket, run as a reservation: each call
 * atomically books the next free send time and sleeps until it, so calls go out in arrival order, a
 * quiet bucket lets a burst through at once, and a call whose send time lies beyond the wait bound
 * fails at once without booking anything. A fixed or sliding window cannot do this: a window of
 * `n` per second lets up to `2n` through around a window boundary, which either exceeds the burst
 * or wastes most of the quota.
 *
 * The booked schedule conforms to a slightly smaller bucket than Connect's: a request that reaches
 * Connect up to `slackMs` later than booked can compress the schedule by that much, so
 * `rps × slackMs` tokens of the burst are held back (with the defaults, 3 of 15). A call that wakes
 * up more than half the slack late (a busy event loop) books a new slot rather than go out bunched
 * with later ones. Connect's bucket then never runs dry, while a cold start still sends 12 calls at
 * once.
 *
 * With Redis, the booking is one Lua script on a key per quota scope, using Redis's clock, so every
 * replica shares one schedule. If Redis is unreachable each replica books from its own bucket
 * instead, with its share of the quota (rate and burst divided by the number of replicas seen
 * through Redis in the last minute), starting empty so it does not add a burst on top of what the
 * shared schedule already sent. When Redis returns after having lost the bucket, the bucket
 * restarts empty rather than full for the same reason.
 */
export class QuotaLimiter {
  readonly stats: LimiterStats = { sharedGrants: 0, localGrants: 0, refused: 0, rebooked: 0 };
  private readonly maxWaitMs: number;
  private readonly slackMs: number;
  private readonly redis: RedisLink | undefined;
  private readonly keyPrefix: string;
  private readonly replicaId = randomUUID();
  /** Booking interval and tolerance of the shared (or only) bucket, ms. */
  private readonly interval: number;
  private readonly burst: number;
  private readonly local = new Map<string, LocalBucket>();
  private readonly observeWait: QuotaLimiterOptions["observeWait"];
  private readonly clock: Clock;

  constructor(options: QuotaLimiterOptions) {
    this.maxWaitMs = options.maxWaitMs;
    this.redis = options.redis;
    this.keyPrefix = options.keyPrefix ?? "";
    this.observeWait = options.observeWait;
    this.clock = options.clock ?? systemClock;
    // Hold back the tokens that late arrivals could use; with a burst too small for that, space
    // the calls further apart instead (a burst of 1 needs gaps of at least 1/rps on arrival).
    this.slackMs = options.slackMs ?? 300;
    const usable = Math.floor(options.burst - (options.rps * this.slackMs) / 1000);
    this.burst = Math.max(1, usable);
    this.interval = 1000 / options.rps + (usable >= 1 ? 0 : this.slackMs);
  }

  /**
   * Waits until one request of `scope` may be sent; call it before every attempt. Rejects at once
   * with `QuotaWaitExceededError` when the wait would end after `deadline` (the clock's monotonic
   * time; default: now plus `CONNECT_MAX_WAIT_MS`).
   */
  async acquire(scope: QuotaScope, deadline = this.clock.monotonic() + this.maxWaitMs): Promise<void> {
    const key = scopeKey(scope);
    const bucket = this.bucket(key);
    for (let booking = 1; ; booking++) {
      const bookedAt = this.clock.monotonic();
      const maxWait = Math.max(0, deadline - bookedAt);
      let wait: number | null | undefined;
      if (this.redis?.available) wait = await this.bookShared(key, bucket, maxWait).catch(() => undefined);
      if (wait === undefined) wait = this.bookLocal(bucket, maxWait);
      if (wait === null) {
        this.stats.refused++;
        this.observeWait?.(scope.api, 0, "rejected");
        throw new QuotaWaitExceededError(`the quota for ${scope.api} in ${scope.region} would make this call wait more than ${Math.round(maxWait)} ms`);
      }
      this.observeWait?.(scope.api, wait / 1000, "acquired");
      if (wait >= 1) await this.clock.sleep(wait);
      // A busy event loop can wake a call well after its slot; sent that late it could bunch up with
      // calls booked after it. It books a new slot instead (the missed one goes unused, which only
      // leaves Connect's bucket fuller). A late rebooking gets a wait bound of its own.
      if (this.clock.monotonic() - bookedAt - wait <= this.slackMs / 2 || booking === 3) return;
      this.stats.rebooked++;
      deadline = Math.max(deadline, this.clock.monotonic() + this.maxWaitMs);
    }
  }

  // Private: one quota scope's local state.
  private bucket(key: string): LocalBucket {
    let bucket = this.local.get(key);
    if (!bucket) {
      bucket = { key, tat: 0, mode: this.redis ? "shared" : "local", replicas: 1, lastSharedSendAt: 0, lastFallbackAt: -Infinity };
      this.local.set(key, bucket);
    }
    return bucket;
  }

  /** Books from the shared bucket: the wait in ms, `null` if refused; throws if Redis failed. */
  private async bookShared(key: string, bucket: LocalBucket, maxWait: number): Promise<number | null> {
    const recovering = this.clock.monotonic() - bucket.lastFallbackAt < 10_000;
    const tatKey = `${this.keyPrefix}quota:{${key}}`;
    const reply = (await this.redis!.run((client) =>
      client.eval(GCRA_SCRIPT, {
        keys: [tatKey, `${tatKey}:replicas`],
        arguments: [
          String(Math.round(this.interval * 1000)),
          String(Math.round((this.burst - 1) * this.interval * 1000)),
          String(Math.round(maxWait * 1000)),
          this.replicaId,
          recovering ? "1" : "0",
        ],
      }),
    )) as [number, number, number];
    const [granted, waitUs, replicas] = reply.map(Number) as [number, number, number];
    bucket.replicas = Math.max(1, replicas);
    if (!granted) return null;
    const wait = waitUs / 1000;
    if (bucket.mode === "fallback") bucket.mode = "shared";
    bucket.lastSharedSendAt = Math.max(bucket.lastSharedSendAt, this.clock.monotonic() + wait);
    this.stats.sharedGrants++;
    return wait;
  }

  /** Books from this process's bucket: the wait in ms, or `null` if refused. */
  private bookLocal(bucket: LocalBucket, maxWait: number): number | null {
    const now = this.clock.monotonic();
    let interval = this.interval;
    let burst = this.burst;
    if (bucket.mode !== "local") {
      // Redis is down: this replica's share, starting empty after what the shared schedule sent.
      interval = this.interval * bucket.replicas;
      burst = Math.max(1, Math.floor(this.burst / bucket.replicas));
      if (bucket.mode === "shared") {
        bucket.mode = "fallback";
        bucket.tat = Math.max(now, bucket.lastSharedSendAt) + burst * interval;
      }
      bucket.lastFallbackAt = now;
    }
    const tolerance = (burst - 1) * interval;
    const tat = Math.max(bucket.tat, now);
    const wait = Math.max(0, tat - tolerance - now);
    if (wait > maxWait) return null;
    bucket.tat = tat + interval;
    this.stats.localGrants++;
    return wait;
  }
}

interface LocalBucket {
  readonly key: string;
  /** GCRA's theoretical arrival time, monotonic ms. */
  tat: number;
  /** local: no Redis; shared: booking through Redis; fallback: Redis is down, booking here. */
  mode: "local" | "shared" | "fallback";
  /** Replicas that booked through Redis in the last minute (this one included). */
  replicas: number;
  /** When the last call booked through Redis goes out, monotonic ms. */
  lastSharedSendAt: number;
  lastFallbackAt: number;
}

// Private: the scope as a key; the identity is hashed so no credential appears in Redis.
function scopeKey(scope: QuotaScope): string {
  const identity = createHash("sha256").update(scope.identity).digest("hex").slice(0, 16);
  return `${scope.api}:${scope.region}:${identity}`;
}

/**
 * GCRA booking on Redis's clock, in microseconds. KEYS[1]: the bucket's theoretical arrival time;
 * KEYS[2]: replicas seen in the last minute. ARGV: interval, tolerance ((burst - 1) × interval),
 * longest acceptable wait, replica id, and 1 when the caller has just been running without Redis
 * (a missing bucket then starts with one token instead of a full burst).
 * Returns {granted (1|0), wait, replicas}.
 */
const GCRA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
redis.call('ZADD', KEYS[2], now, ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 60000000)
redis.call('PEXPIRE', KEYS[2], 60000)
local replicas = redis.call('ZCARD', KEYS[2])
local stored = redis.call('GET', KEYS[1])
local tat
if stored then
  tat = math.max(tonumber(stored), now)
elseif ARGV[5] == '1' then
  tat = now + tolerance
else
  tat = now
end
local wait = math.max(0, tat - tolerance - now)
if wait > tonumber(ARGV[3]) then
  return {0, wait, replicas}
end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
return {1, wait, replicas}
`;
