import { GraphQLError, parse, type OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { maskResultErrors } from "../../src/graphql/formatError.js";
import { collectingLogger, type LogLine } from "../support/loggedGateway.js";

/**
 * The error policy of results made outside Apollo's pipeline (subscriptions): the codes and
 * masking a POST /graphql caller gets.
 */
describe("maskResultErrors", () => {
  const lines: LogLine[] = [];
  const mask = maskResultErrors(collectingLogger(lines));
  const variable = (parse("subscription ($id: ID!) { __typename }").definitions[0] as OperationDefinitionNode).variableDefinitions![0]!;

  it("returns a result without errors as it is", () => {
    const result = { data: { a: 1 } };
    expect(mask(result)).toBe(result);
  });

  it("passes errors with a code of the gateway's table through untouched", () => {
    const forbidden = new GraphQLError("no", { extensions: { code: "FORBIDDEN", argument: "instanceId" } });
    expect(mask({ errors: [forbidden] }).errors).toEqual([forbidden]);
  });

  it("codes an error about a variable's value, which graphql-js sends without a code, BAD_USER_INPUT", () => {
    const coercion = new GraphQLError('Variable "$id" got invalid value {}; ID cannot represent value: {}', { nodes: variable });
    const [error] = mask({ errors: [coercion] }).errors!;
    expect(error!.message).toBe(coercion.message);
    expect(error!.extensions).toEqual({ code: "BAD_USER_INPUT" });
    expect(error!.locations).toEqual(coercion.locations);
  });

  it("sends anything else as INTERNAL_SERVER_ERROR without its message, and logs it at error level", () => {
    lines.length = 0;
    const bug = new GraphQLError("Cannot read properties of undefined (reading 'Id')", { path: ["contactEvents", "contact"], originalError: new TypeError("boom") });
    const [error] = mask({ data: null, errors: [bug] }).errors!;
    expect(error!.toJSON()).toEqual({ message: "Internal server error.", path: ["contactEvents", "contact"], extensions: { code: "INTERNAL_SERVER_ERROR" } });
    expect(lines).toEqual([expect.objectContaining({ level: 50, msg: "unexpected error in operation", path: ["contactEvents", "contact"] })]);
  });
});
