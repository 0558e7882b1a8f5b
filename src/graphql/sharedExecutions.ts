import type { ExecutionResult } from "graphql";

/**
 * One execution per (event, subscription shape): subscribers whose results for an event cannot
 * differ receive the result executed for the first of them to pull that event.
 *
 * A wallboard's hundred screens, or every agent of a team, subscribe with the same document and
 * variables; executing it for each of them per event costs the gateway's one thread a full execution
 * per delivery (bench/README.md, "Live contacts"). The shape key (`SubscriptionServer` makes it)
 * names everything a result depends on: the document's text, the operation name, the variables as
 * sent and the caller's access (`accessKey`: `@pii` unmasked or not, readable instances). Keys that
 * differ only in spelling (whitespace, the order of variables) execute apart: sharing less, never
 * wrongly. The event is the same object for every subscriber it is delivered to (`ContactEventHub`),
 * so results are held in a `WeakMap` keyed by it and go when the last subscriber has pulled it.
 *
 * A shared result is the same object for every subscriber: the transports serialize it and must not
 * change it (graphql-ws and graphql-sse only `JSON.stringify` it).
 */
export class SharedExecutions {
  private readonly byEvent = new WeakMap<object, Map<string, Promise<ExecutionResult>>>();

  /**
   * The result of `execute` for `event` under `key`: executed now if no subscriber with the same key
   * has pulled this event yet, else the one already executed (or executing). `shared` says which.
   * A rejected execution rejects for every subscriber that shares it.
   */
  run(event: object, key: string, execute: () => Promise<ExecutionResult>): { result: Promise<ExecutionResult>; shared: boolean } {
    let results = this.byEvent.get(event);
    if (!results) this.byEvent.set(event, (results = new Map()));
    const existing = results.get(key);
    if (existing) return { result: existing, shared: true };
    const result = execute();
    results.set(key, result);
    return { result, shared: false };
  }
}
