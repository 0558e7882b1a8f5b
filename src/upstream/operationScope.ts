import type { OperationTrace } from "../observability/tracing.js";

/**
 * What one HTTP request to `/graphql` cost upstream, for its log line, and its trace when tracing is
 * on. The scope is made with the request's context and travels down with every read the request
 * makes (the loaders' `FetchOptions.operation`, through the caches, the concurrency pool and the
 * quota limiters, to the upstream's `CallOptions.operation`), so a call that several requests share
 * (coalesced in a cache) counts, and is traced, for the request that sent it. It is passed
 * explicitly rather than through `AsyncLocalStorage` (or an OpenTelemetry context manager built on
 * it): on Node 20 an active `AsyncLocalStorage` turns on promise hooks for every promise in the
 * process, which cost 17% of a cached query's CPU (bench/README.md, finding 2).
 */
export interface OperationScope {
  /** Calls that reached Amazon Connect (cache hits and refused calls are not counted). */
  upstreamCalls: number;
  /**
   * The operation's span, when tracing is on (set by the tracing plugin as the operation starts):
   * every read's span is started as its child from here, by the same explicit path. Unset, reads
   * make no span and do no tracing work.
   */
  trace?: OperationTrace | undefined;
  /**
   * The caller's quota share (`quotaShareOf`): the quota limiters and the concurrency pool share
   * Connect's quotas fairly between shares. Unset, calls are the `system` share's.
   */
  readonly share?: string | undefined;
}

export function createOperationScope(share?: string): OperationScope {
  return share === undefined ? { upstreamCalls: 0 } : { upstreamCalls: 0, share };
}

/** Counts one upstream call against `scope`; calls made outside a request (start-up checks) have none. */
export function countUpstreamCall(scope: OperationScope | undefined): void {
  if (scope) scope.upstreamCalls++;
}
