/**
 * The floor of figure 3: what Apollo Server itself costs to execute the realistic query, with
 * nothing of the gateway around it. `@apollo/server` on Fastify through `@as-integrations/fastify`
 * (the gateway's HTTP layer), the gateway's schema.graphql, executed by graphql-jit through Apollo's
 * gateway interface as the gateway does by default (`GRAPHQL_JIT`), Apollo's per-field cache-control
 * plugin off as in the gateway. The contacts are the gateway's own models (`contactFromAnswer`),
 * read once from the emulator (`EMULATOR_URL`) on first use and then held in memory; resolvers
 * return them. No context, loaders, cache lookups, authorization, redaction, limits, log line or
 * metrics: the gateway can only cost more than this. Prints one JSON line `{ "url": ... }` once it
 * listens; stops on SIGTERM.
 */
import { ApolloServer, type ApolloServerOptionsWithGateway, type BaseContext } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { fastifyApolloDrainPlugin } from "@as-integrations/fastify";
import { makeExecutableSchema } from "@graphql-tools/schema";
import Fastify from "fastify";
import { serveApollo } from "./serveApollo.js";
import { GraphQLScalarType } from "graphql";
import pino from "pino";
import { contactFromAnswer, type ContactModel } from "../src/domain/contactRef.js";
import { jitExecutor } from "../src/graphql/jitExecutor.js";
import { readTypeDefs } from "../src/graphql/schema.js";
import { emulatorSigV4Header } from "./load.js";

const emulatorUrl = process.env.EMULATOR_URL ?? "";
const region = process.env.FLOOR_REGION ?? "us-east-1";
const SIGV4_HEADER = emulatorSigV4Header(region);

const models = new Map<string, ContactModel | Promise<ContactModel>>();
function contact(instanceId: string, contactId: string): ContactModel | Promise<ContactModel> {
  const key = `${instanceId}/${contactId}`;
  let model = models.get(key);
  if (!model) {
    model = fetch(`${emulatorUrl}/contacts/${instanceId}/${contactId}`, { headers: SIGV4_HEADER })
      .then((r) => r.json() as Promise<{ Contact?: unknown }>)
      .then((answer) => contactFromAnswer(answer, { region, instanceId, contactId }));
    models.set(key, model);
    void model.then((m) => models.set(key, m));
  }
  return model;
}
const related = (c: ContactModel, id: string | undefined) => (id ? contact(c.$ref.instanceId, id) : null);

const schema = makeExecutableSchema({
  typeDefs: readTypeDefs(),
  resolvers: {
    // Models carry timestamps as the ISO strings the gateway's scalar serves as they are.
    DateTime: new GraphQLScalarType({ name: "DateTime", serialize: (value) => value }),
    Query: { contact: (_: unknown, args: { instanceId: string; contactId: string }) => contact(args.instanceId, args.contactId) },
    Contact: {
      instanceId: (c: ContactModel) => c.$ref.instanceId,
      region: (c: ContactModel) => c.$ref.region,
      previousContact: (c: ContactModel) => related(c, c.previousContactId),
      initialContact: (c: ContactModel) => related(c, c.initialContactId),
    },
  },
});
const jit = jitExecutor({ schema, logger: pino({ level: "silent" }) });
type GatewayInterface = ApolloServerOptionsWithGateway<BaseContext>["gateway"];
const gateway: GatewayInterface = {
  onSchemaLoadOrUpdate(listener) {
    listener({ apiSchema: schema } as Parameters<typeof listener>[0]);
    return () => {};
  },
  async load() {
    return {
      executor: (rc) => jit.execute({ document: rc.document, operationName: rc.request.operationName, variableValues: rc.request.variables, contextValue: rc.context }),
    };
  },
  async stop() {},
};

const app = Fastify({ logger: false });
const apollo = new ApolloServer({
  gateway,
  plugins: [fastifyApolloDrainPlugin(app), ApolloServerPluginCacheControlDisabled(), ApolloServerPluginLandingPageDisabled()],
});
await serveApollo(app, apollo);
