import { randomUUID } from "node:crypto";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import fastifyApollo, { fastifyApolloDrainPlugin } from "@as-integrations/fastify";
import Fastify, { type FastifyInstance } from "fastify";
import type { GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import type { Config } from "./config.js";
import type { Upstream } from "./connectClient.js";
import type { GatewayContext } from "./context.js";
import { ErrorCode } from "./errors.js";
import { createLoaders, type FetchContact } from "./loaders.js";
import { loadSchema } from "./schema.js";

export interface GatewayOptions {
  config: Config;
  /** DescribeContact and friends; the real SDK client in production and tests. */
  upstream: Upstream;
  logger: Logger;
  /**
   * How a loader reads one contact. Default: straight to `upstream`. The cache and quota limiter
   * wrap this.
   */
  fetchContact?: FetchContact;
  /** Extra Apollo plugins (landing page, metrics, limits). */
  plugins?: ApolloServerPlugin<GatewayContext>[];
}

export interface Gateway {
  readonly app: FastifyInstance;
  readonly apollo: ApolloServer<GatewayContext>;
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
  const { config, upstream, logger } = options;
  const fetchContact: FetchContact = options.fetchContact ?? ((ref) => upstream.describeContact(ref));

  const app = Fastify({
    bodyLimit: config.BODY_LIMIT_BYTES,
    // Request ids come from x-request-id when the caller sends one, so logs correlate across hops.
    requestIdHeader: "x-request-id",
    genReqId: () => randomUUID(),
    logger: false,
    forceCloseConnections: "idle",
  });

  const apollo = new ApolloServer<GatewayContext>({
    schema: loadSchema(),
    introspection: config.GRAPHQL_INTROSPECTION,
    csrfPrevention: true,
    allowBatchedHttpRequests: config.HTTP_BATCHING,
    includeStacktraceInErrorResponses: false,
    logger,
    formatError: maskUnexpectedErrors(logger),
    plugins: [
      fastifyApolloDrainPlugin(app),
      ...(options.plugins ?? []),
      ...(options.plugins?.some((p) => "renderLandingPage" in p) ? [] : [ApolloServerPluginLandingPageDisabled()]),
    ],
  });
  await apollo.start();

  await app.register(fastifyApollo(apollo), {
    path: "/graphql",
    context: async (request) => ({
      loaders: createLoaders(fetchContact, { concurrency: config.CONNECT_MAX_CONCURRENCY }),
      defaultRegion: config.AWS_REGION,
      requestId: request.id,
      logger: logger.child({ requestId: request.id }),
    }),
  });

  app.addHook("onSend", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });

  return {
    app,
    apollo,
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
    },
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
