/**
 * The peer the gateway's throughput is measured against: a bare `@apollo/server` hello-world on the
 * same HTTP layer as the gateway (Fastify through `@as-integrations/fastify`), with Apollo's
 * defaults. Prints one JSON line `{ "url": ... }` once it listens; stops on SIGTERM.
 */
import { ApolloServer } from "@apollo/server";
import fastifyApollo, { fastifyApolloDrainPlugin } from "@as-integrations/fastify";
import Fastify from "fastify";

const app = Fastify({ logger: false });
const apollo = new ApolloServer({
  typeDefs: "type Query { hello: String }",
  resolvers: { Query: { hello: () => "world" } },
  plugins: [fastifyApolloDrainPlugin(app)],
});
await apollo.start();
await app.register(fastifyApollo(apollo), { path: "/graphql" });
await app.listen({ port: 0, host: "127.0.0.1" });
const address = app.server.address();
console.log(JSON.stringify({ url: `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}` }));
process.on("SIGTERM", () => void app.close().then(() => process.exit(0)));
