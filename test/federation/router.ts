import { composeServices } from "@apollo/composition";
import { ApolloGateway, RemoteGraphQLDataSource } from "@apollo/gateway";
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import { parse, type DocumentNode } from "graphql";
import { post } from "../support/http.js";
import type { GraphQLResponse } from "../support/stack.js";

/** One subgraph as composition and the router see it. */
export interface SubgraphEndpoint {
  readonly name: string;
  readonly url: string;
  readonly typeDefs: DocumentNode;
}

export interface Router {
  /** The router's GraphQL endpoint on a loopback port. */
  readonly url: string;
  readonly supergraphSdl: string;
  /** POSTs one operation to the router as a client would, with `headers` (an `authorization`, say). */
  query<T = any>(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

/** What the router's context keeps of the client's request. */
interface RouterContext {
  readonly authorization?: string | undefined;
}

/**
 * The subgraph SDL a running subgraph reports at `_service { sdl }`, as `rover subgraph introspect`
 * reads it (`headers`: a bearer token, when the subgraph wants one).
 */
export async function introspectSubgraph(url: string, headers: Record<string, string> = {}): Promise<DocumentNode> {
  const { status, body } = await post(url, { query: "{ _service { sdl } }" }, headers);
  if (status !== 200 || !body.data?._service?.sdl) throw new Error(`_service { sdl } failed (${status}): ${JSON.stringify(body)}`);
  return parse(body.data._service.sdl);
}

/**
 * A real federation router: the subgraphs composed with `@apollo/composition`'s `composeServices`,
 * the supergraph served by `@apollo/gateway` inside an Apollo Server on a loopback port. The router
 * forwards each client's `Authorization` header to every subgraph (`willSendRequest`), as a
 * deployment in front of an authenticating subgraph must.
 */
export async function startRouter(subgraphs: readonly SubgraphEndpoint[]): Promise<Router> {
  const composed = composeServices(subgraphs.map(({ name, url, typeDefs }) => ({ name, url, typeDefs })));
  if (composed.errors) throw new Error(`composition failed: ${composed.errors.map((e) => e.message).join("; ")}`);
  const supergraphSdl = composed.supergraphSdl;
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource<RouterContext>({
        url,
        willSendRequest({ request, context }) {
          if (context.authorization) request.http?.headers.set("authorization", context.authorization);
        },
      }),
  });
  const server = new ApolloServer<RouterContext>({ gateway });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: "127.0.0.1" },
    context: async ({ req }) => ({ authorization: req.headers.authorization }),
  });
  return {
    url,
    supergraphSdl,
    async query(query, variables, headers = {}) {
      const { status, headers: responseHeaders, body } = await post(url, { query, variables }, headers);
      return { status, headers: responseHeaders, body };
    },
    close: () => server.stop(),
  };
}
