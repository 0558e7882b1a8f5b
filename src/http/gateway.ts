import { randomUUID } from "node:crypto";
import { ApolloServer, type ApolloServerOptionsWithGateway, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import fastifyApollo, { fastifyApolloDrainPlugin, fastifyApolloHandler } from "@as-integrations/fastify";
import type { SQSClient } from "@aws-sdk/client-sqs";
import fastifyCors from "@fastify/cors";
import fastifyWebsocket from "@fastify/websocket";
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { Config } from "../config/config.js";
import { regionsOf } from "../domain/contactRef.js";
import { FULL_ACCESS } from "../domain/principal.js";
import { createLiveContactEvents, type LiveContactEvents } from "../events/liveContactEvents.js";
import { createContext, type ContextSources, type GatewayContext } from "../graphql/context.js";
import { InstanceAccounts } from "../graphql/instanceAccounts.js";
import { maskUnexpectedErrors } from "../graphql/formatError.js";
import { isPatchedApolloResponse, jitExecutor, type JitExecutor } from "../graphql/jitExecutor.js";
import { operationLog } from "../graphql/operationLog.js";
import { responseFreshness, type EntityKind } from "../graphql/responseEntities.js";
import { tracingPlugin } from "../graphql/tracingPlugin.js";
import { createQueryLimits } from "../graphql/queryLimits.js";
import { redactionPlugin } from "../graphql/redaction.js";
import { buildSchema } from "../graphql/schema.js";
import type { GraphQLSchema } from "graphql";
import { createMetrics, type GatewayMetrics } from "../observability/metrics.js";
import type { Tracing } from "../observability/tracing.js";
import { createContactSource, type ContactSource } from "../upstream/contactSource.js";
import { meteredUpstream } from "../upstream/meteredUpstream.js";
import { createRelatedSource, type RelatedSource } from "../upstream/relatedSource.js";
import type { Upstream } from "../upstream/upstream.js";
import { createAuthenticator, registerAuth, requestPrincipal } from "./authentication.js";
import { requestBypassesCache } from "./cacheControl.js";
import { httpErrorHandler } from "./errorHandler.js";
import { refuseRequest } from "./refuseRequest.js";
import { compressGraphiQL, exampleOperation, graphiqlLandingPage, type ExampleIds } from "./graphiql.js";
import { registerHealthRoutes, type ReadinessCheck } from "./health.js";
import { registerMetricsRoute } from "./metricsRoute.js";
import { createNoCacheRereads } from "./noCacheRereads.js";
import { noStore } from "./noStore.js";
import { subscriptionsElsewhere } from "./subscriptionsElsewhere.js";
import { createResponseCache, type ResponseCache } from "./responseCache.js";
import { createResponseInvalidationBus } from "./responseInvalidationBus.js";
import { closeConnectionsAfterLastResponse } from "./shutdown.js";
import { sseHandler, SseStreams } from "./sseSubscriptions.js";
import { SubscriptionServer } from "./subscriptionServer.js";
import { registerTrustedDocuments, TrustedDocuments } from "./trustedDocuments.js";
import { closeAnsweredUpgrades, refuseCrossSiteUpgrades, webSocketHandler } from "./webSocketSubscriptions.js";

export interface GatewayOptions {
  config: Config;
  /** DescribeContact and friends; the real SDK client in production and tests. */
  upstream: Upstream;
  logger: Logger;
  /** Extra Apollo plugins (landing page, metrics, limits). */
  plugins?: ApolloServerPlugin<GatewayContext>[];
  /** Where every part records its metrics (`GET /metrics`). Default: a fresh registry. */
  metrics?: GatewayMetrics;
  /** What `GET /readyz` checks besides the configuration (upstream reachable, Redis up). Default none. */
  readinessChecks?: Record<string, ReadinessCheck>;
  /** The contact GraphiQL's example opens with (`main.ts` passes the emulator's demo chain). Default: placeholders. */
  exampleIds?: ExampleIds;
  /**
   * Live contact events: the SQS queue an EventBridge rule feeds (`CONTACT_EVENTS_QUEUE_URL`) and the
   * real SDK client that reads it. Unset: no events, and `Subscription.contactEvents` answers
   * EVENTS_NOT_CONFIGURED.
   */
  contactEvents?: { sqs: SQSClient; queueUrl: string } | undefined;
  /** Traces (`startTracing`, from the `OTEL_*` variables): a span per operation and per upstream read. Unset: no tracing work at all. */
  tracing?: Tracing | undefined;
}

export interface Gateway {
  readonly app: FastifyInstance;
  readonly apollo: ApolloServer<GatewayContext>;
  /** Where contacts come from: the cache, the limiter and the Redis link (exposed for tests and metrics). */
  readonly contactSource: ContactSource;
  /** The quota limiters and queue/user cache of the other Connect APIs. */
  readonly relatedSource: RelatedSource;
  /** The event consumer, relay and subscribers, when contact events are configured. */
  readonly events: LiveContactEvents | undefined;
  /** The operation response cache, unless `RESPONSE_CACHE=false` or `CACHE_TTL_SECONDS=0`. */
  readonly responseCache: ResponseCache | undefined;
  /** The graphql-jit executor when `GRAPHQL_JIT` is on (exposed for tests and benchmarks). */
  readonly jit: JitExecutor | undefined;
  /** The graphql-jit executor of subscription events when `GRAPHQL_JIT` is on (exposed for tests). */
  readonly subscriptionJit: JitExecutor | undefined;
  /** Starts listening; resolves the gateway's base URL (`http://host:port`). */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting, lets in-flight operations finish, closes upstream connections. */
  close(): Promise<void>;
}

/**
 * Builds the gateway: Apollo Server on Fastify, GraphQL at `/graphql`. Fastify because it is the
 * fastest HTTP layer Apollo has an official integration for, and it gives body limits (413),
 * malformed-JSON handling (400) and graceful close without extra code (docs/decisions/0001-fastify.md).
 */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config, logger } = options;
  // Read and verified first: a bad manifest stops start-up before anything is opened.
  const trustedDocuments = config.TRUSTED_DOCUMENTS_FILE ? TrustedDocuments.fromFile(config.TRUSTED_DOCUMENTS_FILE) : undefined;
  const metrics = options.metrics ?? createMetrics();
  // Every upstream call is counted, in the metrics and in its operation's log line.
  const upstream = meteredUpstream(options.upstream, metrics);
  const source = createContactSource({ config, upstream, logger, metrics });
  metrics.watchCache(() => source.cache.usage());
  // Queues, users, attributes, references and search: each API its own quota, sharing the contact
  // source's concurrency slots and Redis.
  const related = createRelatedSource({ config, upstream, pool: source.pool, redis: source.redis, metrics });
  // Where refs may point: AWS_REGION for bare ids, CONNECT_REGIONS for ARNs (and for events).
  const regions = regionsOf(config.AWS_REGION, config.CONNECT_REGIONS);
  // Repeated queries answered from their stored response; contact events and no-cache re-reads
  // drop what they change (on every replica).
  const cacheOf = (kind: EntityKind) => (kind === "contact" ? source.cache : kind === "queue" ? related.queues : related.users);
  const responseCache = createResponseCache({
    config,
    logger,
    metrics,
    tracing: options.tracing,
    // A response lives no longer than the cached copies it was made from.
    cachedUntil: (kind, key, value) => cacheOf(kind).expiresAt(key, value),
  });
  if (responseCache) metrics.watchResponseCache(() => responseCache.usage());
  // A no-cache re-read reaches every replica whenever Redis is configured, response cache or not:
  // each drops its in-process copies of what was re-read (and its responses naming them).
  const rereads = createNoCacheRereads({
    bus: source.redis && createResponseInvalidationBus(source.redis, config.REDIS_KEY_PREFIX, randomUUID(), logger),
    dropResponses: responseCache && ((entities) => responseCache.invalidate(entities)),
    evictLocal: (kind, key) => cacheOf(kind).deleteLocal(key),
    freshness: responseFreshness(config),
  });
  // Live contact events: this replica consumes its share of the queue and serves every event to its
  // subscribers; Redis carries each event (and its cache refresh) to the other replicas.
  const events = options.contactEvents
    ? createLiveContactEvents({
        ...options.contactEvents,
        store: {
          refresh: (ref) => source.refresh(ref),
          read: (ref) => source.fetchContact(ref),
          evictLocal: (ref) => source.evictLocal(ref),
        },
        redis: source.redis,
        keyPrefix: config.REDIS_KEY_PREFIX,
        bufferEvents: config.SUBSCRIPTION_BUFFER_EVENTS,
        logger,
        metrics,
        onContactChanged: responseCache && ((ref) => responseCache.contactChanged(ref)),
        regions: regions.callable,
      })
    : undefined;

  const app = Fastify({
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Request ids come from x-request-id when the caller sends a sane one, so logs correlate across
    // hops; anything else (too long, odd characters) is replaced rather than written to every log line.
    requestIdHeader: false,
    genReqId: (request) => {
      const sent = request.headers["x-request-id"];
      return typeof sent === "string" && REQUEST_ID.test(sent) ? sent : randomUUID();
    },
    logger: false,
    forceCloseConnections: "idle",
  });
  // Before any route or plugin, so every HTTP-level refusal is GraphQL-shaped (see httpErrorHandler).
  app.setErrorHandler(httpErrorHandler(config, logger));
  // Hooks before routes and scopes, so they reach every one. Callback-style, as every hook on the
  // path of each request: an async hook costs a promise and a microtask per request even when it
  // has nothing to wait for.
  app.addHook("onSend", (request, reply, _payload, done) => {
    reply.header("x-request-id", request.id);
    done();
  });
  closeAnsweredUpgrades(app);
  if (config.CORS_ORIGINS.length > 0) {
    await app.register(fastifyCors, { origin: config.CORS_ORIGINS, methods: ["GET", "POST"], maxAge: 600 });
  }
  const authenticator = config.AUTH_MODE === "jwt" ? createAuthenticator(config) : undefined;
  if (authenticator) registerAuth(app, authenticator, logger, ["/graphql", "/graphql/stream"]);
  if (trustedDocuments) registerTrustedDocuments(app, trustedDocuments, logger, metrics);
  responseCache?.register(app);
  const limits = createQueryLimits(config);
  const connections = closeConnectionsAfterLastResponse(app);
  const redis = source.redis;
  registerHealthRoutes(app, {
    checks: options.readinessChecks ?? {},
    info: {
      ...(redis && { redis: () => (redis.available ? "ok" : "unavailable: cache and quota limiter run on local state") }),
      ...(events && { events: () => `${events.state}: ${events.hub.size} subscriptions on this replica` }),
    },
  });
  registerMetricsRoute(app, metrics);
  const plugins = [
    ...(config.GRAPHIQL ? [graphiqlLandingPage({ example: exampleOperation(config, options.exampleIds), showHeaders: config.AUTH_MODE === "jwt" })] : []),
    ...(options.plugins ?? []),
  ];

  const schema = buildSchema({ federation: config.FEDERATION });
  // GRAPHQL_JIT: Apollo runs queries through graphql-jit, which Apollo Server 5 only allows as a
  // gateway's executor; everything before execution (parsing, validation, limits, plugins) is the same.
  const jit = config.GRAPHQL_JIT ? jitExecutor({ schema, logger }) : undefined;
  const apollo = new ApolloServer<GatewayContext>({
    ...(jit ? { gateway: staticGateway(schema, jit, logger) } : { schema }),
    introspection: config.GRAPHQL_INTROSPECTION,
    csrfPrevention: true,
    // With trusted documents, automatic persisted queries would let clients register any document.
    ...(trustedDocuments && { persistedQueries: false as const }),
    allowBatchedHttpRequests: config.HTTP_BATCHING,
    includeStacktraceInErrorResponses: false,
    // The process owns SIGTERM/SIGINT (main.ts): Apollo's own handlers would race ours and stall
    // the drain.
    stopOnTerminationSignals: false,
    logger,
    cache: source.apolloCache,
    formatError: maskUnexpectedErrors(logger),
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    plugins: [
      fastifyApolloDrainPlugin(app),
      // Apollo's cache-control plugin hooks every field resolved to collect @cacheControl hints; the
      // schema has none, so all it did was send `no-store`, which noStore does without the per-field
      // cost (about 12% of a cached query's CPU, see bench/README.md).
      ApolloServerPluginCacheControlDisabled(),
      noStore,
      subscriptionsElsewhere,
      ...limits.plugins,
      redactionPlugin(),
      operationLog({ logger, metrics, responseCache: responseCache !== undefined }),
      ...(options.tracing ? [tracingPlugin(options.tracing)] : []),
      ...(responseCache ? [responseCache.plugin] : []),
      ...(rereads ? [rereads.plugin] : []),
      ...plugins,
      ...(plugins.some((p) => "renderLandingPage" in p) ? [] : [ApolloServerPluginLandingPageDisabled()]),
    ],
  });
  await apollo.start();

  const contextSources: ContextSources = {
    fetchContact: source.fetchContact,
    cachedContact: source.cachedContact,
    related: related.fetch,
    regions,
    concurrency: config.CONNECT_MAX_CONCURRENCY,
    maxContactIds: config.MAX_CONTACT_IDS,
    maxContactHops: config.MAX_CONTACT_HOPS,
    maxUpstreamReads: config.MAX_UPSTREAM_READS,
    onBatch: metrics.observeBatch,
    accounts: new InstanceAccounts(),
  };

  const context = async (request: FastifyRequest) => {
    const noCache = requestBypassesCache(request.headers);
    return createContext(contextSources, {
      requestId: request.id,
      auth: requestPrincipal(request, config.AUTH_MODE),
      noCache,
      // A no-cache request records what it re-reads, for `rereads` to tell everyone.
      entities: responseCache?.entitiesOf(request) ?? (noCache && rereads ? rereads.recorder() : undefined),
    });
  };
  // POST here; GET (queries, GraphiQL, and WebSocket upgrades for subscriptions) on the route below.
  await app.register(fastifyApollo(apollo), { path: "/graphql", method: ["POST", "OPTIONS"], context });

  const streams = new SseStreams();
  // Each subscription's events through graphql-jit too: a compiled operation per document text,
  // kept as long as the subscription server's document cache or an open subscription holds it.
  const eventJit = config.GRAPHQL_JIT ? jitExecutor({ schema, logger, subscriptionEvents: true, weakDocuments: true }) : undefined;
  const subscriptions = new SubscriptionServer({
    schema,
    validationRules: limits.validationRules,
    parseOptions: limits.parseOptions,
    maskSuggestions: limits.maskSuggestions,
    sources: contextSources,
    hub: events?.hub,
    metrics,
    logger,
    maxSubscriptionsPerConnection: config.SUBSCRIPTIONS_PER_CONNECTION,
    maxConnectionsPerPrincipal: config.SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL,
    trustedDocuments,
    executeEvent: eventJit && ((args) => eventJit.execute({ document: args.document, operationName: args.operationName, variableValues: args.variableValues ?? undefined, contextValue: args.contextValue as GatewayContext, rootValue: args.rootValue })),
  });
  // GET /graphql (GraphiQL, queries sent as GET, and WebSocket upgrades for subscriptions) in a
  // scope of its own: the WebSocket plugin's hooks and handler wrapper, the cross-site upgrade check
  // and the page's compression run for this route alone, and POST, the path of nearly every
  // operation, pays none of them.
  await app.register(async (scope) => {
    await scope.register(fastifyWebsocket, {
      options: { maxPayload: config.BODY_LIMIT_BYTES },
      // On close, every subscriber hears 1001 (going away) after its subscriptions have completed; a
      // peer that does not answer the close within a second (a stalled client) is cut off, so it
      // cannot hold shutdown for ws's 30-second close timeout.
      preClose(done) {
        for (const client of this.websocketServer.clients) {
          client.close(1001, "server shutting down");
          setTimeout(() => client.terminate(), 1000).unref();
        }
        done();
      },
    });
    refuseCrossSiteUpgrades(scope, config.CORS_ORIGINS);
    if (config.GRAPHIQL) compressGraphiQL(scope);
    scope.route({
      method: "GET",
      url: "/graphql",
      handler: fastifyApolloHandler(apollo, { context }),
      wsHandler: webSocketHandler({ server: subscriptions, authenticator, anonymous: FULL_ACCESS, metrics, keepAliveMs: config.SUBSCRIPTION_KEEPALIVE_MS }),
    });
  });
  // The methods /graphql does not serve get 405 with `Allow`, coded like every other refusal, not
  // Fastify's codeless 404 (GraphQL over HTTP: a method the server does not support is 405).
  app.route({
    method: ["PUT", "DELETE", "PATCH"],
    url: "/graphql",
    handler: (request, reply) =>
      refuseRequest(reply.header("allow", "GET, POST"), 405, `${request.method} is not served here: send operations with POST (queries also with GET), subscriptions over WebSocket or to /graphql/stream.`),
  });
  // PUT and DELETE (graphql-sse's single-connection mode, not served) and PATCH only to be refused with a code.
  app.route({
    method: ["GET", "POST", "PUT", "DELETE", "PATCH"],
    url: "/graphql/stream",
    handler: sseHandler({ server: subscriptions, principalOf: (request) => requestPrincipal(request, config.AUTH_MODE), metrics, streams }),
  });

  return {
    app,
    apollo,
    contactSource: source,
    relatedSource: related,
    events,
    responseCache,
    jit,
    subscriptionJit: eventJit,
    async listen(port = config.PORT, host = config.HOST) {
      await app.listen({ port, host });
      await rereads?.start();
      await events?.start();
      const address = app.server.address();
      const actualPort = typeof address === "object" && address ? address.port : port;
      return `http://${host === "0.0.0.0" || host === "::" ? "localhost" : host}:${actualPort}`;
    },
    async close() {
      // Events first: stop taking from the queue, finish what was taken, end every subscription.
      await events?.stop();
      // Ended subscriptions complete their SSE streams: those done within a second leave idle
      // connections, which closing the server closes. After STREAM_DRAIN_MS, whatever still holds
      // the server open but an operation in flight is cut: a stream whose reader stalled, a
      // connection that went idle after closing began (a stream that finished late), and one whose
      // request never finished arriving. An operation in flight has until SHUTDOWN_GRACE_MS
      // (main.ts), after which the process exits 1, as documented, rather than 0 with it dropped.
      await streams.idle(1000);
      const cut = setTimeout(() => {
        streams.cut();
        connections.cutWithoutResponse();
      }, STREAM_DRAIN_MS);
      cut.unref();
      await app.close(); // runs Apollo's drain plugin: in-flight operations finish first
      clearTimeout(cut);
      await apollo.stop();
      upstream.destroy();
      await responseCache?.close();
      await rereads?.close();
      await source.close();
    },
  };
}

type GatewayInterface = ApolloServerOptionsWithGateway<GatewayContext>["gateway"];

/**
 * Apollo Server's gateway interface over one fixed schema, executing with `executor`: the schema
 * is announced once, at load, and never changes. In gateway mode Apollo still parses, validates,
 * runs every plugin hook and formats errors as with `schema`; it hands execution to the executor,
 * without `rootValue`, `fieldResolver` or `executionOptions` (the gateway sets none).
 */
function staticGateway(schema: GraphQLSchema, executor: JitExecutor, logger: Logger): GatewayInterface {
  type Listener = Parameters<GatewayInterface["onSchemaLoadOrUpdate"]>[0];
  const listeners = new Set<Listener>();
  let checked = false;
  return {
    onSchemaLoadOrUpdate(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async load() {
      // Apollo takes the schema from this call, made before load resolves. No supergraph SDL, as
      // in schema mode (the type insists on one): schema and usage reporting, when configured,
      // then print and report the API schema exactly as without jit.
      const schemaContext = { apiSchema: schema } as Parameters<Listener>[0];
      for (const listener of listeners) listener(schemaContext);
      return {
        executor: (rc) => {
          if (!checked) {
            checked = true;
            // An install with `--ignore-scripts` skips patch-package: everything works, each
            // request's objects are promoted to the old generation (CONTRIBUTING.md).
            if (!isPatchedApolloResponse(rc.response?.http)) {
              logger.warn("@apollo/server is not patched (installed with --ignore-scripts?): executed operations cost about a quarter more CPU; run `npx patch-package` (CONTRIBUTING.md)");
            }
          }
          return executor.execute({
            document: rc.document,
            operationName: rc.request.operationName,
            variableValues: rc.request.variables,
            contextValue: rc.context,
          });
        },
      };
    },
    async stop() {
      listeners.clear();
    },
  };
}

/** How long shutdown waits for open SSE streams to finish writing before cutting every connection but those of operations in flight, ms. */
const STREAM_DRAIN_MS = 5000;

/** A caller-supplied request id worth keeping: printable, no spaces, at most 128 characters. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
