import type { Clock } from "../../src/upstream/clock.js";

/**
 * A `Clock` that moves only when a test says so: TTLs, quota schedules and wait bounds run in no
 * time and to the millisecond. Timers and sleeps fire, in order, as `advance` passes their time.
 */
export class ManualClock implements Clock {
  private elapsed = 0;
  private readonly timers: Array<{ at: number; seq: number; fire: () => void }> = [];
  private seq = 0;

  constructor(private readonly epoch = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.epoch + this.elapsed;
  }

  monotonic(): number {
    return this.elapsed;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.timer(ms, resolve));
  }

  timer(ms: number, callback: () => void): () => void {
    const timer = { at: this.elapsed + Math.max(0, ms), seq: this.seq++, fire: callback };
    this.timers.push(timer);
    return () => {
      const at = this.timers.indexOf(timer);
      if (at >= 0) this.timers.splice(at, 1);
    };
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.length;
  }

  /**
   * Moves time forward by `ms`, firing each timer due on the way at its own time, and lets the work
   * it starts (promise continuations, I/O already answered) run before time moves on.
   */
  async advance(ms: number): Promise<void> {
    const end = this.elapsed + ms;
    await settle();
    for (;;) {
      const next = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.elapsed = Math.max(this.elapsed, next.at);
      next.fire();
      await settle();
    }
    this.elapsed = end;
    await settle();
  }
}

// Private: lets pending promise continuations and ready I/O callbacks run.
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}
