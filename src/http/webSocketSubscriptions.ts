import type { WebsocketHandler } from "@fastify/websocket";
import type { FastifyInstance } from "fastify";
import { GraphQLError } from "graphql";
import { CloseCode, type Context } from "graphql-ws";
import { makeHandler, type Extra } from "graphql-ws/use/@fastify/websocket";
import { ErrorCode } from "../domain/errors.js";
import { hasExpired, type Principal } from "../domain/principal.js";
import type { GatewayMetrics } from "../observability/metrics.js";
import { AuthError, isWebSocketUpgrade, type Authenticator } from "./authentication.js";
import type { SubscriptionOrigin } from "./subscriptionLog.js";
import type { SubscriptionServer } from "./subscriptionServer.js";

/** WebSocket close code for a subscriber cut off for falling behind: 1013, "Try Again Later". */
export const CLOSE_TOO_SLOW = 1013;

export interface WebSocketOptions {
  server: SubscriptionServer;
  /** Verifies bearer tokens (`AUTH_MODE=jwt`); `undefined` serves everyone as `FULL_ACCESS`. */
  authenticator: Authenticator | undefined;
  anonymous: Principal;
  metrics: GatewayMetrics;
  /** Milliseconds between keep-alive pings. */
  keepAliveMs: number;
}

interface ConnectionState {
  readonly principal: Principal;
  readonly key: string;
  subscriptions: number;
}

/**
 * GraphQL over WebSocket (`graphql-ws`, subprotocol `graphql-transport-ws`) for `GET /graphql`
 * upgrades, on @fastify/websocket.
 *
 * - Authentication: the bearer token from `connection_init`'s payload (`{ "authorization": "Bearer
 *   …" }`), else the upgrade request's `Authorization` header. Missing or invalid: the socket closes
 *   with 4401; a token without `contacts:read`: 4403. Nothing is delivered before.
 * - Bounds: `SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL` open connections per caller (token subject, or
 *   address without one; 4403 past it), `SUBSCRIPTIONS_PER_CONNECTION` subscriptions per socket
 *   (SUBSCRIPTION_LIMIT_EXCEEDED for the one too many), and a subscriber that falls
 *   `SUBSCRIPTION_BUFFER_EVENTS` behind is disconnected with close code 1013 and the reason.
 * - Keep-alive: a WebSocket ping every `keepAliveMs`; a peer that stops answering is dropped.
 * - Every refusal writes one log line, under the upgrade request's id (`SubscriptionLog`); a refused
 *   subscription's codes are counted, a refused connection's are not (no GraphQL error was sent).
 *   The protocol's own refusals (a malformed message, a subscribe before `connection_ack`, a
 *   duplicate id) are graphql-ws's, which closes the socket without asking these hooks.
 */
export function webSocketHandler(options: WebSocketOptions): WebsocketHandler {
  const { server, metrics } = options;
  const state = new WeakMap<Context, ConnectionState>();
  return makeHandler<Record<string, unknown> | undefined>(
    {
      isProd: true,
      async onConnect(ctx) {
        const socket = ctx.extra.socket;
        const origin: SubscriptionOrigin = { transport: "ws", requestId: ctx.extra.request.id, started: process.hrtime.bigint() };
        let principal: Principal;
        try {
          principal = options.authenticator ? await options.authenticator.authenticate(tokenOf(ctx)) : options.anonymous;
        } catch (error) {
          if (!(error instanceof AuthError)) throw error;
          server.refuseConnection(origin, error.code);
          socket.close(error.status === 403 ? CloseCode.Forbidden : CloseCode.Unauthorized, closeReason(error.message));
          return false;
        }
        // The socket may have closed while the token was verified; `onClose` has run then, and a
        // connection counted now would never be uncounted.
        if (socket.readyState !== socket.OPEN) return false;
        const key = server.connect(principal, ctx.extra.request.ip);
        if (!key) {
          const refusal = server.tooManyConnections();
          server.refuseConnection(origin, String(refusal.extensions.code));
          socket.close(CloseCode.Forbidden, closeReason(refusal.message));
          return false;
        }
        state.set(ctx, { principal, key, subscriptions: 0 });
        return true;
      },
      onSubscribe(ctx, _id, payload) {
        const origin: SubscriptionOrigin = { transport: "ws", requestId: ctx.extra.request.id, started: process.hrtime.bigint() };
        const connection = state.get(ctx);
        if (!connection) return server.refuse(origin, payload, [new GraphQLError("Not connected.", { extensions: { code: ErrorCode.UNAUTHENTICATED } })]);
        if (hasExpired(connection.principal)) {
          ctx.extra.socket.close(CloseCode.Unauthorized, "The bearer token has expired.");
          return server.refuse(origin, payload, [new GraphQLError("The bearer token has expired.", { extensions: { code: ErrorCode.UNAUTHENTICATED } })]);
        }
        if (connection.subscriptions >= server.maxSubscriptionsPerConnection) {
          return server.refuse(origin, payload, [
            new GraphQLError(`At most ${server.maxSubscriptionsPerConnection} subscriptions per connection (SUBSCRIPTIONS_PER_CONNECTION).`, {
              extensions: { code: ErrorCode.SUBSCRIPTION_LIMIT_EXCEEDED, limit: "SUBSCRIPTIONS_PER_CONNECTION" },
            }),
          ]);
        }
        const onOverflow = (error: Error) => ctx.extra.socket.close(CLOSE_TOO_SLOW, closeReason(error.message));
        const args = server.prepare(payload, { ...origin, principal: connection.principal, onOverflow });
        if (Array.isArray(args)) return args;
        connection.subscriptions++;
        metrics.observeSubscriptions("ws", 1);
        return args;
      },
      subscribe: (args) => server.subscribe(args as Parameters<SubscriptionServer["subscribe"]>[0]),
      onComplete(ctx) {
        const connection = state.get(ctx);
        if (!connection) return;
        connection.subscriptions--;
        metrics.observeSubscriptions("ws", -1);
      },
      onClose(ctx) {
        const connection = state.get(ctx);
        if (connection) server.disconnect(connection.key);
        state.delete(ctx);
      },
    },
    options.keepAliveMs,
  );
}

/**
 * Closes the connection of a WebSocket upgrade request once Fastify has answered it over HTTP
 * instead of handing it to a WebSocket handler (an upgrade to any other route, or a refused one).
 * @fastify/websocket sends every upgrade through Fastify's routing but cleans up only in its own
 * scope (`GET /graphql`), so such a socket would stay open, half-closed, and hold shutdown. Register
 * on the root, before any route. Callback-style: every request passes it.
 */
export function closeAnsweredUpgrades(app: FastifyInstance): void {
  app.addHook("onResponse", (request, _reply, done) => {
    if (isWebSocketUpgrade(request)) request.raw.socket.destroy();
    done();
  });
}

/**
 * Refuses WebSocket upgrades to `path` from a browser page of another origin (cross-site WebSocket
 * hijacking: browsers send cookies and connect across origins, CORS does not apply to WebSockets).
 * Allowed: no `Origin` (not a browser), the gateway's own origin (GraphiQL), and `CORS_ORIGINS`.
 */
export function refuseCrossSiteUpgrades(app: FastifyInstance, corsOrigins: readonly string[], path = "/graphql"): void {
  const allowed = new Set(corsOrigins);
  // Callback-style: every request of its scope passes this hook, and all but upgrades at once.
  app.addHook("onRequest", (request, reply, done) => {
    if (request.routeOptions.url !== path || !isWebSocketUpgrade(request)) return done();
    const origin = request.headers.origin;
    if (origin === undefined || allowed.has(origin) || sameOrigin(origin, request.headers.host)) return done();
    reply
      .code(403)
      .type("application/json; charset=utf-8")
      .send({ errors: [{ message: `WebSocket upgrades from origin ${origin} are not allowed (CORS_ORIGINS).`, extensions: { code: ErrorCode.FORBIDDEN } }] });
  });
}

// Private: the bearer token a client sent in `connection_init`, else on the upgrade request.
function tokenOf(ctx: Context<Record<string, unknown> | undefined, Extra>): string | undefined {
  const params = ctx.connectionParams ?? {};
  const sent = params.authorization ?? params.Authorization;
  return typeof sent === "string" ? sent : ctx.extra.request.headers.authorization;
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}

/** Close reasons are at most 123 bytes (RFC 6455). */
function closeReason(message: string): string {
  return Buffer.byteLength(message) <= 123 ? message : `${Buffer.from(message).subarray(0, 120).toString("utf8").replace(/\uFFFD$/, "")}…`;
}
