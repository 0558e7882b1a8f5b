import { readFileSync } from "node:fs";
import { makeExecutableSchema } from "@graphql-tools/schema";
import { isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from "graphql";
import { resolvers } from "./resolvers.js";
import { serveSearchSummaries } from "./summaryContact.js";

/** schema.graphql at the package root; the same relative path from src/graphql/ and from dist/graphql/. */
export const SCHEMA_PATH = new URL("../../schema.graphql", import.meta.url);

export function readTypeDefs(): string {
  return readFileSync(SCHEMA_PATH, "utf8");
}

/**
 * Types whose values the gateway builds itself (camelCase members) rather than receiving from the
 * SDK. Every other object type's source is an SDK shape.
 */
const GATEWAY_SHAPED = new Set([
  "Query",
  "Mutation",
  "Subscription",
  "StringEntry",
  "SegmentAttributeValueEntry",
  "ContactEvaluationEntry",
  "ContactConnection",
  "ContactEdge",
  "PageInfo",
]);

/**
 * The executable schema: schema.graphql plus the resolver map. Fields of SDK-shaped types without a
 * resolver of their own read the SDK member of the same name in PascalCase (`queueInfo` reads
 * `QueueInfo`), so the 200-odd plain fields need no hand-written resolvers and stay in step with
 * the schema. The resolver is set per field at build time, so no name is converted per request.
 */
export function loadSchema(typeDefs: string = readTypeDefs()): GraphQLSchema {
  const schema = makeExecutableSchema({ typeDefs, resolvers });
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__") || GATEWAY_SHAPED.has(type.name)) continue;
    for (const field of Object.values(type.getFields())) {
      field.resolve ??= memberResolver(field.name[0]!.toUpperCase() + field.name.slice(1));
    }
  }
  // Search results hold only the search summary; fields beyond it read the full contact.
  return serveSearchSummaries(schema);
}

// Private: reads one SDK member; absent members are null.
function memberResolver(member: string): GraphQLFieldResolver<Record<string, unknown>, unknown> {
  return (source) => source[member];
}
