/**
 * The peer the gateway's throughput is measured against: a bare `@apollo/server` hello-world on the
 * same HTTP layer as the gateway (Fastify through `@as-integrations/fastify`), with Apollo's
 * defaults. Prints one JSON line `{ "url": ... }` once it listens; stops on SIGTERM.
 */
import { ApolloServer } from "@apollo/server";
import { fastifyApolloDrainPlugin } from "@as-integrations/fastify";
import Fastify from "fastify";
import { serveApollo } from "./serveApollo.js";

const app = Fastify({ logger: false });
const apollo = new ApolloServer({
  typeDefs: "type Query { hello: String }",
  resolvers: { Query: { hello: () => "world" } },
  plugins: [fastifyApolloDrainPlugin(app)],
});
await serveApollo(app, apollo);
