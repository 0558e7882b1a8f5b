import { MAX_TIMER_MS } from "../domain/timers.js";

/**
 * Time as the quota limiter, the concurrency pool and the caches read it. It is injected, so their
 * specs run TTLs of minutes and quota schedules of seconds on a clock the test moves, instead of
 * sleeping; production uses `systemClock`.
 */
export interface Clock {
  /**
   * Wall-clock time, ms since the epoch (`Date.now()`): cache expiries, which other replicas read
   * from Redis and so must mean the same instant on every machine.
   */
  now(): number;
  /**
   * Monotonic time, ms (`performance.now()`): waits and deadlines inside this process, which a step
   * of the wall clock must not stretch or cut short.
   */
  monotonic(): number;
  /** Resolves once `ms` of monotonic time have passed. */
  sleep(ms: number): Promise<void>;
  /** Calls `callback` once `ms` of monotonic time have passed, unless the returned function is called first. */
  timer(ms: number, callback: () => void): () => void;
}

/**
 * The process's clocks and timers. A delay past `MAX_TIMER_MS` (which Node would run after 1 ms) is
 * cut to it: a call may wait up to CONNECT_MAX_WAIT_MS, itself at most `MAX_TIMER_MS`, and the timer
 * that gives up its turn in a share's line a little after that wait fires at `MAX_TIMER_MS` at the
 * latest, so with the wait at its largest a turn is given up up to that little early (24.8 days in).
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, MAX_TIMER_MS))),
  timer(ms, callback) {
    const handle = setTimeout(callback, Math.min(ms, MAX_TIMER_MS));
    return () => clearTimeout(handle);
  },
};
