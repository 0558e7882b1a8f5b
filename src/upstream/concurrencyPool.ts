import { systemClock, type Clock } from "./clock.js";
import { QuotaWaitExceededError, type WaitObserver } from "./quotaWaitExceeded.js";
import { SYSTEM_SHARE } from "./quotaShare.js";

export interface ConcurrencyPoolOptions {
  /** Upstream calls in flight at once in this process, every API together (`CONNECT_MAX_CONCURRENCY`). */
  slots: number;
  /** Longest a call may wait for a slot before failing with UPSTREAM_THROTTLED, ms (`CONNECT_MAX_WAIT_MS`). */
  maxWaitMs: number;
  /** Waits are bounded on its monotonic time. Default `systemClock`. */
  clock?: Clock;
  /** Observes each refusal, labelled with the API of the call refused (metrics). */
  observeWait?: WaitObserver | undefined;
}

/**
 * The process's slots for upstream calls, shared by every Connect API: at most `slots` calls are in
 * flight at once, so a burst of queries cannot open unbounded sockets or hold unbounded answers.
 * One still waiting after `maxWaitMs` fails with `QuotaWaitExceededError` and never runs. Quotas
 * are not its concern: each API's `QuotaLimiter` grants every attempt of a call that holds a slot.
 *
 * Slots are shared out by quota share (`quotaShare.ts`: one per caller). A slot is held while its
 * call waits for quota, so a caller with hundreds of calls queued would hold every slot and keep a
 * light caller's one call from even reaching the limiter's fair share (issue #11). So:
 *
 * - waiting calls take freed slots in turn by share, each share's calls in arrival order: a freed
 *   slot goes to the share that has waited longest since its last turn;
 * - while another share is active (holds a slot, waits for one, or asked within the last second),
 *   a share that already holds a slot does not take the last free one: it is kept for the other
 *   shares, whose next call then starts at once instead of waiting for one of the busy share's
 *   calls to get its quota. The busy share loses one slot of concurrency, not quota: its calls in
 *   slots are waiting for quota anyway. Once the others have been quiet for a second it may take
 *   the last slot again.
 *
 * One share alone waits in arrival order and may hold every slot, as before.
 */
/** How long a share that asked for a slot counts as active, ms. */
const ACTIVE_MS = 1000;

export class ConcurrencyPool {
  /** Calls refused a slot, for tests. */
  readonly stats = { refused: 0 };
  private readonly slots: number;
  private readonly maxWaitMs: number;
  private readonly clock: Clock;
  private readonly observeWait: WaitObserver | undefined;
  private running = 0;
  /** Waiting calls by share; a share's turn moves it to the back (Map order is the turn order). */
  private readonly queues = new Map<string, Array<() => void>>();
  private queued = 0;
  /** Slots each share holds now. */
  private readonly held = new Map<string, number>();
  /** When each share last asked for a slot, monotonic ms (shares quiet for longer than `ACTIVE_MS` are dropped). */
  private readonly asked = new Map<string, number>();
  /** Cancels the pending re-check of a slot kept free for other shares. */
  private recheck: (() => void) | undefined;

  constructor(options: ConcurrencyPoolOptions) {
    this.slots = options.slots;
    this.maxWaitMs = options.maxWaitMs;
    this.clock = options.clock ?? systemClock;
    this.observeWait = options.observeWait;
  }

  /** Calls in flight now. */
  get active(): number {
    return this.running;
  }

  /** Calls waiting for a slot now. */
  get waiting(): number {
    return this.queued;
  }

  /**
   * Runs `call`, a call to the API `api`, once a slot is free. `call` gets the deadline (monotonic
   * time) by which its first attempt must be granted: the wait for the slot and the wait for quota
   * share one budget of `maxWaitMs`.
   */
  run<T>(api: string, call: (deadline: number) => Promise<T>): Promise<T> {
    return this.runFor(SYSTEM_SHARE, api, call);
  }

  /** `run`, for the quota share `share` (`OperationScope.share`; unset: `system`). */
  runFor<T>(share: string | undefined, api: string, call: (deadline: number) => Promise<T>): Promise<T> {
    const key = share ?? SYSTEM_SHARE;
    const now = this.clock.monotonic();
    const deadline = now + this.maxWaitMs;
    this.asked.delete(key);
    this.asked.set(key, now);
    this.forgetQuiet(now);
    if (this.mayTake(key)) return this.start(key, call, deadline);
    if (this.maxWaitMs <= 0) return Promise.reject(this.refuse(api));
    return new Promise<T>((resolve, reject) => {
      const begin = () => {
        cancel();
        resolve(this.start(key, call, deadline));
      };
      const cancel = this.clock.timer(this.maxWaitMs, () => {
        const line = this.queues.get(key)!;
        line.splice(line.indexOf(begin), 1);
        if (line.length === 0) this.queues.delete(key);
        this.queued--;
        reject(this.refuse(api));
      });
      const line = this.queues.get(key);
      if (line) line.push(begin);
      else this.queues.set(key, [begin]);
      this.queued++;
      // A slot may be free but kept for others: look again once they may have gone quiet.
      this.scheduleRecheck();
    });
  }

  // Private: drops the shares that have been quiet for longer than `ACTIVE_MS` and hold and wait for
  // nothing. `asked` is in order of the last ask (each ask moves its share to the back), so the
  // quiet ones are at the front: the walk stops at the first that asked recently.
  private forgetQuiet(now: number): void {
    for (const [share, at] of this.asked) {
      if (now - at <= ACTIVE_MS) return;
      if (!this.held.has(share) && !this.queues.has(share)) this.asked.delete(share);
    }
  }

  // Private: holds a slot for the length of `call`, then hands it on.
  private async start<T>(share: string, call: (deadline: number) => Promise<T>, deadline: number): Promise<T> {
    this.running++;
    this.held.set(share, (this.held.get(share) ?? 0) + 1);
    try {
      return await call(deadline);
    } finally {
      this.running--;
      const held = this.held.get(share)! - 1;
      if (held > 0) this.held.set(share, held);
      else this.held.delete(share);
      this.fill();
    }
  }

  // Private: whether `share` may take a slot now (see the class comment).
  private mayTake(share: string): boolean {
    const free = this.slots - this.running;
    if (free <= 0) return false;
    if (free > 1 || !this.held.has(share)) return true;
    return !this.othersActive(share);
  }

  // Private: whether a share other than `share` holds a slot, waits for one, or asked recently.
  private othersActive(share: string): boolean {
    const now = this.clock.monotonic();
    for (const [other, at] of this.asked) {
      if (now - at <= ACTIVE_MS) {
        if (other !== share) return true;
      } else if (!this.held.has(other) && !this.queues.has(other)) this.asked.delete(other);
    }
    for (const other of this.held.keys()) if (other !== share) return true;
    for (const other of this.queues.keys()) if (other !== share) return true;
    return false;
  }

  // Private: hands free slots to waiting shares in turn (a share served goes to the back); a slot
  // kept free for other shares is looked at again once they may have gone quiet.
  private fill(): void {
    while (this.running < this.slots) {
      let share: string | undefined;
      for (const key of this.queues.keys()) {
        if (this.mayTake(key)) {
          share = key;
          break;
        }
      }
      if (share === undefined) break;
      const line = this.queues.get(share)!;
      const begin = line.shift()!;
      this.queues.delete(share);
      if (line.length > 0) this.queues.set(share, line);
      this.queued--;
      begin();
    }
    this.scheduleRecheck();
  }

  // Private: while calls wait beside a free slot (kept for other shares), looks again in `ACTIVE_MS`.
  private scheduleRecheck(): void {
    if (this.queued > 0 && this.running < this.slots && !this.recheck) {
      this.recheck = this.clock.timer(ACTIVE_MS, () => {
        this.recheck = undefined;
        this.fill();
      });
    }
  }

  private refuse(api: string): QuotaWaitExceededError {
    this.stats.refused++;
    this.observeWait?.(api, this.maxWaitMs / 1000, "rejected");
    return new QuotaWaitExceededError(`waited ${this.maxWaitMs} ms for one of the ${this.slots} upstream slots`);
  }
}
