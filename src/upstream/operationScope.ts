/**
 * What one HTTP request to `/graphql` cost upstream, for its log line. The scope is made with the
 * request's context and travels down with every read the request makes (the loaders'
 * `FetchOptions.operation`, through the caches, the concurrency pool and the quota limiters, to the
 * upstream's `CallOptions.operation`), so a call that several requests share (coalesced in a cache)
 * counts for the request that sent it. It is passed explicitly rather than through
 * `AsyncLocalStorage`: on Node 20 an active `AsyncLocalStorage` turns on promise hooks for every
 * promise in the process, which cost 17% of a cached query's CPU (bench/README.md, finding 2).
 */
export interface OperationScope {
  /** Calls that reached Amazon Connect (cache hits and refused calls are not counted). */
  upstreamCalls: number;
}

export function createOperationScope(): OperationScope {
  return { upstreamCalls: 0 };
}

/** Counts one upstream call against `scope`; calls made outside a request (start-up checks) have none. */
export function countUpstreamCall(scope: OperationScope | undefined): void {
  if (scope) scope.upstreamCalls++;
}
