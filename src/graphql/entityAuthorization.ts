import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from "graphql";
import type { GatewayContext } from "./context.js";
import { representationPlace, type Representation } from "./federation.js";
import { assertInstanceReadable } from "./instanceAuthorization.js";

/**
 * The subgraph's `_entities` under the same per-instance authorization as the root fields
 * (`applyInstanceAuthorization`), which it escapes: it names its instances inside `representations`,
 * not in an `instanceId` or `arn` argument. Each representation for an instance the caller may not
 * read is FORBIDDEN at its own index (`null`, an error at `_entities.<i>`, which the router maps to
 * the entity's place in its response) and is never resolved, so it costs no upstream call; the
 * other representations are resolved as if it were not there. The instance is read from the key
 * fields the same way `__resolveReference` reads them; a representation too malformed to say is
 * left to `__resolveReference`, which refuses it with BAD_USER_INPUT. The contact, queue and user
 * loaders check every read's instance again as a second line. Wraps the resolver in place and
 * returns the schema; a schema without `_entities` (the standalone one) is returned unchanged.
 */
export function applyEntityAuthorization(schema: GraphQLSchema): GraphQLSchema {
  const field = schema.getQueryType()?.getFields()._entities;
  if (!field) return schema;
  field.resolve = authorizedEntities(field.resolve ?? defaultFieldResolver);
  return schema;
}

// Private: `resolve` for the representations the caller may read, FORBIDDEN in place of the others.
function authorizedEntities(resolve: GraphQLFieldResolver<unknown, GatewayContext>): GraphQLFieldResolver<unknown, GatewayContext> {
  return (source, args: { representations: readonly Representation[] }, ctx, info) => {
    const { representations } = args;
    const refusals = representations.map((representation, i) => refusal(representation, i, ctx));
    if (refusals.every((r) => r === undefined)) return resolve(source, args, ctx, info);
    const allowed = representations.filter((_, i) => refusals[i] === undefined);
    const merge = (entities: readonly unknown[]) => {
      let next = 0;
      return refusals.map((error) => error ?? entities[next++]);
    };
    if (allowed.length === 0) return merge([]);
    const entities = resolve(source, { ...args, representations: allowed }, ctx, info) as readonly unknown[] | Promise<readonly unknown[]>;
    return entities instanceof Promise ? entities.then(merge) : merge(entities);
  };
}

// Private: the FORBIDDEN error for a representation of an instance the caller may not read, if it is one.
function refusal(representation: Representation, index: number, ctx: GatewayContext): Error | undefined {
  const argument = `representations[${index}]`;
  let place: { readonly instanceId: string } | undefined;
  try {
    place = representationPlace(representation, ctx.defaultRegion, argument);
  } catch {
    return undefined; // malformed: `__resolveReference` refuses it with BAD_USER_INPUT, before any call
  }
  if (!place) return undefined;
  try {
    assertInstanceReadable(ctx.auth, place.instanceId, argument);
    return undefined;
  } catch (error) {
    return error as Error;
  }
}
