import { defaultFieldResolver, type GraphQLFieldResolver, type GraphQLSchema } from "graphql";
import type { GatewayContext } from "./context.js";
import { representationPlace } from "./federation.js";
import { assertInstanceReadable } from "./instanceAuthorization.js";

/**
 * The subgraph's `_entities` under the same input checks and per-instance authorization as the
 * root fields (`applyInstanceAuthorization`), which it escapes: it names its instances inside
 * `representations`, not in an `instanceId` or `arn` argument. Each representation is judged here,
 * where its index is known: one that is not a representation of an entity (`__typename` not one of
 * `ENTITY_KEYS`), or whose key is malformed or in a region the gateway may not call, is
 * BAD_USER_INPUT naming `representations[i]` (and the key field); one for an instance the caller
 * may not read is FORBIDDEN. Either is `null` with an error at `_entities.<i>`, which the router
 * maps to the entity's place in its response, and is never resolved, so it costs no upstream call;
 * the other representations are resolved as if it were not there. The place is read from the key
 * fields the same way `__resolveReference` reads them. The contact, queue and user loaders check
 * every read's instance again as a second line. Wraps the resolver in place and returns the
 * schema; a schema without `_entities` (the standalone one) is returned unchanged.
 */
export function applyEntityAuthorization(schema: GraphQLSchema): GraphQLSchema {
  const field = schema.getQueryType()?.getFields()._entities;
  if (!field) return schema;
  field.resolve = authorizedEntities(field.resolve ?? defaultFieldResolver);
  return schema;
}

// Private: `resolve` for the representations the caller may read, FORBIDDEN in place of the others.
function authorizedEntities(resolve: GraphQLFieldResolver<unknown, GatewayContext>): GraphQLFieldResolver<unknown, GatewayContext> {
  return (source, args: { representations: readonly unknown[] }, ctx, info) => {
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

// Private: why the representation at `index` is not resolved (BAD_USER_INPUT or FORBIDDEN), if it is not.
function refusal(representation: unknown, index: number, ctx: GatewayContext): Error | undefined {
  const argument = `representations[${index}]`;
  let place: { readonly instanceId: string };
  try {
    place = representationPlace(representation, ctx.regions, argument);
  } catch (error) {
    return error as Error; // not an entity's, or a malformed key: BAD_USER_INPUT naming it
  }
  try {
    assertInstanceReadable(ctx.auth, place.instanceId, argument);
    return undefined;
  } catch (error) {
    return error as Error;
  }
}
