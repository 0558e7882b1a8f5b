import { AsyncLocalStorage } from "node:async_hooks";
import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction } from "fastify";

/**
 * What one HTTP request to `/graphql` cost upstream, for its log line. Upstream calls happen deep
 * below the cache and the limiter, which are shared by all requests, so the count travels with
 * the request's async context rather than through every layer's arguments.
 */
export interface OperationScope {
  /** Calls that reached Amazon Connect (cache hits and refused calls are not counted). */
  upstreamCalls: number;
}

const storage = new AsyncLocalStorage<OperationScope>();

/**
 * Fastify `preHandler` hook: everything the route handler does for this request, including
 * DataLoader batches and upstream calls, runs inside a fresh scope. (`preHandler` because body
 * parsing, earlier, runs in the socket's async context.)
 */
export function enterOperationScope(_request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  storage.run({ upstreamCalls: 0 }, done);
}

/** The current request's scope, or undefined outside a request (start-up checks, tests). */
export function currentOperationScope(): OperationScope | undefined {
  return storage.getStore();
}

/** Counts one upstream call against the current request, if there is one. */
export function countUpstreamCall(): void {
  const scope = storage.getStore();
  if (scope) scope.upstreamCalls++;
}
