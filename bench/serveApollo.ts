/**
 * How the bench's bare Apollo servers (bench/helloWorld.ts, bench/apolloFloor.ts) serve: Apollo
 * Server on Fastify through `@as-integrations/fastify` at `/graphql`, the gateway's HTTP layer, on
 * a free port of 127.0.0.1. Prints one JSON line `{ "url": ... }` once it listens (what
 * bench/processes.ts waits for); stops on SIGTERM.
 */
import type { ApolloServer, BaseContext } from "@apollo/server";
import fastifyApollo from "@as-integrations/fastify";
import type { FastifyInstance } from "fastify";

export async function serveApollo(app: FastifyInstance, apollo: ApolloServer<BaseContext>): Promise<void> {
  await apollo.start();
  await app.register(fastifyApollo(apollo), { path: "/graphql" });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  console.log(JSON.stringify({ url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}` }));
  process.on("SIGTERM", () => void app.close().then(() => process.exit(0)));
}
