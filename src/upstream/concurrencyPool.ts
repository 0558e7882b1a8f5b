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
 * Waiting calls take freed slots in turn by quota share (`quotaShare.ts`: one per caller), each
 * share's calls in arrival order: a freed slot goes to the share that has waited longest since its
 * last turn. A slot is held while its call waits for quota, so with one line in arrival order a
 * caller with hundreds of calls queued would hold every slot and keep a light caller's one call
 * from even reaching the limiter's fair share (issue #11). One share alone waits in arrival order,
 * as before.
 */
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
    const deadline = this.clock.monotonic() + this.maxWaitMs;
    if (this.running < this.slots) return this.start(call, deadline);
    if (this.maxWaitMs <= 0) return Promise.reject(this.refuse(api));
    return new Promise<T>((resolve, reject) => {
      const begin = () => {
        cancel();
        resolve(this.start(call, deadline));
      };
      const key = share ?? SYSTEM_SHARE;
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
    });
  }

  // Private: holds a slot for the length of `call`, then hands it to the next caller in line.
  private async start<T>(call: (deadline: number) => Promise<T>, deadline: number): Promise<T> {
    this.running++;
    try {
      return await call(deadline);
    } finally {
      this.running--;
      this.next();
    }
  }

  // Private: the freed slot goes to the first share in turn, which then goes to the back.
  private next(): void {
    const first = this.queues.entries().next();
    if (first.done) return;
    const [share, line] = first.value;
    const begin = line.shift()!;
    this.queues.delete(share);
    if (line.length > 0) this.queues.set(share, line);
    this.queued--;
    begin();
  }

  private refuse(api: string): QuotaWaitExceededError {
    this.stats.refused++;
    this.observeWait?.(api, this.maxWaitMs / 1000, "rejected");
    return new QuotaWaitExceededError(`waited ${this.maxWaitMs} ms for one of the ${this.slots} upstream slots`);
  }
}
