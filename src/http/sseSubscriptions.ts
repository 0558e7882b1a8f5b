import type { FastifyRequest, RouteHandlerMethod } from "fastify";
import type { GraphQLError } from "graphql";
import { createHandler } from "graphql-sse/lib/use/fastify";
import type { Principal } from "../domain/principal.js";
import type { GatewayMetrics } from "../observability/metrics.js";
import type { SubscriptionServer } from "./subscriptionServer.js";
import { TrustedDocumentError } from "./trustedDocuments.js";

export interface SseOptions {
  server: SubscriptionServer;
  /** The caller of a request (the auth hook authenticated it before its body was read). */
  principalOf: (request: FastifyRequest) => Principal;
  metrics: GatewayMetrics;
}

/**
 * GraphQL over Server-Sent Events (`graphql-sse`, distinct connections mode: one request per
 * subscription, works over HTTP/1) for `GET` and `POST /graphql/stream`. Authentication is the
 * gateway's bearer-token hook, before the body is read (401/403 as HTTP). Each open stream counts
 * as one of its caller's connections (`SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL`); a subscriber that
 * falls `SUBSCRIPTION_BUFFER_EVENTS` behind has its stream closed. graphql-sse sends a keep-alive
 * comment every 12 seconds.
 */
export function sseHandler(options: SseOptions): RouteHandlerMethod {
  const { server, metrics } = options;
  const handler = createHandler<Record<string, unknown>>({
    onSubscribe(req, params) {
      const request = req.raw;
      const reply = req.context.reply;
      const principal = options.principalOf(request);
      const key = server.connect(principal, request.ip);
      if (!key) return errorResponse(429, [server.tooManyConnections()]);
      const args = server.prepare(params, principal, () => reply.raw.destroy());
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
    subscribe: (args) => server.subscribe(args as unknown as Parameters<SubscriptionServer["subscribe"]>[0]),
  });
  return async function handleStream(request, reply) {
    await handler(request, reply);
  };
}

// Private: a refusal in graphql-sse's response form, GraphQL-shaped.
function errorResponse(status: number, errors: readonly GraphQLError[]) {
  return [
    JSON.stringify({ errors: errors.map((e) => e.toJSON()) }),
    { status, statusText: STATUS_TEXT[status] ?? "Bad Request", headers: { "content-type": "application/json; charset=utf-8" } },
  ] as const;
}

const STATUS_TEXT: Readonly<Record<number, string>> = { 400: "Bad Request", 404: "Not Found", 429: "Too Many Requests" };
