import { readFileSync } from "node:fs";
import { makeExecutableSchema } from "@graphql-tools/schema";
import type { GraphQLSchema } from "graphql";
import { applyEntityAuthorization } from "./entityAuthorization.js";
import { federatedSchema } from "./federation.js";
import { applyInstanceAuthorization } from "./instanceAuthorization.js";
import { applyPiiRedaction } from "./redaction.js";
import { resolvers } from "./resolvers.js";
import { serveSearchSummaries } from "./summaryContact.js";

/** schema.graphql at the package root; the same relative path from src/graphql/ and from dist/graphql/. */
export const SCHEMA_PATH = new URL("../../schema.graphql", import.meta.url);

export function readTypeDefs(): string {
  return readFileSync(SCHEMA_PATH, "utf8");
}

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
 * 1. search summaries: fields of a search result beyond Connect's summary read the full contact;
 * 2. instance authorization: every root field naming an instance is refused (FORBIDDEN) before its
 *    resolver runs when the caller may not read that instance; in the subgraph, so is every
 *    `_entities` representation (`applyEntityAuthorization`);
 * 3. `@pii` redaction, last, so it masks whatever resolves a personal field, including 1.
 *
 * The 200-odd plain fields of Connect's shapes have no resolver at all: models are built in the
 * GraphQL shape once per answer (`src/domain/graphqlModel.ts`) and read by the default resolver,
 * so executing them costs no resolver call and graphql-jit can inline them.
 *
 * The subgraph starts from `federatedSchema` instead of `makeExecutableSchema`. A string argument
 * is the SDL (`{ typeDefs }`).
 */
export function buildSchema(options: SchemaOptions | string = {}): GraphQLSchema {
  const { typeDefs = readTypeDefs(), federation = false } = typeof options === "string" ? { typeDefs: options } : options;
  const schema = federation ? federatedSchema(typeDefs) : makeExecutableSchema({ typeDefs, resolvers });
  const authorized = applyInstanceAuthorization(serveSearchSummaries(schema));
  return applyPiiRedaction(federation ? applyEntityAuthorization(authorized) : authorized);
}
