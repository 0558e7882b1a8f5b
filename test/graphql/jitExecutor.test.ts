import { getNamedType, isObjectType, type GraphQLObjectType } from "graphql";
import { SignJWT, type JWTPayload } from "jose";
import { Trace } from "@apollo/usage-reporting-protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { startEmulator, type Emulator, type EmulatorStats } from "../../src/emulator/emulator.js";
import { buildSchema } from "../../src/graphql/schema.js";
import { startStack, type Stack } from "../support/stack.js";

// GRAPHQL_JIT=true must answer exactly as graphql-js does: two gateways on one emulator, one with
// jit, the other without, each request sent to both; the bodies must be the same bytes, the status
// and the upstream calls the same.

const I = DEMO.instanceId;
const SECRET = "jit-executor-test-secret-0123456789abcdef-012345";
const READ: JWTPayload = { scope: "contacts:read", connect_instances: ["*"] };
const READ_PII: JWTPayload = { scope: "contacts:read contacts:pii", connect_instances: ["*"] };
const token = (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime("10m").sign(new TextEncoder().encode(SECRET));

let emulator: Emulator;
let graphqlJs: Stack;
let jit: Stack;

beforeAll(async () => {
  emulator = await startEmulator({ quota: false });
  // No cache of any kind: each request reads what it needs from the emulator, so both gateways make
  // the same calls for it; the higher limits let the whole schema through in one document.
  const env = { AUTH_MODE: "jwt", AUTH_JWT_SECRET: SECRET, CACHE_TTL_SECONDS: "0", RESPONSE_CACHE: "false", MAX_COST: "100000", MAX_TOKENS: "50000" };
  graphqlJs = await startStack({ sharedEmulator: emulator, env: { ...env, GRAPHQL_JIT: "false" } });
  jit = await startStack({ sharedEmulator: emulator, env: { ...env, GRAPHQL_JIT: "true" } });
});
afterAll(async () => {
  await jit?.close();
  await graphqlJs?.close();
  await emulator?.close();
});

interface Answer {
  status: number;
  text: string;
  calls: EmulatorStats["byKey"];
}

/** One POST to `stack`, its body's exact bytes (upstream request ids aside) and the emulator calls it made (per API, per resource). */
async function send(stack: Stack, body: unknown, claims: JWTPayload): Promise<Answer> {
  emulator.resetStats();
  const response = await fetch(stack.url, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${await token(claims)}` },
    body: JSON.stringify(body),
  });
  // The emulator gives each answer its own request id, which upstream errors carry.
  const text = (await response.text()).replace(/"requestId":"[^"]*"/g, '"requestId":"…"');
  return { status: response.status, text, calls: structuredClone(emulator.calls.byKey) };
}

/** The same request to both gateways; the jit gateway's answer must equal graphql-js's. */
async function both(body: unknown, claims: JWTPayload = READ_PII): Promise<{ answer: Answer; ranJit: boolean }> {
  const expected = await send(graphqlJs, body, claims);
  const before = { ...jit.gateway.jit!.runs };
  const actual = await send(jit, body, claims);
  expect(actual.status).toBe(expected.status);
  expect(actual.text).toBe(expected.text);
  expect(actual.calls).toEqual(expected.calls);
  return { answer: actual, ranJit: jit.gateway.jit!.runs.jit > before.jit };
}

const RELATIONS = new Set(["previousContact", "initialContact", "relatedContact", "transferChain"]);

/** Every field of `type` that takes no required argument, objects to `repeat` levels of the same type, contact relations left out. */
function selectAll(type: GraphQLObjectType, path: string[] = [], repeat = 2): string {
  return Object.values(type.getFields())
    .filter((f) => !RELATIONS.has(f.name) && f.args.every((a) => a.type.toString().slice(-1) !== "!"))
    .map((f) => {
      const named = getNamedType(f.type);
      if (!isObjectType(named)) return f.name;
      if (path.filter((t) => t === named.name).length >= repeat) return null;
      return `${f.name} { ${selectAll(named, [...path, named.name], repeat)} }`;
    })
    .filter(Boolean)
    .join(" ");
}

const contactType = buildSchema().getType("Contact") as GraphQLObjectType;

/**
 * The fully populated contact and a transfer chain: every field (DateTime, Long, lists, entries,
 * the queue and agent joins, references, attributes), every relation with every field, a missing
 * contact (NOT_FOUND at its path), and lists with a missing contact in the middle and last (graphql-jit
 * 0.8.9 alone moves a failed item's null to the end of its list: see `withSettledListItems`).
 */
const RICH = `
query Rich($i: ID!, $full: ID!, $chain: ID!, $missing: ID!) {
  full: contact(instanceId: $i, contactId: $full) { ...Related }
  chain: contact(instanceId: $i, contactId: $chain) { ...Related }
  missing: contact(instanceId: $i, contactId: $missing) { id name }
  list: contacts(instanceId: $i, contactIds: [$full, $missing, $chain]) { __typename id channel name previousContact { id } }
  lastMissing: contacts(instanceId: $i, contactIds: [$chain, $missing]) { id }
}
fragment Related on Contact {
  ...All
  previousContact { ...All }
  initialContact { ...All }
  relatedContact { ...All }
  transferChain { id channel initiationTimestamp customerEndpoint { address } }
}
fragment All on Contact { ${selectAll(contactType, ["Contact"])} }
`;
const RICH_VARIABLES = { i: I, full: DEMO.fullContactId, chain: DEMO.relatedChainContactId, missing: DEMO.missingContactId };

describe("GRAPHQL_JIT=true answers as graphql-js does", () => {
  it("compiles the rich query and answers it byte for byte, with the caller allowed personal data", async () => {
    const { answer, ranJit } = await both({ query: RICH, variables: RICH_VARIABLES, operationName: "Rich" }, READ_PII);
    expect(ranJit).toBe(true);
    const body = JSON.parse(answer.text);
    expect(body.data.full.id).toBe(DEMO.fullContactId);
    expect(body.data.missing).toBeNull();
    expect(body.data.list[1]).toBeNull();
    expect(body.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(["NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);
    expect(body.data.lastMissing).toEqual([{ id: DEMO.relatedChainContactId }, null]);
    expect(body.extensions).toBeUndefined();
    expect(answer.calls.DescribeContact[`${I}/${DEMO.fullContactId}`]).toBe(1);
  });

  it("masks personal fields and lists them in extensions.redacted, for a caller without contacts:pii", async () => {
    const { answer, ranJit } = await both({ query: RICH, variables: RICH_VARIABLES }, READ);
    expect(ranJit).toBe(true);
    const body = JSON.parse(answer.text);
    expect(body.data.full.name).toBe("[REDACTED]");
    expect(body.extensions.redacted).toContain("Contact.customerEndpoint");
  });

  it("answers NOT_FOUND alone (data null at the field) as graphql-js does", async () => {
    const { answer, ranJit } = await both({ query: `query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id arn } }`, variables: { i: I, c: DEMO.missingContactId } });
    expect(ranJit).toBe(true);
    expect(JSON.parse(answer.text).errors[0].extensions.code).toBe("NOT_FOUND");
  });

  it("refuses an unreadable instance (FORBIDDEN, the root-field check) and bad arguments as graphql-js does", async () => {
    const limited = { scope: "contacts:read", connect_instances: [DEMO.secondInstanceId] };
    const forbidden = await both({ query: `{ a: contact(instanceId: "${I}", contactId: "${DEMO.fullContactId}") { id } b: contact(instanceId: "${DEMO.secondInstanceId}", contactId: "not an id!") { id } }` }, limited);
    expect(forbidden.ranJit).toBe(true);
    expect(JSON.parse(forbidden.answer.text).errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual(["FORBIDDEN", "BAD_USER_INPUT"]);
    expect(forbidden.answer.calls.DescribeContact).toEqual({});
  });

  it("refuses variables with graphql-js's words and code (BAD_USER_INPUT, HTTP 400)", async () => {
    const { answer } = await both({ query: `query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id } }`, variables: { i: I, c: { not: "an id" } } });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text).errors[0].extensions.code).toBe("BAD_USER_INPUT");
  });

  it("refuses every kind of bad variable with graphql-js's words, code and status, and sends nothing upstream", async () => {
    const contact = `query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id } }`;
    const search = `query ($i: ID!, $range: ContactSearchTimeRangeInput!, $criteria: ContactSearchCriteriaInput, $first: Int, $after: String) {
      searchContacts(instanceId: $i, timeRange: $range, criteria: $criteria, first: $first, after: $after) { nodes { id } }
    }`;
    const range = { startTime: "2026-10-10T00:00:00.000Z", endTime: "2026-10-17T00:00:00.000Z" };
    const refused: Array<[string, string, Record<string, unknown>]> = [
      ["an ID that is a fraction", contact, { i: I, c: 1.5 }],
      ["an ID that is a boolean", contact, { i: I, c: true }],
      ["a required variable missing", contact, { i: I }],
      ["null for a non-null variable", contact, { i: I, c: null }],
      ["an Int beyond 32 bits", search, { i: I, range, first: 2 ** 31 }],
      ["an Int that is a fraction", search, { i: I, range, first: 2.5 }],
      ["an Int given as a string", search, { i: I, range, first: "10" }],
      ["a String given as a number", search, { i: I, range, after: 5 }],
      ["a DateTime that is no timestamp", search, { i: I, range: { ...range, startTime: "yesterday" } }],
      ["an input object missing a required field", search, { i: I, range: { startTime: range.startTime } }],
      ["an input object with an unknown field", search, { i: I, range: { ...range, unknown: 1 } }],
      ["a list with an item of the wrong type", search, { i: I, range, criteria: { channels: ["VOICE", 7] } }],
      ["an input object given as a string", search, { i: I, range: "2026-10-10" }],
    ];
    for (const [what, query, variables] of refused) {
      const { answer, ranJit } = await both({ query, variables });
      expect(answer.status, what).toBe(400);
      expect(JSON.parse(answer.text).errors[0].extensions.code, what).toBe("BAD_USER_INPUT");
      expect(emulator.calls.total, what).toBe(0);
      expect(ranJit, what).toBe(false);
    }
    // Coercions graphql-js accepts run compiled: an integer ID, one value for a list.
    expect((await both({ query: contact, variables: { i: I, c: 12345 } })).ranJit, "an integer ID").toBe(true);
    const list = `query ($i: ID!, $ids: [ID!]!) { contacts(instanceId: $i, contactIds: $ids) { id } }`;
    expect((await both({ query: list, variables: { i: I, ids: DEMO.fullContactId } })).ranJit, "one value for a list").toBe(true);
  });

  it("answers a document jit cannot compile (two operations, none named) through graphql-js", async () => {
    const { answer, ranJit } = await both({ query: `query A { __typename } query B { __typename }` });
    expect(ranJit).toBe(false);
    expect(answer.status).toBe(400);
  });

  it("runs an `@include(if: $v)` given an explicit null through graphql-js, which refuses it where jit would drop the field", async () => {
    const query = `query ($v: Boolean = true) { contact(instanceId: "${I}", contactId: "${DEMO.fullContactId}") { id channel @include(if: $v) } }`;
    const withNull = await both({ query, variables: { v: null } });
    expect(withNull.ranJit).toBe(false);
    const withValue = await both({ query, variables: { v: false } });
    expect(withValue.ranJit).toBe(true);
  });

  it("answers a field aliased __proto__ through graphql-js (jit's object literal would drop it)", async () => {
    const { answer, ranJit } = await both({ query: `{ __proto__: __typename x: __typename }` });
    expect(ranJit).toBe(false);
    expect(JSON.parse(answer.text)).toEqual(JSON.parse('{"data":{"__proto__":"Query","x":"Query"}}'));
  });

  it("answers a subscription sent over HTTP with graphql-js, as without jit", async () => {
    const { ranJit } = await both({ query: `subscription { contactEvents(instanceId: "${I}") { eventType } }` });
    expect(ranJit).toBe(false);
  });
});

describe("GRAPHQL_JIT=true with FEDERATION=true", () => {
  let subgraph: Stack;
  let subgraphJit: Stack;
  beforeAll(async () => {
    const env = { CACHE_TTL_SECONDS: "0", RESPONSE_CACHE: "false", FEDERATION: "true" };
    subgraph = await startStack({ sharedEmulator: emulator, env: { ...env, GRAPHQL_JIT: "false" } });
    subgraphJit = await startStack({ sharedEmulator: emulator, env: { ...env, GRAPHQL_JIT: "true" } });
  });
  afterAll(async () => {
    await subgraphJit?.close();
    await subgraph?.close();
  });

  const ENTITIES = `query ($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Contact { id channel name queueInfo { queue { name } } previousContact { id } } ... on Queue { name } } }`;
  const representations = [
    { __typename: "Contact", instanceId: I, id: DEMO.fullContactId },
    { __typename: "Queue", queueArn: `${DEMO.instanceArn}/queue/${DEMO.queueId}` },
    { __typename: "Contact", instanceId: I, id: DEMO.missingContactId },
  ];

  it("resolves _entities through jit, byte for byte as graphql-js", async () => {
    const [expected, before] = [await subgraph.query(ENTITIES, { r: representations }), subgraphJit.gateway.jit!.runs.jit];
    const actual = await subgraphJit.query(ENTITIES, { r: representations });
    expect(subgraphJit.gateway.jit!.runs.jit).toBe(before + 1);
    const scrub = (body: unknown) => JSON.stringify(body).replace(/"requestId":"[^"]*"/g, "");
    expect(scrub(actual.body)).toBe(scrub(expected.body));
    expect(actual.body.data._entities[0].id).toBe(DEMO.fullContactId);
  });

  it("runs a request for an inline trace (ftv1) on graphql-js, so Apollo's per-field hooks still build the trace", async () => {
    const { runs } = subgraphJit.gateway.jit!;
    const before = { ...runs };
    const query = `{ contact(instanceId: "${I}", contactId: "${DEMO.fullContactId}") { id channel previousContact { id } } }`;
    const traced = await subgraphJit.query(query, undefined, { "apollo-federation-include-trace": "ftv1" });
    expect(runs.graphqlJs).toBe(before.graphqlJs + 1);
    const trace = Trace.decode(Buffer.from(traced.body.extensions!.ftv1, "base64"));
    expect(trace.root?.child?.[0]?.responseName).toBe("contact");
    // A later request without the header still runs compiled code.
    await subgraphJit.query(query);
    expect(runs.jit).toBe(before.jit + 1);
  });
});
