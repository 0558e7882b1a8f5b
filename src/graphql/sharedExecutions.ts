import type { ExecutionResult } from "graphql";

/**
 * One execution per (event, subscription shape): subscribers whose results for an event cannot
 * differ receive the result executed for the first of them to pull that event.
 *
 * A wallboard's hundred screens, or every agent of a team, subscribe with the same document and
 * variables; executing it for each of them per event costs the gateway's one thread a full execution
 * per delivery (bench/README.md, "Live contacts"). The shape key (`SubscriptionServer` makes it)
 * names everything a result depends on: the document, the operation name, the variables as sent and
 * the caller's access (`accessKey`: `@pii` unmasked or not, readable instances). Keys that differ
 * only in spelling (whitespace, the order of variables) execute apart: sharing less, never wrongly.
 *
 * Lifetime: the event is the same object for every subscriber it is delivered to
 * (`ContactEventHub`), so results are held per event in a `WeakMap`, and each result only until as
 * many subscribers of its key have pulled it as had joined (`join`/`leave`) when it was executed. A
 * subscriber counted then that never pulls it (it subscribed after the event was delivered, or ended
 * first) leaves the result to go with the event, when no subscriber's queue holds it any more; one
 * that pulls it after it went executes it again.
 *
 * A shared result is the same object for every subscriber: the transports serialize it and must not
 * change it (graphql-ws and graphql-sse only `JSON.stringify` it).
 */
export class SharedExecutions {
  private readonly byEvent = new WeakMap<object, Map<string, { readonly result: Promise<ExecutionResult>; awaiting: number }>>();
  private readonly subscribers = new Map<string, number>();

  /** A subscription of `key` opened: it will pull events. Pair with `leave`. */
  join(key: string): void {
    this.subscribers.set(key, (this.subscribers.get(key) ?? 0) + 1);
  }

  /** A subscription of `key` ended. */
  leave(key: string): void {
    const open = (this.subscribers.get(key) ?? 1) - 1;
    if (open <= 0) this.subscribers.delete(key);
    else this.subscribers.set(key, open);
  }

  /**
   * The result of `execute` for `event` under `key`: executed now if no subscriber with the same key
   * has pulled this event yet (or all that were expected to have), else the one already executed (or
   * executing). `shared` says which. A rejected execution rejects for every subscriber that shares it.
   */
  run(event: object, key: string, execute: () => Promise<ExecutionResult>): { result: Promise<ExecutionResult>; shared: boolean } {
    const results = this.byEvent.get(event);
    const entry = results?.get(key);
    if (results && entry) {
      if (--entry.awaiting <= 0) results.delete(key);
      return { result: entry.result, shared: true };
    }
    const result = execute();
    // The others of its key open now, which will pull this event (or were counted and will not).
    const awaiting = (this.subscribers.get(key) ?? 1) - 1;
    if (awaiting > 0) {
      if (results) results.set(key, { result, awaiting });
      else this.byEvent.set(event, new Map([[key, { result, awaiting }]]));
    }
    return { result, shared: false };
  }
}
