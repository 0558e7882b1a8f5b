import { readFileSync } from "node:fs";
import { makeExecutableSchema } from "@graphql-tools/schema";
import { isObjectType, type GraphQLFieldResolver, type GraphQLSchema } from "graphql";
import { applyEntityAuthorization } from "./entityAuthorization.js";
import { federatedSchema, isFederationType } from "./federation.js";
import { applyInstanceAuthorization } from "./instanceAuthorization.js";
import { applyPiiRedaction } from "./redaction.js";
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
  "ContactEvent",
  "StringEntry",
  "SegmentAttributeValueEntry",
  "ContactEvaluationEntry",
  "ContactConnection",
  "ContactEdge",
  "PageInfo",
]);

/** What `buildSchema` builds. */
export interface SchemaOptions {
  /** The SDL. Default: schema.graphql (`readTypeDefs`). */
  readonly typeDefs?: string;
  /**
   * Build the Apollo Federation 2 subgraph (`FEDERATION`): the same types, fields and resolvers,
   * plus `_service`, `_entities` and the entity keys (see `federation.ts`). Default `false`: the
   * standalone schema, without anything of federation.
   */
  readonly federation?: boolean;
}

/**
 * The executable schema the gateway serves: schema.graphql, its resolvers, and every wrapper, applied
 * here and nowhere else, in this order (each wraps what the previous ones set):
 *
 * 1. member resolvers: fields of SDK-shaped types without a resolver of their own read the SDK
 *    member of the same name in PascalCase (`queueInfo` reads `QueueInfo`), so the 200-odd plain
 *    fields need no hand-written resolvers and stay in step with the schema; set per field at build
 *    time, so no name is converted per request;
 * 2. search summaries: fields of a search result beyond Connect's summary read the full contact;
 * 3. instance authorization: every root field naming an instance is refused (FORBIDDEN) before its
 *    resolver runs when the caller may not read that instance; in the subgraph, so is every
 *    `_entities` representation (`applyEntityAuthorization`);
 * 4. `@pii` redaction, last, so it masks whatever resolves a personal field, including 1 and 2.
 *
 * The subgraph starts from `federatedSchema` instead of `makeExecutableSchema`; federation's own
 * types (`_Service`, …) get no member resolvers. A string argument is the SDL (`{ typeDefs }`).
 */
export function buildSchema(options: SchemaOptions | string = {}): GraphQLSchema {
  const { typeDefs = readTypeDefs(), federation = false } = typeof options === "string" ? { typeDefs: options } : options;
  const schema = federation ? federatedSchema(typeDefs) : makeExecutableSchema({ typeDefs, resolvers });
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__") || GATEWAY_SHAPED.has(type.name) || (federation && isFederationType(type.name))) continue;
    for (const field of Object.values(type.getFields())) {
      field.resolve ??= memberResolver(field.name[0]!.toUpperCase() + field.name.slice(1));
    }
  }
  const authorized = applyInstanceAuthorization(serveSearchSummaries(schema));
  return applyPiiRedaction(federation ? applyEntityAuthorization(authorized) : authorized);
}

// Private: reads one SDK member; absent members are null.
function memberResolver(member: string): GraphQLFieldResolver<Record<string, unknown>, unknown> {
  return (source) => source[member];
}
