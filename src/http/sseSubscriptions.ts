import { once } from "node:events";
import type { ServerResponse } from "node:http";
import type { FastifyRequest, RouteHandlerMethod } from "fastify";
import type { ExecutionResult, GraphQLError } from "graphql";
import { createHandler } from "graphql-sse/lib/use/fastify";
import type { Principal } from "../domain/principal.js";
import type { GatewayMetrics } from "../observability/metrics.js";
import type { SubscriptionOrigin } from "./subscriptionLog.js";
import type { SubscriptionServer } from "./subscriptionServer.js";
import { TrustedDocumentError } from "./trustedDocuments.js";

export interface SseOptions {
  server: SubscriptionServer;
  /** The caller of a request (the auth hook authenticated it before its body was read). */
  principalOf: (request: FastifyRequest) => Principal;
  metrics: GatewayMetrics;
  /** Counts open streams (for shutdown). */
  streams?: SseStreams | undefined;
}

/**
 * GraphQL over Server-Sent Events (`graphql-sse`, distinct connections mode: one request per
 * subscription, works over HTTP/1) for `GET` and `POST /graphql/stream`. Authentication is the
 * gateway's bearer-token hook, before the body is read (401/403 as HTTP). Each open stream counts
 * as one of its caller's connections (`SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL`); a subscriber that
 * falls `SUBSCRIPTION_BUFFER_EVENTS` behind has its stream closed. graphql-sse sends a keep-alive
 * comment every 12 seconds.
 *
 * Back-pressure: graphql-sse pulls results as fast as they come and queues them unbounded for its
 * writer, so a stalled reader would never fill the subscriber's bounded queue. The results it pulls
 * therefore wait until the response has drained what was already written: a reader that stops
 * reading stops the pulls, its subscriber queue fills, and at the bound its stream is closed.
 *
 * Every subscription refused here writes one log line under the request's id and counts its codes
 * (`SubscriptionLog`). Refused earlier, it does not: by the authentication hook (401/403, which logs
 * its own line, as on POST /graphql) or by graphql-sse itself (a body it cannot read, a request for
 * a reserved stream: the protocol's errors, before any operation).
 */
export function sseHandler(options: SseOptions): RouteHandlerMethod {
  const { server, metrics } = options;
  const responses = new WeakMap<object, ServerResponse>();
  const handler = createHandler<Record<string, unknown>>({
    // `prepare` validated the document with every rule and limit (once per text); graphql-sse would
    // validate it again per subscription with graphql-js's rules alone.
    validate: () => [],
    onSubscribe(req, params) {
      const request = req.raw;
      const reply = req.context.reply;
      const origin: SubscriptionOrigin = { transport: "sse", requestId: request.id, started: process.hrtime.bigint() };
      const principal = options.principalOf(request);
      const key = server.connect(principal, request.ip);
      if (!key) return errorResponse(429, server.refuse(origin, params, [server.tooManyConnections()]));
      const args = server.prepare(params, { ...origin, principal, onOverflow: () => reply.raw.destroy() });
      if (!Array.isArray(args)) responses.set(args.contextValue, reply.raw);
      if (Array.isArray(args)) {
        server.disconnect(key);
        return errorResponse(args[0] instanceof TrustedDocumentError ? args[0].status : 400, args);
      }
      metrics.observeSubscriptions("sse", 1);
      reply.raw.once("close", () => {
        server.disconnect(key);
        metrics.observeSubscriptions("sse", -1);
      });
      return args as never;
    },
    subscribe: async (args) => {
      const result = await server.subscribe(args as unknown as Parameters<SubscriptionServer["subscribe"]>[0]);
      const response = responses.get(args.contextValue as object);
      return response && Symbol.asyncIterator in result ? drained(result, response) : result;
    },
  });
  return async function handleStream(request, reply) {
    options.streams?.opened();
    try {
      await handler(request, reply);
    } finally {
      options.streams?.closed();
    }
  };
}

/**
 * The SSE streams open now, so a graceful shutdown can wait for the ones it ended to finish
 * writing before the server closes idle connections (a stream's connection is busy until then).
 */
export class SseStreams {
  private open = 0;
  private waiters: Array<() => void> = [];

  opened(): void {
    this.open++;
  }

  closed(): void {
    this.open--;
    if (this.open === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves when no stream is open, or after `timeoutMs`. */
  async idle(timeoutMs: number): Promise<void> {
    if (this.open === 0) return;
    await new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      setTimeout(resolve, timeoutMs).unref();
    });
  }
}

// Private: a refusal in graphql-sse's response form, GraphQL-shaped.
function errorResponse(status: number, errors: readonly GraphQLError[]) {
  return [
    JSON.stringify({ errors: errors.map((e) => e.toJSON()) }),
    { status, statusText: STATUS_TEXT[status] ?? "Bad Request", headers: { "content-type": "application/json; charset=utf-8" } },
  ] as const;
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests" };

// Private: `results`, each pulled only once `response` has drained what was written before.
function drained(results: AsyncIterableIterator<ExecutionResult>, response: ServerResponse): AsyncIterableIterator<ExecutionResult> {
  const iterator: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      if (response.writableNeedDrain && !response.destroyed) await Promise.race([once(response, "drain"), once(response, "close")]);
      return results.next();
    },
    return: () => results.return?.() ?? Promise.resolve({ value: undefined, done: true }),
    throw: (error) => results.throw?.(error) ?? Promise.reject(error),
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
