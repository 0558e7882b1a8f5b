import { Contact$ } from "@aws-sdk/client-connect";
import {
  getNamedType,
  isListType,
  isNonNullType,
  isObjectType,
  type GraphQLObjectType,
  type GraphQLOutputType,
} from "graphql";
import { describe, expect, it } from "vitest";
import { fieldNameOf } from "../../src/domain/graphqlModel.js";
import { sdkMemberPaths } from "../../src/domain/sdkMemberPaths.js";
import { buildSchema } from "../../src/graphql/schema.js";

/** Every member path of the SDK's shape, as `Contact.AgentInfo.Id`. */
function memberPaths(root: unknown): Array<{ path: string; member: string; schema: number | readonly unknown[] }> {
  return sdkMemberPaths(root).map((p) => ({ path: ["Contact", ...p.path].join("."), member: p.member, schema: p.schema }));
}

const schema = buildSchema();
const unwrap = (t: GraphQLOutputType): GraphQLOutputType => (isNonNullType(t) ? t.ofType : t);

/** The GraphQL object type that serves the SDK structure `name`, found by walking from Contact. */
function graphqlTypeFor(path: string): GraphQLObjectType {
  let type = schema.getType("Contact") as GraphQLObjectType;
  for (const member of path.split(".").slice(1)) {
    const field = type.getFields()[fieldNameOf(member)];
    if (!field) throw new Error(`no field for ${member} on ${type.name}`);
    let named = getNamedType(field.type);
    // Maps are lists of { key, value } entries: the structure lives under `value`.
    if (isObjectType(named) && named.name.endsWith("Entry") && named.getFields().key && named.getFields().value) {
      named = getNamedType(named.getFields().value!.type);
    }
    type = named as GraphQLObjectType;
  }
  return type;
}

describe("schema.graphql against the SDK's Contact shape", () => {
  const paths = memberPaths(Contact$);

  it("walks the whole SDK shape (sanity check of this test)", () => {
    expect(paths.length).toBeGreaterThan(200);
    expect(paths.map((p) => p.path)).toContain("Contact.RoutingCriteria.Steps.Expression.AndExpression");
  });

  it("has a field for every member of every structure reachable from Contact", () => {
    const missing = paths.filter(({ path, member }) => {
      const parent = graphqlTypeFor(path.split(".").slice(0, -1).join("."));
      return !parent.getFields()[fieldNameOf(member)];
    });
    expect(missing.map((m) => m.path)).toEqual([]);
  });

  it("types timestamps as DateTime, booleans as Boolean and numbers without 32-bit overflow where 64-bit", () => {
    for (const { path, member, schema: s } of paths) {
      const parent = graphqlTypeFor(path.split(".").slice(0, -1).join("."));
      const type = unwrap(parent.getFields()[fieldNameOf(member)]!.type);
      const named = getNamedType(type).name;
      if (s === 4) expect(named, path).toBe("DateTime");
      if (s === 2) expect(named, path).toBe("Boolean");
      if (s === 1) expect(["Int", "Long", "Float"], path).toContain(named);
      if (s === 1 && /InMillis$|QueuePriority$/.test(member)) expect(named, path).toBe("Long");
      if (s === 0) expect(named, path).toMatch(/^(String|ID)$/);
      if (s === 64) expect(isListType(type) && getNamedType(type).name, path).toBe("String");
      if (s === 128) expect(named, path).toBe("StringEntry");
    }
  });

  it("documents every type and field", () => {
    const undocumented: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith("__") || ["String", "Int", "Float", "Boolean", "ID"].includes(type.name)) continue;
      if (!type.description) undocumented.push(type.name);
      if (isObjectType(type) && type.name !== "Query") {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) undocumented.push(`${type.name}.${field.name}`);
        }
      }
    }
    expect(undocumented).toEqual([]);
  });

  it("keeps SDK enums as strings and lists their known values, so new values never fail a query", () => {
    const initiationMethod = (schema.getType("Contact") as GraphQLObjectType).getFields().initiationMethod!;
    expect(getNamedType(initiationMethod.type).name).toBe("String");
    expect(initiationMethod.description).toContain("Known values:");
    expect(initiationMethod.description).toContain("QUEUE_TRANSFER");
  });
});
