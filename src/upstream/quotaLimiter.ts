import { createHash, randomUUID } from "node:crypto";
import { systemClock, type Clock } from "./clock.js";
import { QuotaWaitExceededError, type WaitObserver } from "./quotaWaitExceeded.js";
import { SYSTEM_SHARE } from "./quotaShare.js";
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
 * `QuotaScope`), and shares that quota fairly between the callers competing for it (the quota
 * shares of `quotaShare.ts`: one per token subject or client id, `anonymous`, `system`).
 * Concurrency is not its concern: calls hold a `ConcurrencyPool` slot first.
 *
 * The algorithm is GCRA, the exact equivalent of that token bucket, run as a reservation: each call
 * atomically books the next free send time and sleeps until it, so a quiet bucket lets a burst
 * through at once, and a call whose send time lies beyond the wait bound fails at once without
 * booking anything. A fixed or sliding window cannot do this: a window of `n` per second lets up to
 * `2n` through around a window boundary, which either exceeds the burst or wastes most of the quota.
 *
 * The booked schedule conforms to a slightly smaller bucket than Connect's: a request that reaches
 * Connect up to `slackMs` later than booked can compress the schedule by that much, so
 * `rps × slackMs` tokens of the burst are held back (with the defaults, 3 of 15). A call that wakes
 * up more than half the slack late (a busy event loop) books a new slot rather than go out bunched
 * with later ones. Connect's bucket then never runs dry, while a cold start still sends 12 calls at
 * once.
 *
 * **Fair shares.** Slots are booked in arrival order, so a caller that books a thousand calls ahead
 * would put everyone else's next call behind all of them. So each share may book only a little
 * ahead: a share whose latest booked send time lies more than `aheadMs` (half the slack: 150 ms)
 * from now books nothing more until it comes within that;
 * its further calls wait in a line of their own, in arrival order, and the first of them books the
 * moment its share may (it learns that moment from the booking it was refused). Every booking still
 * takes the next free slot of the one schedule, so the schedule stays exactly GCRA's; only who
 * books when changes. Consequences:
 *
 * - One share alone books a slot whenever its last one is within `aheadMs`, and each booking lands
 *   at the end of the schedule, so it still gets the whole burst and the whole rate.
 * - Shares that all have more calls than the quota take the schedule's slots in turn: each of `n`
 *   gets `rps / n`. A share asking less keeps what it asks and the rest goes to the others (max-min
 *   fairness), so no slot is left unused while any share has a call waiting.
 * - A call of a share with nothing booked ahead books at once, behind at most `aheadMs` of another
 *   share's bookings plus one slot per other busy share: about `aheadMs + n / rps`, however long
 *   the other shares' lines are.
 *
 * The alternative the issue suggests, a bucket per share at `rps / active shares` in front of the
 * shared one, caps a share at its fraction even when the others use less (a light caller counts as
 * active and leaves most of its fraction unused), and its rate must be recomputed whenever a share
 * comes or goes; booking ahead by at most `aheadMs` needs neither and wastes nothing.
 *
 * A call waiting in its share's line is refused, booking nothing, as soon as even its soonest
 * possible turn (one slot after its share's last booking for each call ahead of it in the line, as
 * if its share had the whole rate) lies past its deadline: at once for a share alone, as before
 * there were shares; while other shares take their turns, when the share is next told to wait
 * after that has become true, or by its own booking when its turn comes. The bound is a lower one
 * on purpose: counting the other shares would refuse calls that make it after all when the others
 * go quiet (one light call would otherwise doom the tail of a flood).
 *
 * With Redis, the booking is one Lua script on the scope's keys, using Redis's clock, so every
 * replica shares one schedule, and the shares' latest booked send times are a sorted set beside it
 * (members: share keys, hashed; a share leaves it once its last booking has gone out), so a share is
 * held to `aheadMs` across every replica it calls through. If Redis is unreachable each replica
 * books from its own bucket instead, with its share of the quota (rate and burst divided by the
 * number of replicas seen through Redis in the last minute), starting empty so it does not add a
 * burst on top of what the shared schedule already sent, and holds shares to `aheadMs` on its own.
 * When Redis returns after having lost the bucket, the bucket restarts empty rather than full for
 * the same reason, whether or not a call was booked while it was away: for `RECOVERY_MS` after this
 * replica last booked locally or its link last lost or regained Redis (`RedisLink.outageWithin`),
 * a missing bucket starts with one token, then the rate.
 */
export class QuotaLimiter {
  readonly stats: LimiterStats = { sharedGrants: 0, localGrants: 0, refused: 0, rebooked: 0 };
  private readonly maxWaitMs: number;
  private readonly slackMs: number;
  /** How far ahead of now one share may have booked and still book another slot, ms. */
  readonly aheadMs: number;
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
    // Short enough that another share's call lands soon; long enough that a share's next booking
    // is made (a wake-up, a Redis round trip) before its last booked slot has gone: half the slack
    // is the lateness a wake-up is allowed anyway. (A share that books later than that leaves a
    // gap in the schedule, never a burst: only throughput is lost.)
    this.aheadMs = this.slackMs / 2;
  }

  /**
   * Waits until one request of `scope` may be sent for the quota share `share` (`quotaShareOf`;
   * unset: `system`); call it before every attempt. Rejects with `QuotaWaitExceededError`, at once
   * when the wait would end after `deadline` (the clock's monotonic time; default: now plus
   * `CONNECT_MAX_WAIT_MS`) or is estimated to, else when the deadline passes.
   */
  async acquire(scope: QuotaScope, deadline = this.clock.monotonic() + this.maxWaitMs, share: string = SYSTEM_SHARE): Promise<void> {
    const bucket = this.bucket(scopeKey(scope));
    for (let booking = 1; ; booking++) {
      const started = this.clock.monotonic();
      // A rebooking (booking > 1) is the share's oldest call: it books at once, outside the line.
      const { wait, bookedAt } = this.bookAtOnce(bucket, scope, share, deadline, booking > 1) ?? (await this.book(bucket, scope, share, deadline, booking > 1));
      this.observeWait?.(scope.api, (bookedAt - started + wait) / 1000, "acquired");
      if (wait >= 1) await this.clock.sleep(wait);
      // A busy event loop can wake a call well after its slot; sent that late it could bunch up with
      // calls booked after it. It books a new slot instead (the missed one goes unused, which only
      // leaves Connect's bucket fuller). A late rebooking gets a wait bound of its own. Lateness is
      // counted from the booking's answer: counting the Redis round trip too made every call book
      // three slots when Redis answered slower than half the slack, and overrun its deadline.
      if (this.clock.monotonic() - bookedAt - wait <= this.slackMs / 2 || booking === 3) return;
      this.stats.rebooked++;
      deadline = Math.max(deadline, this.clock.monotonic() + this.maxWaitMs);
    }
  }

  // Private: one quota scope's local state.
  private bucket(key: string): LocalBucket {
    let bucket = this.local.get(key);
    if (!bucket) {
      bucket = { key, tat: 0, mode: this.redis ? "shared" : "local", replicas: 1, lastSharedSendAt: 0, lastFallbackAt: -Infinity, shares: new Map(), lines: new Map() };
      this.local.set(key, bucket);
    }
    return bucket;
  }

  /**
   * Without Redis and with no call of `share` waiting, books here and now, as `book` would without
   * a turn of the event loop; `undefined` when that is not the case or the share must wait.
   */
  private bookAtOnce(bucket: LocalBucket, scope: QuotaScope, share: string, deadline: number, rebooking: boolean): { wait: number; bookedAt: number } | undefined {
    if (this.redis?.available || bucket.lines.has(share)) return undefined;
    const bookedAt = this.clock.monotonic();
    const maxWait = Math.max(0, deadline - bookedAt);
    const result = this.bookLocal(bucket, share, maxWait, rebooking);
    if (result.kind === "refused") throw this.refuse(scope, maxWait);
    return result.kind === "granted" ? { wait: result.wait, bookedAt } : undefined;
  }

  /**
   * Books one slot for `share`: waits for the call's turn in the share's line (unless `rebooking`),
   * then books, and while the share is booked too far ahead sleeps until it may book and tries
   * again. Resolves to the wait from booking to the slot, and when it was booked; throws the refusal.
   */
  private async book(bucket: LocalBucket, scope: QuotaScope, share: string, deadline: number, rebooking: boolean): Promise<{ wait: number; bookedAt: number }> {
    let line: ShareLine | undefined;
    if (!rebooking) {
      line = bucket.lines.get(share);
      if (!line) bucket.lines.set(share, (line = { waiting: [], deferred: false, last: 0 }));
      else await this.queue(line, scope, deadline);
    }
    try {
      for (;;) {
        const bookedAt = this.clock.monotonic();
        const maxWait = Math.max(0, deadline - bookedAt);
        let result: Booking | undefined;
        if (this.redis?.available) result = await this.bookShared(bucket, share, maxWait, rebooking).catch(() => undefined);
        result ??= this.bookLocal(bucket, share, maxWait, rebooking);
        if (result.kind === "refused") throw this.refuse(scope, maxWait);
        if (line) {
          line.last = result.last;
          line.deferred = result.kind === "later";
        }
        // The wait counts from the answer: a Redis round trip is not lateness of the wake-up (below).
        if (result.kind === "granted") return { wait: result.wait, bookedAt: this.clock.monotonic() };
        // The share has booked far enough ahead: its line waits, and learns what that means for it.
        if (line) this.refuseHopeless(line);
        await this.clock.sleep(result.retryAfter);
      }
    } finally {
      if (line) this.leave(bucket, share, line);
    }
  }

  // Private: waits behind the calls ahead in the share's line; refused at once if hopeless.
  private queue(line: ShareLine, scope: QuotaScope, deadline: number): Promise<void> {
    if (line.deferred && this.turnEstimate(line, line.waiting.length) > deadline) return Promise.reject(this.refuse(scope, deadline - this.clock.monotonic()));
    // Once the share has to wait, every booking of its first call revises the estimates
    // (`refuseHopeless`); and whatever the calls ahead take (a slow Redis's round trips, one at a
    // time), a call still in the line `aheadMs` after its deadline is refused then, never later.
    // (Not at the deadline itself: a burst's calls booked with no wait at all, deadline now, go
    // through the line one round trip after another and must still get the burst.)
    return new Promise<void>((resolve, reject) => {
      let cancel = (): void => {};
      const waiter: Waiter = {
        deadline,
        go: () => {
          cancel();
          resolve();
        },
        refuse: () => {
          cancel();
          line.waiting.splice(line.waiting.indexOf(waiter), 1);
          reject(this.refuse(scope, deadline - this.clock.monotonic()));
        },
      };
      line.waiting.push(waiter);
      cancel = this.clock.timer(Math.max(0, deadline - this.clock.monotonic()) + this.aheadMs, () => {
        if (line.waiting.includes(waiter)) waiter.refuse();
      });
    });
  }

  // Private: hands the line to its next call, or drops it.
  private leave(bucket: LocalBucket, share: string, line: ShareLine): void {
    const next = line.waiting.shift();
    if (next) next.go();
    else bucket.lines.delete(share);
  }

  /**
   * The soonest the call at `index` behind the line's first could be sent, monotonic ms, while the
   * first is told to wait: it books at least one slot after the share's last, and each call one
   * slot after the one before it.
   */
  private turnEstimate(line: ShareLine, index: number): number {
    return line.last + (index + 2) * this.interval;
  }

  // Private: refuses the waiting calls whose estimated turn lies past their deadline (the share's
  // first call has just been told to wait, so its slot comes at least one interval after `last`).
  private refuseHopeless(line: ShareLine): void {
    for (let i = line.waiting.length - 1; i >= 0; i--) {
      const waiter = line.waiting[i]!;
      if (this.turnEstimate(line, i) > waiter.deadline) waiter.refuse();
    }
  }

  private refuse(scope: QuotaScope, maxWait: number): QuotaWaitExceededError {
    this.stats.refused++;
    this.observeWait?.(scope.api, 0, "rejected");
    return new QuotaWaitExceededError(`the quota for ${scope.api} in ${scope.region} would make this call wait more than ${Math.max(0, Math.round(maxWait))} ms`);
  }

  /** Books from the shared bucket; throws if Redis failed. */
  private async bookShared(bucket: LocalBucket, share: string, maxWait: number, force: boolean): Promise<Booking> {
    const recovering = this.clock.monotonic() - bucket.lastFallbackAt < RECOVERY_MS || this.redis!.outageWithin(RECOVERY_MS);
    const tatKey = `${this.keyPrefix}quota:{${bucket.key}}`;
    const reply = (await this.redis!.run((client) =>
      client.eval(GCRA_SCRIPT, {
        keys: [tatKey, `${tatKey}:replicas`, `${tatKey}:shares`],
        arguments: [
          String(Math.round(this.interval * 1000)),
          String(Math.round((this.burst - 1) * this.interval * 1000)),
          String(Math.round(maxWait * 1000)),
          this.replicaId,
          recovering ? "1" : "0",
          share,
          String(Math.round(this.aheadMs * 1000)),
          force ? "1" : "0",
        ],
      }),
    )) as [number, number, number, number];
    const now = this.clock.monotonic();
    const [code, valueUs, replicas, lastUs] = reply.map(Number) as [number, number, number, number];
    bucket.replicas = Math.max(1, replicas);
    if (code === 0) return { kind: "refused" };
    const last = now + lastUs / 1000;
    if (code === 2) return { kind: "later", retryAfter: valueUs / 1000, last };
    const wait = valueUs / 1000;
    if (bucket.mode === "fallback") bucket.mode = "shared";
    bucket.lastSharedSendAt = Math.max(bucket.lastSharedSendAt, now + wait);
    this.stats.sharedGrants++;
    return { kind: "granted", wait, last };
  }

  /** Books from this process's bucket. */
  private bookLocal(bucket: LocalBucket, share: string, maxWait: number, force: boolean): Booking {
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
    // Shares whose last booking has gone out have nothing ahead: forget them.
    for (const [key, sendAt] of bucket.shares) if (sendAt <= now) bucket.shares.delete(key);
    const last = bucket.shares.get(share);
    if (last !== undefined && !force && last - now > this.aheadMs) {
      if (last + interval - now > maxWait) return { kind: "refused" };
      return { kind: "later", retryAfter: last - this.aheadMs - now, last };
    }
    const tolerance = (burst - 1) * interval;
    const tat = Math.max(bucket.tat, now);
    const wait = Math.max(0, tat - tolerance - now);
    if (wait > maxWait) return { kind: "refused" };
    bucket.tat = tat + interval;
    bucket.shares.set(share, now + wait);
    this.stats.localGrants++;
    return { kind: "granted", wait, last: now + wait };
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
  /** Booking here: each share's latest booked send time still to come, monotonic ms. */
  readonly shares: Map<string, number>;
  /** This process's calls of each share waiting for their turn to book (only shares with one booking). */
  readonly lines: Map<string, ShareLine>;
}

/** One share's calls in this process: the first is booking; the others wait in arrival order. */
interface ShareLine {
  readonly waiting: Waiter[];
  /** The first call was told its share has booked far enough ahead, and sleeps until it may book. */
  deferred: boolean;
  /** The share's latest booked send time as last seen, monotonic ms. */
  last: number;
}

interface Waiter {
  readonly deadline: number;
  go(): void;
  refuse(): void;
}

/**
 * How long after this replica last booked from its own bucket, or its Redis link last failed or came
 * back, a bucket missing from Redis is taken for one lost in the outage (a restarted Redis keeps
 * nothing) and starts empty rather than full, ms. A bucket that had merely expired (its TTL ends
 * when it would be full again) then costs at most one burst of throughput.
 */
const RECOVERY_MS = 10_000;

/** One booking's outcome: granted (wait ms), refused, or not yet (the share is booked ahead). */
type Booking =
  | { kind: "granted"; wait: number; last: number }
  | { kind: "refused" }
  | { kind: "later"; retryAfter: number; last: number };

// Private: the scope as a key; the identity is hashed so no credential appears in Redis.
function scopeKey(scope: QuotaScope): string {
  const identity = createHash("sha256").update(scope.identity).digest("hex").slice(0, 16);
  return `${scope.api}:${scope.region}:${identity}`;
}

/**
 * GCRA booking on Redis's clock, in microseconds. KEYS[1]: the bucket's theoretical arrival time;
 * KEYS[2]: replicas seen in the last minute; KEYS[3]: each share's latest booked send time, for
 * shares with a booking still to go out. ARGV: interval, tolerance ((burst - 1) × interval),
 * longest acceptable wait, replica id, 1 when the caller has just been running without Redis or
 * Redis has just been unreachable (a missing bucket was likely lost with it, and starts with one
 * token instead of a full burst), the share, how far ahead a
 * share may have booked and book again, and 1 to book regardless (a late call's rebooking).
 * Returns {code, value, replicas, the share's last booked send time - now}:
 * code 1 granted (value: the wait), 0 refused, 2 not yet (value: when the share may book again).
 * Scores and the time are formatted as integers: Redis would print a Lua number with 14 digits.
 */
const GCRA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local maxWait = tonumber(ARGV[3])
redis.call('ZADD', KEYS[2], now, ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 60000000)
redis.call('PEXPIRE', KEYS[2], 60000)
local replicas = redis.call('ZCARD', KEYS[2])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', string.format('%.0f', now))
local score = redis.call('ZSCORE', KEYS[3], ARGV[6])
local last = score and tonumber(score) or nil
if last and ARGV[8] ~= '1' and last - now > tonumber(ARGV[7]) then
  if last + interval - now > maxWait then
    return {0, 0, replicas, 0}
  end
  return {2, last - tonumber(ARGV[7]) - now, replicas, last - now}
end
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
if wait > maxWait then
  return {0, wait, replicas, 0}
end
tat = tat + interval
local ttl = math.ceil((tat - now) / 1000) + 1000
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', ttl)
redis.call('ZADD', KEYS[3], string.format('%.0f', now + wait), ARGV[6])
redis.call('PEXPIRE', KEYS[3], ttl)
return {1, wait, replicas, wait}
`;
