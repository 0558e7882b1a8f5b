import { GraphQLError, defaultFieldResolver, type GraphQLSchema } from "graphql";
import { ErrorCode } from "../domain/errors.js";
import { canReadInstance, INSTANCES_CLAIM, instanceIdOf, type Principal } from "../domain/principal.js";

/**
 * FORBIDDEN for a field naming an instance the caller may not read, thrown before any upstream call.
 * The message names the argument, not the caller's allowed instances.
 */
export function assertInstanceReadable(principal: Principal, instance: string, argument = "instanceId"): void {
  if (canReadInstance(principal, instance)) return;
  throw new GraphQLError(`The caller may not read instance ${instanceIdOf(instance)} (argument "${argument}"); the token's ${INSTANCES_CLAIM} claim does not list it.`, {
    extensions: { code: ErrorCode.FORBIDDEN, argument },
  });
}

/**
 * Authorizes every root field that names an instance (an `instanceId` or `arn` argument) before
 * its resolver runs: a field for an instance the caller may not read is FORBIDDEN, with no upstream
 * call, and the other fields of the operation are unaffected. Done on the schema rather than in
 * each resolver, so a root field added later is covered without remembering to. (Relations stay in
 * the instance of the contact they start from, so checking the root is enough; the contact loader
 * checks again as a second line.) Wraps resolvers in place and returns the schema.
 */
export function applyInstanceAuthorization(schema: GraphQLSchema): GraphQLSchema {
  const query = schema.getQueryType();
  for (const field of Object.values(query?.getFields() ?? {})) {
    const argument = field.args.find((a) => a.name === "instanceId" || a.name === "arn")?.name;
    if (!argument) continue;
    const resolve = field.resolve ?? defaultFieldResolver;
    field.resolve = (source, args: Record<string, unknown>, ctx: { auth: Principal }, info) => {
      const value = args[argument];
      if (typeof value === "string") assertInstanceReadable(ctx.auth, value, argument);
      return resolve(source, args, ctx, info);
    };
  }
  return schema;
}
