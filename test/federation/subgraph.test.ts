import { composeServices } from "@apollo/composition";
import { Kind, getIntrospectionQuery, graphqlSync, parse, type IntrospectionQuery, type IntrospectionType, type ObjectTypeDefinitionNode } from "graphql";
import { SignJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEMO, findContact } from "../../src/emulator/dataset.js";
import { FEDERATION_SPEC_URL, isFederationType } from "../../src/graphql/federation.js";
import { buildSchema } from "../../src/graphql/schema.js";
import type { LogLine } from "../support/loggedGateway.js";
import { startStack, type Stack } from "../support/stack.js";
import { CRM_TYPE_DEFS } from "./crmSubgraph.js";

const I = DEMO.instanceId;
const SECRET = "federation-test-secret-0123456789abcdef-0123456789";
const token = (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime("10m").sign(new TextEncoder().encode(SECRET));
const bearer = async (claims: JWTPayload = { scope: "contacts:read contacts:pii", connect_instances: ["*"] }) => ({ authorization: `Bearer ${await token(claims)}` });

const ENTITIES = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) {
    __typename
    ... on Contact { id arn instanceId channel }
    ... on Queue { queueArn queueId name }
    ... on User { arn userId: id username }
  }
}`;

describe("the standalone schema (FEDERATION unset)", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it("has no _entities, no _service and none of federation's types", async () => {
    const schema = buildSchema();
    expect(Object.keys(schema.getQueryType()!.getFields()).filter((name) => name.startsWith("_"))).toEqual([]);
    expect(Object.keys(schema.getTypeMap()).filter((name) => !name.startsWith("__") && isFederationType(name))).toEqual([]);
    expect(schema.getDirectives().map((d) => d.name)).not.toContain("key");

    const { status, body } = await stack.query(`{ _service { sdl } }`);
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe("GRAPHQL_VALIDATION_FAILED");
  });
});

describe("the federated schema (FEDERATION=true)", () => {
  it("is the standalone schema plus federation's own types, fields and directives, nothing else changed", () => {
    const standalone = introspect(buildSchema());
    const federated = introspect(buildSchema({ federation: true }));
    const withoutFederation: IntrospectionQuery = {
      __schema: {
        ...federated.__schema,
        types: federated.__schema.types
          .filter((type) => !isFederationType(type.name) || type.name.startsWith("__"))
          .map((type) => (type.name === "Query" && type.kind === "OBJECT" ? { ...type, fields: type.fields.filter((f) => !f.name.startsWith("_")) } : type)),
        directives: federated.__schema.directives.filter((d) => !["link", "key", "shareable"].includes(d.name) && !d.name.includes("__")),
      },
    };
    expect(sorted(withoutFederation)).toEqual(sorted(standalone));
    expect(federated.__schema.types.filter((t) => isFederationType(t.name) && !t.name.startsWith("__")).map((t) => t.name).sort()).toEqual(
      ["_Any", "_Entity", "_Service", "federation__FieldSet", "link__Import", "link__Purpose"],
    );
  });

  it("reports its subgraph SDL with the federation link and each entity's keys", () => {
    const { data } = graphqlSync({ schema: buildSchema({ federation: true }), source: "{ _service { sdl } }", contextValue: {} });
    const sdl = parse((data as { _service: { sdl: string } })._service.sdl);
    const keys = (name: string) =>
      sdl.definitions
        .filter((d): d is ObjectTypeDefinitionNode => d.kind === Kind.OBJECT_TYPE_DEFINITION && d.name.value === name)
        .flatMap((d) => d.directives ?? [])
        .filter((d) => d.name.value === "key")
        .map((d) => (d.arguments?.[0]?.value.kind === Kind.STRING ? d.arguments[0].value.value : undefined));
    expect(keys("Contact")).toEqual(["arn", "instanceId id"]);
    expect(keys("Queue")).toEqual(["queueArn"]);
    expect(keys("User")).toEqual(["arn"]);
    expect(keys("QueueInfo")).toEqual([]);
    expect(JSON.stringify(sdl)).toContain(FEDERATION_SPEC_URL);
  });

  it("composes with a subgraph that references its contacts and has a Relay PageInfo of its own", () => {
    const { data } = graphqlSync({ schema: buildSchema({ federation: true }), source: "{ _service { sdl } }", contextValue: {} });
    const connect = parse((data as { _service: { sdl: string } })._service.sdl);
    const orders = parse(`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.0", import: ["@shareable"])
      type Query { orders(first: Int): OrderConnection! }
      type OrderConnection { nodes: [String!]! pageInfo: PageInfo! }
      type PageInfo @shareable { hasNextPage: Boolean! hasPreviousPage: Boolean! startCursor: String endCursor: String }
    `);
    const result = composeServices([
      { name: "connect", url: "http://connect.invalid/graphql", typeDefs: connect },
      { name: "crm", url: "http://crm.invalid/graphql", typeDefs: CRM_TYPE_DEFS },
      { name: "orders", url: "http://orders.invalid/graphql", typeDefs: orders },
    ]);
    expect(result.errors?.map((e) => e.message)).toBeUndefined();
  });
});

describe("_entities, asked as a router asks", () => {
  let stack: Stack;
  /** The gateway's log lines at `info` and above. */
  const lines: LogLine[] = [];
  beforeAll(async () => {
    stack = await startStack({
      env: { FEDERATION: "true", AUTH_MODE: "jwt", AUTH_JWT_SECRET: SECRET, CACHE_TTL_SECONDS: "0", CACHE_RESOURCE_TTL_SECONDS: "0", MAX_UPSTREAM_READS: "5" },
      logLines: lines,
    });
  });
  afterAll(() => stack?.close());
  beforeEach(() => stack.resetCalls());

  const contact = (id: string) => findContact(stack.emulator.dataset, I, id)!;
  const entities = async (representations: unknown[], claims?: JWTPayload) => stack.query(ENTITIES, { representations }, await bearer(claims));

  it("resolves a Contact by arn and by instanceId and id (an id or an instance ARN), one DescribeContact for the three", async () => {
    const c = contact(DEMO.fullContactId);
    const { body } = await entities([
      { __typename: "Contact", arn: c.Arn },
      { __typename: "Contact", instanceId: I, id: c.Id },
      { __typename: "Contact", instanceId: DEMO.instanceArn, id: c.Id },
    ]);
    expect(body.errors).toBeUndefined();
    const expected = { __typename: "Contact", id: c.Id, arn: c.Arn, instanceId: I, channel: c.Channel };
    expect(body.data._entities).toEqual([expected, expected, expected]);
    expect(stack.emulator.calls.byKey.DescribeContact).toEqual({ [`${I}/${c.Id}`]: 1 });
  });

  it("resolves a Queue by queueArn (DescribeQueue) and a User by arn (DescribeUser)", async () => {
    const data = stack.emulator.dataset.instances.get(I)!;
    const queue = data.queues.get(DEMO.queueId)!;
    const user = data.users.get(DEMO.userId)!;
    const { body } = await entities([
      { __typename: "Queue", queueArn: queue.QueueArn },
      { __typename: "User", arn: user.Arn },
    ]);
    expect(body.errors).toBeUndefined();
    expect(body.data._entities).toEqual([
      { __typename: "Queue", queueArn: queue.QueueArn, queueId: queue.QueueId, name: queue.Name },
      { __typename: "User", arn: user.Arn, userId: user.Id, username: user.Username },
    ]);
    expect(stack.emulator.calls.byApi).toMatchObject({ DescribeQueue: 1, DescribeUser: 1, DescribeContact: 0 });
  });

  it("reads an entity's fields from Connect, never from the representation", async () => {
    const c = contact(DEMO.fullContactId);
    const { body } = await entities([{ __typename: "Contact", arn: c.Arn, channel: "FORGED", Channel: "FORGED", id: "forged" }]);
    expect(body.data._entities).toEqual([{ __typename: "Contact", id: c.Id, arn: c.Arn, instanceId: I, channel: c.Channel }]);
  });

  it("refuses a representation of an instance the caller may not read at its own index, with no call, and serves the others", async () => {
    const first = contact(DEMO.fullContactId);
    const last = contact(DEMO.longChainTailId);
    const { status, body } = await entities(
      [
        { __typename: "Contact", arn: first.Arn },
        { __typename: "Contact", instanceId: DEMO.secondInstanceId, id: DEMO.secondInstanceContactId },
        { __typename: "Contact", arn: last.Arn },
      ],
      { scope: "contacts:read", connect_instances: [I] },
    );
    expect(status).toBe(200);
    expect(body.data._entities.map((e: { id: string } | null) => e?.id ?? null)).toEqual([first.Id, null, last.Id]);
    expect(body.errors).toEqual([expect.objectContaining({ path: ["_entities", 1], extensions: expect.objectContaining({ code: "FORBIDDEN", argument: "representations[1]" }) })]);
    expect(Object.keys(stack.emulator.calls.byKey.DescribeContact).sort()).toEqual([`${I}/${first.Id}`, `${I}/${last.Id}`].sort());
  });

  it("refuses a malformed representation with BAD_USER_INPUT at its own index, before any call", async () => {
    const c = contact(DEMO.fullContactId);
    const { body } = await entities([
      { __typename: "Contact", arn: "arn:aws:connect:us-east-1:123456789012:instance/x/queue/y" },
      { __typename: "Contact", instanceId: I },
      { __typename: "Contact", instanceId: I, id: "../../etc" },
      { __typename: "Queue", queueArn: c.Arn },
      { __typename: "User", arn: 42 },
      { __typename: "Contact", arn: c.Arn },
    ]);
    expect(body.data._entities.map((e: { id: string } | null) => e?.id ?? null)).toEqual([null, null, null, null, null, c.Id]);
    expect(body.errors?.map((e) => [e.path?.[1], e.extensions?.code, e.extensions?.argument])).toEqual([
      [0, "BAD_USER_INPUT", "representations[0].arn"],
      [1, "BAD_USER_INPUT", "representations[1]"],
      [2, "BAD_USER_INPUT", "representations[2].id"],
      [3, "BAD_USER_INPUT", "representations[3].queueArn"],
      [4, "BAD_USER_INPUT", "representations[4].arn"],
    ]);
    expect(stack.emulator.calls.byApi.DescribeContact).toBe(1);
    expect(stack.emulator.calls.byApi.DescribeQueue).toBe(0);
  });

  it("refuses a representation that is not of an entity with BAD_USER_INPUT naming representations[i], before any call and without an error log line", async () => {
    const c = contact(DEMO.fullContactId);
    lines.length = 0;
    const { status, body } = await entities([
      { __typename: "EndpointInfo" },
      { __typename: "Query" },
      { __typename: "NoSuchType", arn: c.Arn },
      { arn: c.Arn },
      "Contact",
      [{ __typename: "Contact", arn: c.Arn }],
      { __typename: "Contact", arn: c.Arn },
    ]);
    expect(status).toBe(200);
    expect(body.data._entities.map((e: { id: string } | null) => e?.id ?? null)).toEqual([null, null, null, null, null, null, c.Id]);
    expect(body.errors?.map((e) => [e.path, e.extensions?.code, e.extensions?.argument])).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => [["_entities", i], "BAD_USER_INPUT", `representations[${i}]`]),
    );
    expect(stack.emulator.calls.byApi.DescribeContact).toBe(1);
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
  });

  it.each([
    ["in a region the gateway may not call", (arn: string) => arn.replace(`:${DEMO.region}:`, ":us-east-7:"), '"us-east-7"'],
    ["whose partition is not its region's", (arn: string) => arn.replace(/^arn:aws:/, "arn:aws-cn:"), 'names the partition "aws-cn"'],
  ])("refuses a representation %s with BAD_USER_INPUT naming its key, before any call", async (_case, rewrite, problem) => {
    const c = contact(DEMO.fullContactId);
    const data = stack.emulator.dataset.instances.get(I)!;
    const { body } = await entities([
      { __typename: "Contact", arn: rewrite(c.Arn!) },
      { __typename: "Contact", instanceId: rewrite(DEMO.instanceArn), id: c.Id },
      { __typename: "Queue", queueArn: rewrite(data.queues.get(DEMO.queueId)!.QueueArn!) },
      { __typename: "User", arn: rewrite(data.users.get(DEMO.userId)!.Arn!) },
      { __typename: "Contact", arn: c.Arn },
    ]);
    expect(body.data._entities.map((e: { id: string } | null) => e?.id ?? null)).toEqual([null, null, null, null, c.Id]);
    expect(body.errors?.map((e) => [e.path?.[1], e.extensions?.code, e.extensions?.argument])).toEqual([
      [0, "BAD_USER_INPUT", "representations[0].arn"],
      [1, "BAD_USER_INPUT", "representations[1].instanceId"],
      [2, "BAD_USER_INPUT", "representations[2].queueArn"],
      [3, "BAD_USER_INPUT", "representations[3].arn"],
    ]);
    for (const error of body.errors ?? []) expect(error.message).toContain(problem);
    expect(stack.emulator.calls.total).toBe(1);
  });

  it("answers NOT_FOUND for a representation whose ARN names another account, never an entity whose arn is not its key; one read shared with the own account's key, then none", async () => {
    const c = contact(DEMO.fullContactId);
    const data = stack.emulator.dataset.instances.get(I)!;
    const queue = data.queues.get(DEMO.queueId)!;
    const user = data.users.get(DEMO.userId)!;
    const foreign = (arn: string) => arn.replace(`:${DEMO.accountId}:`, ":999999999999:");
    const foreignKeys = [
      { __typename: "Contact", arn: foreign(c.Arn!) },
      { __typename: "Contact", instanceId: foreign(DEMO.instanceArn), id: c.Id },
      { __typename: "Queue", queueArn: foreign(queue.QueueArn!) },
      { __typename: "User", arn: foreign(user.Arn!) },
    ];
    const { body } = await entities([...foreignKeys, { __typename: "Contact", arn: c.Arn }, { __typename: "Queue", queueArn: queue.QueueArn }, { __typename: "User", arn: user.Arn }]);
    expect(body.data._entities).toEqual([
      null,
      null,
      null,
      null,
      { __typename: "Contact", id: c.Id, arn: c.Arn, instanceId: I, channel: c.Channel },
      { __typename: "Queue", queueArn: queue.QueueArn, queueId: queue.QueueId, name: queue.Name },
      { __typename: "User", arn: user.Arn, userId: user.Id, username: user.Username },
    ]);
    expect(body.errors?.map((e) => `${e.path?.[1]} ${e.extensions?.code}`).sort()).toEqual(["0 NOT_FOUND", "1 NOT_FOUND", "2 NOT_FOUND", "3 NOT_FOUND"]);
    expect(stack.emulator.calls.byApi).toMatchObject({ DescribeContact: 1, DescribeQueue: 1, DescribeUser: 1 });

    // The answers told the instance's account: the foreign keys are refused with no call.
    stack.resetCalls();
    const again = await entities(foreignKeys);
    expect(again.body.data._entities).toEqual([null, null, null, null]);
    expect(again.body.errors?.map((e) => e.extensions?.code)).toEqual(["NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);
    expect(stack.emulator.calls.total).toBe(0);
  });

  it("refuses entities whose selection nests lists of contacts past MAX_RESULT_CONTACTS, before any call", async () => {
    const nested = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Contact { transferChain { transferChain { id } } } } }`;
    const { status, body } = await stack.query(nested, { representations: [{ __typename: "Contact", instanceId: I, id: DEMO.longChainTailId }] }, await bearer());
    expect(status).toBe(400);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: "QUERY_LIMIT_EXCEEDED", limit: "MAX_RESULT_CONTACTS" });
    expect(stack.emulator.calls.total).toBe(0);
  });

  it("counts an _entities operation's contacts again with its representations, which a router sends as a variable of any length", async () => {
    const withChains = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ... on Contact { id transferChain { id } } } }`;
    // A contact with no transfer (its chain is itself): this stack's budget is five reads.
    const alone = [...stack.emulator.dataset.instances.get(I)!.contacts.values()].find((c) => !c.PreviousContactId && !c.InitialContactId)!;
    const tail = { __typename: "Contact", instanceId: I, id: alone.Id };
    // 150 entities × (1 + 13) contacts: more than MAX_RESULT_CONTACTS (2,000), though validation's guess (100) was under it.
    const refused = await stack.query(withChains, { representations: Array.from({ length: 150 }, () => tail) }, await bearer());
    expect(refused.status).toBe(400);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: "QUERY_LIMIT_EXCEEDED", limit: "MAX_RESULT_CONTACTS" });
    expect(stack.emulator.calls.total).toBe(0);
    // A named fragment counts each entity as an inline one does: 143 × (1 + 13) = 2,002.
    const viaFragment = `query ($representations: [_Any!]!) { _entities(representations: $representations) { ...C } } fragment C on Contact { id transferChain { id } }`;
    const refusedToo = await stack.query(viaFragment, { representations: Array.from({ length: 143 }, () => tail) }, await bearer());
    expect(refusedToo.body.errors?.[0]?.extensions).toMatchObject({ code: "QUERY_LIMIT_EXCEEDED", limit: "MAX_RESULT_CONTACTS" });
    expect(stack.emulator.calls.total).toBe(0);
    // `_entities` reached through a fragment at the root is counted again all the same.
    const selection = `_entities(representations: $representations) { ... on Contact { id transferChain { id } } }`;
    for (const wrapped of [
      `query ($representations: [_Any!]!) { ... on Query { ${selection} } }`,
      `query ($representations: [_Any!]!) { ...Q } fragment Q on Query { ${selection} }`,
      `query ($representations: [_Any!]!) { ... { ...Q } } fragment Q on Query { ... on Query { ${selection} } }`,
    ]) {
      const wrappedRefused = await stack.query(wrapped, { representations: Array.from({ length: 150 }, () => tail) }, await bearer());
      expect(wrappedRefused.status).toBe(400);
      expect(wrappedRefused.body.errors?.[0]?.extensions).toMatchObject({ code: "QUERY_LIMIT_EXCEEDED", limit: "MAX_RESULT_CONTACTS" });
    }
    expect(stack.emulator.calls.total).toBe(0);
    // 130 entities (1,820 contacts) pass: more than MAX_CONTACT_IDS representations are legitimate.
    const served = await stack.query(withChains, { representations: Array.from({ length: 130 }, () => tail) }, await bearer());
    expect(served.body.errors).toBeUndefined();
    expect(served.body.data._entities).toHaveLength(130);
    expect(served.body.data._entities[0].transferChain).toEqual([{ id: alone.Id }]);
  });

  it("charges every entity read to the operation's upstream budget (MAX_UPSTREAM_READS)", async () => {
    const ids = [...stack.emulator.dataset.instances.get(I)!.contacts.keys()].slice(0, 7);
    const { body } = await entities(ids.map((id) => ({ __typename: "Contact", instanceId: I, id })));
    expect(body.data._entities.filter((e: unknown) => e !== null)).toHaveLength(5);
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual(["UPSTREAM_BUDGET_EXCEEDED", "UPSTREAM_BUDGET_EXCEEDED"]);
    expect(stack.emulator.calls.byApi.DescribeContact).toBe(5);
  });
});

// Private: the introspection result of a schema.
function introspect(schema: ReturnType<typeof buildSchema>): IntrospectionQuery {
  const { data, errors } = graphqlSync({ schema, source: getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true }) });
  expect(errors).toBeUndefined();
  return data as unknown as IntrospectionQuery;
}

// Private: introspection with types and directives in name order (the two schemas list them in different orders).
function sorted(result: IntrospectionQuery): unknown {
  const byName = <T extends { name: string }>(list: readonly T[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));
  return { ...result.__schema, types: byName(result.__schema.types as IntrospectionType[]), directives: byName(result.__schema.directives) };
}
