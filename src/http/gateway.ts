import { randomUUID } from "node:crypto";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import fastifyApollo, { fastifyApolloDrainPlugin } from "@as-integrations/fastify";
import fastifyCors from "@fastify/cors";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply } from "fastify";
import type { KeyValueCache } from "@apollo/utils.keyvaluecache";
import type { GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import { applyInstanceAuthorization } from "../graphql/instanceAuthorization.js";
import { createAuthenticator, registerAuth, requestPrincipal } from "./authentication.js";
import type { Config } from "../config/config.js";
import type { Upstream } from "../upstream/upstream.js";
import type { GatewayContext } from "../graphql/context.js";
import { ErrorCode } from "../domain/errors.js";
import { compressGraphiQL, exampleOperation, graphiqlLandingPage, type ExampleIds } from "./graphiql.js";
import { registerHealthRoutes, type ReadinessCheck } from "./health.js";
import { createQueryLimits } from "../graphql/queryLimits.js";
import { upstreamGuard } from "../graphql/upstreamBudget.js";
import { createLoaders } from "../graphql/loaders.js";
import type { FetchContact } from "../upstream/fetchContact.js";
import { requestBypassesCache } from "./cacheControl.js";
import { createContactSource, type ContactSource } from "../upstream/contactSource.js";
import { createRelatedSource, type RelatedSource } from "../upstream/relatedSource.js";
import { createMetrics, type GatewayMetrics } from "../observability/metrics.js";
import { meteredUpstream } from "../upstream/meteredUpstream.js";
import { registerMetricsRoute } from "./metricsRoute.js";
import { operationLog } from "../graphql/operationLog.js";
import { createOperationScope } from "../upstream/operationScope.js";
import { closeConnectionsAfterLastResponse } from "./shutdown.js";
import { applyPiiRedaction, redactionPlugin } from "../graphql/redaction.js";
import { loadSchema } from "../graphql/schema.js";

export interface GatewayOptions {
  config: Config;
  /** DescribeContact and friends; the real SDK client in production and tests. */
  upstream: Upstream;
  logger: Logger;
  /**
   * How a loader reads one contact. Default: `createContactSource` from the configuration (the
   * cross-request cache, the quota limiter and, with `REDIS_URL`, Redis) over `upstream`.
   */
  fetchContact?: FetchContact;
  /** Apollo's cache (persisted queries). Default: the contact source's, or Apollo's own with a custom `fetchContact`. */
  apolloCache?: KeyValueCache<string>;
  /** Extra Apollo plugins (landing page, metrics, limits). */
  plugins?: ApolloServerPlugin<GatewayContext>[];
  /** Where every part records its metrics (`GET /metrics`). Default: a fresh registry. */
  metrics?: GatewayMetrics;
  /** What `GET /readyz` checks besides the configuration (upstream reachable, Redis up). Default none. */
  readinessChecks?: Record<string, ReadinessCheck>;
  /** The contact GraphiQL's example opens with (`main.ts` passes the emulator's demo chain). Default: placeholders. */
  exampleIds?: ExampleIds;
}

export interface Gateway {
  readonly app: FastifyInstance;
  readonly apollo: ApolloServer<GatewayContext>;
  /** The cache, limiter and Redis link behind `fetchContact` (absent with a custom `fetchContact`). */
  readonly contactSource: ContactSource | undefined;
  /** The quota limiters and queue/user cache of the other Connect APIs. */
  readonly relatedSource: RelatedSource;
  /** Starts listening; resolves the gateway's base URL (`http://host:port`). */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops accepting, lets in-flight operations finish, closes upstream connections. */
  close(): Promise<void>;
}

/**
 * Builds the gateway: Apollo Server on Fastify, GraphQL at `/graphql`. Fastify because it is the
 * fastest HTTP layer Apollo has an official integration for, and it gives body limits (413),
 * malformed-JSON handling (400) and graceful close without extra code (see README, "HTTP layer").
 */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const { config, logger } = options;
  const metrics = options.metrics ?? createMetrics();
  // Every upstream call is counted, in the metrics and in its operation's log line.
  const upstream = meteredUpstream(options.upstream, metrics);
  const source: ContactSource | undefined = options.fetchContact ? undefined : createContactSource({ config, upstream, logger, metrics });
  const fetchContact: FetchContact = options.fetchContact ?? source!.fetchContact;
  if (source) metrics.watchCache(() => source.cache.usage());
  const apolloCache = options.apolloCache ?? source?.apolloCache;
  // Queues, users, attributes, references and search: each API its own quota, sharing the contact
  // source's concurrency slots and Redis.
  const related = createRelatedSource({ config, upstream, slots: source?.limiter, redis: source?.redis });

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
  if (config.CORS_ORIGINS.length > 0) {
    await app.register(fastifyCors, { origin: config.CORS_ORIGINS, methods: ["GET", "POST"], maxAge: 600 });
  }
  if (config.AUTH_MODE === "jwt") registerAuth(app, createAuthenticator(config), logger);
  const limits = createQueryLimits(config);
  closeConnectionsAfterLastResponse(app);
  const redis = source?.redis;
  registerHealthRoutes(app, {
    checks: options.readinessChecks ?? {},
    info: redis ? { redis: () => (redis.available ? "ok" : "unavailable: cache and quota limiter run on local state") } : {},
  });
  registerMetricsRoute(app, metrics);
  if (config.GRAPHIQL) compressGraphiQL(app);
  const plugins = [
    ...(config.GRAPHIQL ? [graphiqlLandingPage({ example: exampleOperation(config, options.exampleIds), showHeaders: config.AUTH_MODE === "jwt" })] : []),
    ...(options.plugins ?? []),
  ];

  const apollo = new ApolloServer<GatewayContext>({
    schema: applyPiiRedaction(applyInstanceAuthorization(loadSchema())),
    introspection: config.GRAPHQL_INTROSPECTION,
    csrfPrevention: true,
    allowBatchedHttpRequests: config.HTTP_BATCHING,
    includeStacktraceInErrorResponses: false,
    // The process owns SIGTERM/SIGINT (main.ts): Apollo's own handlers would race ours and stall
    // the drain.
    stopOnTerminationSignals: false,
    logger,
    ...(apolloCache && { cache: apolloCache }),
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
      ...limits.plugins,
      redactionPlugin(),
      operationLog({ metrics }),
      ...plugins,
      ...(plugins.some((p) => "renderLandingPage" in p) ? [] : [ApolloServerPluginLandingPageDisabled()]),
    ],
  });
  await apollo.start();

  await app.register(fastifyApollo(apollo), {
    path: "/graphql",
    context: async (request) => {
      const auth = requestPrincipal(request, config.AUTH_MODE);
      const operationScope = createOperationScope();
      return {
        loaders: createLoaders(fetchContact, {
          related: related.fetch,
          fetchOptions: { noCache: requestBypassesCache(request.headers), operation: operationScope },
          concurrency: config.CONNECT_MAX_CONCURRENCY,
          onBatch: metrics.observeBatch,
          beforeFetch: upstreamGuard(auth, config.MAX_UPSTREAM_CALLS),
        }),
        defaultRegion: config.AWS_REGION,
        requestId: request.id,
        logger: logger.child({ requestId: request.id }),
        auth,
        redaction: { masked: new Set<string>() },
        maxContactIds: config.MAX_CONTACT_IDS,
        maxContactHops: config.MAX_CONTACT_HOPS,
        operationScope,
      };
    },
  });

  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });

  return {
    app,
    apollo,
    contactSource: source,
    relatedSource: related,
    async listen(port = config.PORT, host = config.HOST) {
      await app.listen({ port, host });
      const address = app.server.address();
      const actualPort = typeof address === "object" && address ? address.port : port;
      return `http://${host === "0.0.0.0" || host === "::" ? "localhost" : host}:${actualPort}`;
    },
    async close() {
      await app.close(); // runs Apollo's drain plugin: in-flight operations finish first
      await apollo.stop();
      upstream.destroy();
      await source?.close();
    },
  };
}

/** A caller-supplied request id worth keeping: printable, no spaces, at most 128 characters. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Every GraphQL response says `Cache-Control: no-store`: contact data must not stay in browsers or proxies. */
const noStore: ApolloServerPlugin<GatewayContext> = {
  async requestDidStart() {
    return {
      async willSendResponse({ response }) {
        response.http.headers.set("cache-control", "no-store");
      },
    };
  },
};

/**
 * Errors Fastify raises before Apollo sees the request (body too large, malformed JSON, unknown
 * content type) answered in GraphQL's shape, `{"errors":[{"message","extensions":{"code"}}]}`,
 * with their HTTP status: 413 PAYLOAD_TOO_LARGE, 400/415 BAD_REQUEST. Messages are the gateway's
 * own: a JSON parser's message can quote the body, which may hold personal data. Anything 5xx is
 * INTERNAL_SERVER_ERROR with no detail.
 */
function httpErrorHandler(config: Pick<Config, "BODY_LIMIT_BYTES">, logger: Logger) {
  return (error: FastifyError, request: { id: string }, reply: FastifyReply) => {
    const status = typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    let code: ErrorCode = ErrorCode.BAD_REQUEST;
    let message: string;
    if (status === 413) {
      code = ErrorCode.PAYLOAD_TOO_LARGE;
      message = `The request body is larger than ${config.BODY_LIMIT_BYTES} bytes (BODY_LIMIT_BYTES).`;
    } else if (status === 415) {
      message = "Unsupported Content-Type: send the operation as application/json (or application/graphql-response+json).";
    } else if (error.code === "FST_ERR_CTP_INVALID_JSON_BODY" || error instanceof SyntaxError) {
      message = "The request body is not valid JSON.";
    } else if (error.code === "FST_ERR_CTP_EMPTY_JSON_BODY") {
      message = "The request body is empty; send a JSON object with a `query`.";
    } else if (status < 500) {
      message = `Bad request (${error.code ?? "HTTP " + status}).`;
    } else {
      code = ErrorCode.INTERNAL_SERVER_ERROR;
      message = "Internal server error.";
      logger.error({ err: error, requestId: request.id }, "unexpected error in HTTP layer");
    }
    void reply.code(status).type("application/json; charset=utf-8").send({ errors: [{ message, extensions: { code } }] });
  };
}

/**
 * Errors with a known code reach the client as they are. Anything else is a bug or an unexpected
 * failure: the client gets INTERNAL_SERVER_ERROR with no message detail and no stack, and the log
 * gets the rest. GraphQL validation and parse errors carry Apollo's own codes and pass through.
 */
function maskUnexpectedErrors(logger: Logger) {
  const known = new Set<string>([
    ...Object.values(ErrorCode),
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "BAD_REQUEST",
    "PERSISTED_QUERY_NOT_FOUND",
    "PERSISTED_QUERY_NOT_SUPPORTED",
    "OPERATION_RESOLUTION_FAILURE",
  ]);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (typeof code === "string" && known.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) return formatted;
    logger.error({ err: error, path: formatted.path }, "unexpected error in operation");
    return {
      message: "Internal server error.",
      ...(formatted.locations && { locations: formatted.locations }),
      ...(formatted.path && { path: formatted.path }),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
