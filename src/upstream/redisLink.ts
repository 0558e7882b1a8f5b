import { createClient, type RedisClientType } from "@keyv/redis";
import type { Logger } from "pino";

export interface RedisLinkOptions {
  /** `redis://[user:password@]host:port[/db]` (`REDIS_URL`). */
  url: string;
  /** A command slower than this counts as Redis being down, ms (`REDIS_TIMEOUT_MS`). */
  timeoutMs: number;
  logger: Logger;
}

/** Thrown (and caught by every user of the link) when Redis cannot serve a command right now. */
export class RedisUnavailableError extends Error {
  override readonly name = "RedisUnavailableError";
}

/**
 * The gateway's one connection to Redis, shared by the tiered caches (contacts, queues, users), the
 * quota limiters, Apollo's persisted-query cache and the contact events. Redis is an accelerator,
 * never a dependency: `run` fails fast (no offline queue, a timeout on every command, a short
 * back-off after a failure) and callers fall back to their local state. An outage is logged once
 * when it starts and once when it ends; the client reconnects on its own, with back-off, for as long
 * as the process lives.
 */
export class RedisLink {
  readonly client: RedisClientType;
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  /** Commands are not sent before this (performance.now) after a failure, so a dead Redis costs nothing. */
  private retryAt = 0;
  private down = false;
  private closed = false;
  /** When the link last failed a command or its connection, or came back after that (performance.now). */
  private lastOutageAt = -Infinity;
  /** Operations `run` started whose commands have not settled, those it gave up on at their timeout included. */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(options: RedisLinkOptions) {
    this.timeoutMs = options.timeoutMs;
    this.logger = options.logger;
    this.client = createClient({
      url: options.url,
      // Commands issued while disconnected fail at once instead of queueing until Redis returns.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: Math.max(options.timeoutMs, 1000),
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000),
      },
    }) as RedisClientType;
    // node-redis reports every failed reconnection as an `error` event; one log line per outage.
    this.client.on("error", (error: Error) => this.markDown(error));
    this.client.on("ready", () => this.markUp());
    // Connects in the background: the gateway starts and serves whether or not Redis is there.
    this.client.connect().catch((error: unknown) => this.markDown(error));
  }

  /** Whether commands are being sent to Redis (connected and not backing off after a failure). */
  get available(): boolean {
    return !this.closed && this.client.isReady && performance.now() >= this.retryAt;
  }

  /**
   * Whether Redis was unreachable, or came back, within the last `ms`. Keys may have been lost
   * meanwhile (a restarted Redis comes back empty) without any command of this link failing on them:
   * the quota limiter then starts a missing bucket empty rather than full. One clock read.
   */
  outageWithin(ms: number): boolean {
    return performance.now() - this.lastOutageAt < ms;
  }

  /**
   * Runs one Redis operation within the timeout. Rejects with `RedisUnavailableError` at once while
   * Redis is down, and when the operation fails or times out (which also starts a short back-off).
   */
  async run<T>(operation: (client: RedisClientType) => Promise<T>): Promise<T> {
    if (!this.available) throw new RedisUnavailableError("Redis is unavailable");
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        this.track(operation(this.client)),
        new Promise<never>((_, reject) => {
          // Decided after the event loop's next I/O phase: when the loop was blocked past the
          // timeout, an answer already waiting on the socket wins instead of a false timeout.
          timer = setTimeout(
            () => setImmediate(() => reject(new RedisUnavailableError(`Redis did not answer within ${this.timeoutMs} ms`))),
            this.timeoutMs,
          );
        }),
      ]);
      if (this.down) this.markUp();
      return result;
    } catch (error) {
      this.markDown(error);
      throw error instanceof RedisUnavailableError ? error : new RedisUnavailableError("Redis command failed", { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Ends the connection, never waiting longer than the timeout. While Redis answers, the commands
   * already sent get up to the timeout to finish (a cache write issued just before shutdown still
   * lands); while it is down, nothing is waited for. Then the connection is cut, rejecting whatever
   * is still pending. (node-redis's own `close()` waits for every pending command, those `run` gave
   * up on included: a frozen Redis held it, and so the gateway's shutdown, forever.)
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.down && this.inFlight.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(this.inFlight), new Promise((resolve) => (timer = setTimeout(resolve, this.timeoutMs)))]);
      clearTimeout(timer);
    }
    if (this.client.isOpen) this.client.destroy();
  }

  // Private: an operation is in flight until its commands settle, however long after its timeout.
  private track<T>(operation: Promise<T>): Promise<T> {
    this.inFlight.add(operation);
    const settled = (): void => void this.inFlight.delete(operation);
    operation.then(settled, settled);
    return operation;
  }

  // Private: outage bookkeeping. The error's message only (no URL, which may hold a password).
  private markDown(error: unknown): void {
    this.lastOutageAt = performance.now();
    this.retryAt = this.lastOutageAt + 1000;
    if (this.down || this.closed) return;
    this.down = true;
    const reason = error instanceof Error ? error.message : String(error);
    // Redis answering but refusing the URL's database or credentials: a setting to fix, not an outage.
    const refusedUrl = /^(?:WRONGPASS|NOAUTH|ERR AUTH)\b|DB index is out of range/.test(reason);
    this.logger.warn(
      { reason },
      refusedUrl
        ? "Redis unavailable, likely because of the setting REDIS_URL (Redis refused its database or credentials): serving from the local cache and limiter until it returns"
        : "Redis unavailable: serving from the local cache and limiter until it returns",
    );
  }

  private markUp(): void {
    this.retryAt = 0;
    if (!this.down) return;
    this.down = false;
    this.lastOutageAt = performance.now();
    this.logger.info("Redis is back: cache and quota are shared again");
  }
}
