import type { ApolloServerPlugin, GraphQLRequestListener } from "@apollo/server";
import { defaultFieldResolver, isObjectType, type GraphQLField, type GraphQLFieldResolver, type GraphQLSchema } from "graphql";
import { canSeePii, type Principal } from "../domain/principal.js";

/** What a masked personal string reads. */
export const REDACTED = "[REDACTED]";

/** The response extension listing the fields masked in this response (`extensions.redacted`). */
export const REDACTED_EXTENSION = "redacted";

/** Per-request redaction state, in the GraphQL context. */
export interface Redaction {
  /** Schema coordinates (`Contact.customerEndpoint`) masked so far in this operation. */
  readonly masked: Set<string>;
}

interface RedactionContext {
  readonly auth: Principal;
  readonly redaction: Redaction;
}

/**
 * Masks the fields `schema.graphql` marks `@pii` for callers without the `contacts:pii` scope. The
 * field stays in the schema and keeps its type; its value is masked, one rule for all of them:
 * - a string becomes `"[REDACTED]"`;
 * - an object or list (`customerEndpoint`, `additionalEmailRecipients`) keeps its shape, and every
 *   string inside it becomes `"[REDACTED]"`; numbers and booleans inside it become `null`;
 * - key/value entries (`attributes`) keep their keys (attribute names, chosen by the contact
 *   centre) and mask their values;
 * - `null` stays `null` (an absent value reveals nothing).
 * Each masked field is recorded (its schema coordinate) for the response's `extensions.redacted`.
 * Wraps resolvers in place and returns the schema; call after every resolver is set.
 */
export function applyPiiRedaction(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      if (!isPii(field)) continue;
      field.resolve = maskingResolver(`${type.name}.${field.name}`, field.resolve ?? defaultFieldResolver);
    }
  }
  return schema;
}

/** The schema coordinates of every `@pii` field, for documentation and tests. */
export function piiFields(schema: GraphQLSchema): string[] {
  const fields: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      if (isPii(field)) fields.push(`${type.name}.${field.name}`);
    }
  }
  return fields.sort();
}

/**
 * Adds `extensions.redacted` (sorted schema coordinates) to a response in which anything was
 * masked, so clients can tell a masked value from a real one without parsing strings.
 */
export function redactionPlugin<C extends RedactionContext>(): ApolloServerPlugin<C> {
  // One listener for every request: it keeps nothing of its own.
  const listener: GraphQLRequestListener<C> = {
    async willSendResponse({ contextValue, response }) {
      const masked = contextValue.redaction?.masked;
      if (!masked?.size || response.body.kind !== "single") return;
      const result = response.body.singleResult;
      result.extensions = { ...result.extensions, [REDACTED_EXTENSION]: [...masked].sort() };
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}

// Private: the field's own resolver, its value masked unless the caller holds contacts:pii.
function maskingResolver(coordinate: string, resolve: GraphQLFieldResolver<unknown, RedactionContext>): GraphQLFieldResolver<unknown, RedactionContext> {
  return (source, args, ctx, info) => {
    const value = resolve(source, args, ctx, info);
    if (canSeePii(ctx.auth)) return value;
    const mask = (v: unknown) => {
      if (v === null || v === undefined) return v;
      ctx.redaction.masked.add(coordinate);
      return maskValue(v);
    };
    return value instanceof Promise ? value.then(mask) : mask(value);
  };
}

/** The masked form of a personal value (see `applyPiiRedaction` for the rule). */
export function maskValue(value: unknown): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === "string") return REDACTED;
  if (Array.isArray(value)) return value.map(maskValue);
  if (typeof value === "object" && !(value instanceof Date)) {
    const masked: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) masked[k] = k === "key" && isEntry(value) ? v : maskValue(v);
    return masked;
  }
  return null;
}

function isPii(field: GraphQLField<unknown, unknown>): boolean {
  return field.astNode?.directives?.some((d) => d.name.value === "pii") ?? false;
}

function isEntry(value: object): boolean {
  const keys = Object.keys(value);
  return keys.length === 2 && keys.includes("key") && keys.includes("value");
}
