/**
 * One subscriber's pending events: an async iterator whose buffer is bounded. Events are pushed as
 * they arrive and pulled as the subscriber's transport sends them; a subscriber that falls more
 * than `capacity` events behind is cut off (`overflow`), so a slow or stalled client can never make
 * the gateway's memory grow without bound. Ending it (`return`, by the transport when the client
 * unsubscribes or disconnects) runs `onEnd` at once, even while a pull is waiting.
 */
export class SubscriberQueue<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | undefined;
  private failure: unknown;
  private ended = false;

  constructor(
    /** Most events held for this subscriber. */
    private readonly capacity: number,
    /** Runs once when the queue ends, however it ends (unregisters the subscriber). */
    private readonly onEnd: () => void,
    /** Runs once when the subscriber falls behind by more than `capacity` (the transport may disconnect it). */
    private readonly onOverflow: (error: Error) => void,
    /** The error a cut-off subscriber's next pull rejects with. */
    private readonly overflowError: () => Error,
  ) {}

  /** Events waiting to be sent. */
  get size(): number {
    return this.buffer.length;
  }

  /** Adds an event, or hands it to a waiting pull. Past `capacity` the subscriber is cut off. */
  push(item: T): void {
    if (this.ended) return;
    if (this.waiting) {
      const { resolve } = this.waiting;
      this.waiting = undefined;
      resolve({ value: item, done: false });
      return;
    }
    if (this.buffer.length < this.capacity) {
      this.buffer.push(item);
      return;
    }
    this.buffer.length = 0;
    this.failure = this.overflowError();
    this.finish();
    this.onOverflow(this.failure as Error);
  }

  /** Ends the subscription from the server's side (shutdown, expired token): pulls then finish. */
  end(): void {
    if (this.ended) return;
    this.finish();
    this.waiting?.resolve({ value: undefined, done: true });
    this.waiting = undefined;
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift()!, done: false });
    if (this.failure !== undefined) {
      const failure = this.failure;
      this.failure = undefined;
      return Promise.reject(failure);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.buffer.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<T>> {
    this.buffer.length = 0;
    this.end();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  // Private: marks the queue ended and unregisters it, once.
  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
  }
}
