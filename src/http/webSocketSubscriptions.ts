import type { WebsocketHandler } from "@fastify/websocket";
import type { FastifyInstance } from "fastify";
import { GraphQLError } from "graphql";
import { CloseCode, MessageType, type Context } from "graphql-ws";
import { makeHandler, type Extra } from "graphql-ws/use/@fastify/websocket";
import { ErrorCode } from "../domain/errors.js";
import { hasExpired, type Principal } from "../domain/principal.js";
import type { GatewayMetrics } from "../observability/metrics.js";
import { AuthError, isUpgrade, isWebSocketUpgrade, type Authenticator } from "./authentication.js";
import { refuseRequest } from "./refuseRequest.js";
import type { SubscriptionOrigin } from "./subscriptionLog.js";
import { CUT_OFF_GRACE_MS, type SubscriptionServer } from "./subscriptionServer.js";

/** WebSocket close code for a subscriber cut off for falling behind: 1013, "Try Again Later". */
export const CLOSE_TOO_SLOW = 1013;

/**
 * WebSocket close code for a connection refused for a reason that passes, not for its token: the
 * keys that verify tokens cannot be loaded (`AUTH_JWKS_URL` unreachable; 503 on POST /graphql).
 * 1013, "Try Again Later", which graphql-ws 6's client retries with back-off: it never retries
 * 4401 (nor 4400, 4409, 4500 …) nor a 1xxx code other than 1000, 1001, 1005, 1006 and 1012–1014
 * (so not 1011, "Internal Error"): `isFatalInternalCloseCode` and `shouldRetryConnectOrThrow`.
 */
export const CLOSE_TRY_AGAIN_LATER = 1013;

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
  /**
   * Every id of this connection whose subscription is pending (accepted, its stream not yet made) or
   * active, with its stream once made; from `onSubscribe` until graphql-ws reports it complete
   * (`onComplete`) or the socket closes. Its size is what `SUBSCRIPTIONS_PER_CONNECTION` bounds and
   * what `graphql_subscriptions{transport="ws"}` counts.
   */
  readonly subscriptions: Map<string, Subscription>;
}

interface Subscription {
  /** The subscription's results (`SubscriptionServer.subscribe`), once made. */
  results?: Results | undefined;
  /** The client sent Complete for it while it was pending: its results end as soon as they are made. */
  completed?: boolean;
}

/**
 * GraphQL over WebSocket (`graphql-ws`, subprotocol `graphql-transport-ws`) for `GET /graphql`
 * upgrades, on @fastify/websocket.
 *
 * - Authentication: the bearer token from `connection_init`'s payload (`{ "authorization": "Bearer
 *   …" }`), else the upgrade request's `Authorization` header. Missing or invalid: the socket closes
 *   with 4401; a token without `contacts:read`: 4403; the keys that verify it cannot be loaded (the
 *   identity provider is down): 1013, which clients retry. Nothing is delivered before.
 * - Bounds: `SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL` open connections per caller (token subject, or
 *   address without one; 4403 past it), `SUBSCRIPTIONS_PER_CONNECTION` subscriptions per socket
 *   (SUBSCRIPTION_LIMIT_EXCEEDED for the one too many), and a subscriber that falls
 *   `SUBSCRIPTION_BUFFER_EVENTS` behind is cut off: SUBSCRIBER_TOO_SLOW as its last result, then the
 *   socket closed with 1013 and the same message as reason. The socket is closed as the hub cuts the
 *   subscriber off (a stalled client would never drain it), before graphql-ws pulls that result, so
 *   graphql-ws's send of it would find the socket closing and drop it: `onOverflow` writes it
 *   itself, ahead of the close frame. A client still reading gets both; a stalled one neither (the
 *   close frame waits behind what it has not read), and its connection is terminated a second later
 *   (keep-alive pings only open sockets, and ws's own close timeout is 30 s).
 * - Keep-alive: a WebSocket ping every `keepAliveMs`; a peer that stops answering is dropped.
 * - Every refusal writes one log line, under the upgrade request's id (`SubscriptionLog`); a refused
 *   subscription's codes are counted, a refused connection's are not (no GraphQL error was sent).
 *   The protocol's own refusals (a malformed message, a subscribe before `connection_ack`, a
 *   duplicate id) close the socket and write no line: graphql-ws's, without asking these hooks, and
 *   the one duplicate graphql-ws misses (below), here.
 *
 * The connection's subscriptions are tracked here, not left to graphql-ws 6.4.2, whose table loses
 * them: its Complete deletes an id's slot while the subscription is still being set up, a Subscribe
 * on that id then passes its duplicate check, and the first subscription, once made, overwrites the
 * slot of the second; from then on neither Complete nor the socket's close reaches it, and it
 * executes every event for a closed socket, past both bounds, forever. (Its `finally` likewise
 * deletes the slot of a newer subscription on a reused id.) So:
 * - an id is taken from `onSubscribe` until graphql-ws reports its subscription complete
 *   (`onComplete`, after its results ended), not merely until the client's Complete: a Subscribe on
 *   a taken id, even right after that Complete, closes the socket with 4409 (`Subscriber for <id>
 *   already exists`), as graphql-ws does for the duplicates it sees;
 * - every stream the connection made is kept, so a Complete from the client ends it even when
 *   graphql-ws lost it, and closing the socket ends them all, made or still being made: no
 *   subscription outlives its socket, and the hub and the gauge return to 0.
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
          socket.close(closeCodeOf(error), closeReason(error.message));
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
        state.set(ctx, { principal, key, subscriptions: new Map() });
        socket.on("message", (data) => clientCompleted(state.get(ctx), data));
        return true;
      },
      onSubscribe(ctx, id, payload) {
        const origin: SubscriptionOrigin = { transport: "ws", requestId: ctx.extra.request.id, started: process.hrtime.bigint() };
        const connection = state.get(ctx);
        if (!connection) return server.refuse(origin, payload, [new GraphQLError("Not connected.", { extensions: { code: ErrorCode.UNAUTHENTICATED } })]);
        if (connection.subscriptions.has(id)) {
          // A protocol error, as graphql-ws's own duplicates: nothing logged, nothing sent (the socket is closing).
          const message = `Subscriber for ${id} already exists`;
          ctx.extra.socket.close(CloseCode.SubscriberAlreadyExists, message);
          return [new GraphQLError(message)];
        }
        if (hasExpired(connection.principal)) {
          ctx.extra.socket.close(CloseCode.Unauthorized, "The bearer token has expired.");
          return server.refuse(origin, payload, [new GraphQLError("The bearer token has expired.", { extensions: { code: ErrorCode.UNAUTHENTICATED } })]);
        }
        if (connection.subscriptions.size >= server.maxSubscriptionsPerConnection) {
          return server.refuse(origin, payload, [
            new GraphQLError(`At most ${server.maxSubscriptionsPerConnection} subscriptions per connection (SUBSCRIPTIONS_PER_CONNECTION).`, {
              extensions: { code: ErrorCode.SUBSCRIPTION_LIMIT_EXCEEDED, limit: "SUBSCRIPTIONS_PER_CONNECTION" },
            }),
          ]);
        }
        const onOverflow = (error: Error) => {
          const socket = ctx.extra.socket;
          // Its last result, as graphql-ws would send it, ahead of the close frame (see above).
          if (socket.readyState === socket.OPEN && error instanceof GraphQLError) {
            socket.send(JSON.stringify({ id, type: MessageType.Next, payload: { errors: [error.toJSON()] } }));
          }
          socket.close(CLOSE_TOO_SLOW, closeReason(error.message));
          // A stalled client never reads the close frame, and neither keep-alive (it pings open
          // sockets only) nor ws (30 s) would drop it soon: cut it off after a grace period.
          setTimeout(() => socket.readyState !== socket.CLOSED && socket.terminate(), CUT_OFF_GRACE_MS).unref();
        };
        const args = server.prepare(payload, { ...origin, principal: connection.principal, onOverflow });
        if (Array.isArray(args)) return args;
        connection.subscriptions.set(id, {});
        metrics.observeSubscriptions("ws", 1);
        return args;
      },
      subscribe: (args) => server.subscribe(args as Parameters<SubscriptionServer["subscribe"]>[0]),
      onOperation(ctx, id, _payload, _args, result) {
        const results = resultsOf(result);
        if (!results) return;
        const subscription = state.get(ctx)?.subscriptions.get(id);
        // Made after the socket closed, or completed by the client while it was being made: end it now.
        if (!subscription || subscription.completed) end(results);
        else subscription.results = results;
      },
      onComplete(ctx, id) {
        const connection = state.get(ctx);
        if (connection?.subscriptions.delete(id)) metrics.observeSubscriptions("ws", -1);
      },
      onClose(ctx) {
        const connection = state.get(ctx);
        state.delete(ctx);
        if (!connection) return;
        server.disconnect(connection.key);
        // graphql-ws ends the streams it still knows of; these are all of them (ending one twice is harmless).
        for (const subscription of connection.subscriptions.values()) {
          if (subscription.results) end(subscription.results);
          metrics.observeSubscriptions("ws", -1);
        }
        connection.subscriptions.clear();
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
    if (isUpgrade(request)) request.raw.socket.destroy();
    done();
  });
}

/**
 * Refuses WebSocket upgrades to `path` from a browser page of another origin (cross-site WebSocket
 * hijacking: browsers send cookies and connect across origins, CORS does not apply to WebSockets).
 * Allowed: no `Origin` (not a browser), the gateway's own origin (GraphiQL), and `CORS_ORIGINS`,
 * where `*` allows every origin, as it does for CORS.
 */
export function refuseCrossSiteUpgrades(app: FastifyInstance, corsOrigins: readonly string[], path = "/graphql"): void {
  if (corsOrigins.includes("*")) return;
  const allowed = new Set(corsOrigins);
  // Callback-style: every request of its scope passes this hook, and all but upgrades at once.
  app.addHook("onRequest", (request, reply, done) => {
    if (request.routeOptions.url !== path || !isWebSocketUpgrade(request)) return done();
    const origin = request.headers.origin;
    if (origin === undefined || allowed.has(origin) || sameOrigin(origin, request.headers.host)) return done();
    refuseRequest(reply, 403, "WebSocket upgrades from this page's origin are not allowed (CORS_ORIGINS).", ErrorCode.FORBIDDEN);
  });
}

// Private: a client's Complete ends the stream of its id even when graphql-ws lost it (a pending one
// ends once made). The protocol's checks stay graphql-ws's: anything else is left to it.
function clientCompleted(connection: ConnectionState | undefined, data: unknown): void {
  if (!connection || connection.subscriptions.size === 0) return;
  const text = String(data);
  if (!text.includes(MessageType.Complete)) return;
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return;
  }
  if (typeof message !== "object" || message === null) return;
  const { type, id } = message as { type?: unknown; id?: unknown };
  if (type !== MessageType.Complete || typeof id !== "string") return;
  const subscription = connection.subscriptions.get(id);
  if (!subscription) return;
  if (subscription.results) end(subscription.results);
  else subscription.completed = true;
}

// Private: ends a subscription's results. Idempotent (`subscribePerEvent`); its end is logged by
// the subscription itself, and graphql-ws may be ending it too: a failure here has no one to reach.
function end(results: Results): void {
  void Promise.resolve(results.return?.()).catch(() => {});
}

/** A subscription's stream of results, as far as ending it goes. */
interface Results {
  return?: (() => Promise<unknown>) | undefined;
}

// Private: the stream `subscribe` made, or `undefined` for a single result (a refusal).
function resultsOf(result: unknown): Results | undefined {
  return typeof (result as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === "function" ? (result as Results) : undefined;
}

// Private: the close code of a connection refused by authentication: 4403 without the scope, 4401
// for the token, 1013 when the token could not be checked at all (the client should come back).
function closeCodeOf(error: AuthError): number {
  if (error.status === 503) return CLOSE_TRY_AGAIN_LATER;
  return error.status === 403 ? CloseCode.Forbidden : CloseCode.Unauthorized;
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
