import { defaultFieldResolver, type GraphQLArgument, type GraphQLFieldResolver, type GraphQLSchema } from "graphql";
import { forbidden } from "../domain/errors.js";
import { canReadInstance, INSTANCES_CLAIM, instanceIdOf, type Principal } from "../domain/principal.js";

/**
 * FORBIDDEN for a field naming an instance the caller may not read, thrown before any upstream call.
 * The message names the argument, not the caller's allowed instances.
 */
export function assertInstanceReadable(principal: Principal, instance: string, argument = "instanceId"): void {
  if (canReadInstance(principal, instance)) return;
  throw forbidden(argument, `The caller may not read instance ${instanceIdOf(instance)} (argument "${argument}"); the token's ${INSTANCES_CLAIM} claim does not list it.`);
}

/**
 * Authorizes every root field that names an instance (an `instanceId` or `arn` argument) before
 * its resolver runs: a field for an instance the caller may not read is FORBIDDEN, with no upstream
 * call, and the other fields of the operation are unaffected. Subscription fields are checked when
 * subscribed, before any event is delivered. Done on the schema rather than in each resolver, so a
 * root field added later is covered without remembering to. (Relations stay in the instance of the
 * contact they start from, so checking the root is enough; the contact loader checks again as a
 * second line.) Wraps resolvers in place and returns the schema.
 */
export function applyInstanceAuthorization(schema: GraphQLSchema): GraphQLSchema {
  for (const field of Object.values(schema.getQueryType()?.getFields() ?? {})) {
    const guard = instanceGuard(field.args);
    if (guard) field.resolve = guarded(guard, field.resolve ?? defaultFieldResolver);
  }
  for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) {
    const guard = instanceGuard(field.args);
    if (guard && field.subscribe) field.subscribe = guarded(guard, field.subscribe);
  }
  return schema;
}

type Guard = (args: Record<string, unknown>, ctx: { auth: Principal }) => void;

// Private: the check of a root field's instance argument, if it has one.
function instanceGuard(args: readonly GraphQLArgument[]): Guard | undefined {
  const argument = args.find((a) => a.name === "instanceId" || a.name === "arn")?.name;
  if (!argument) return undefined;
  return (values, ctx) => {
    const value = values[argument];
    if (typeof value === "string") assertInstanceReadable(ctx.auth, value, argument);
  };
}

// Private: `resolve` behind `guard`.
function guarded(guard: Guard, resolve: GraphQLFieldResolver<unknown, { auth: Principal }>): GraphQLFieldResolver<unknown, { auth: Principal }> {
  return (source, args: Record<string, unknown>, ctx, info) => {
    guard(args, ctx);
    return resolve(source, args, ctx, info);
  };
}
