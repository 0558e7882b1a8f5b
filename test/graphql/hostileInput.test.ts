import type { Contact } from "@aws-sdk/client-connect";
import fc from "fast-check";
import { getNamedType, isNonNullType, isObjectType, type GraphQLObjectType } from "graphql";
import { SignJWT } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CONTACT_ID_MAX, INSTANCE_ID_MAX, idProblem, parseContactArn } from "../../src/domain/contactRef.js";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { DEMO } from "../../src/emulator/dataset.js";
import { buildSchema } from "../../src/graphql/schema.js";
import { chainBack } from "../support/chains.js";
import { send, type HttpAnswer } from "../support/http.js";
import { startStack, type Stack } from "../support/stack.js";

/**
 * A corpus of hostile and malformed requests. Each is refused with its HTTP status and a code, and
 * the emulator receives no call at all; none makes the gateway answer 500 or stop serving.
 */

const I = DEMO.instanceId;
const SECRET = "hostile-test-secret-0123456789abcdef-0123456789";
let emulator: Emulator;
/** Emulator mode, every default limit, no authentication. */
let open: Stack;
/** Production posture: aws mode (introspection and GraphiQL off, JWT required), pointed at the emulator. */
let prod: Stack;
/** Small limits: 3 upstream reads per operation, 3 ids per list, CORS for one origin, HTTP batching on. */
let tight: Stack;
let token: string;

beforeAll(async () => {
  // The data set also in ap-northeast-1, for the spec that reads an ARN of another callable region.
  emulator = await startEmulator({ quota: false, regions: [DEMO.region, "ap-northeast-1"] });
  open = await startStack({ sharedEmulator: emulator, env: { CACHE_TTL_SECONDS: "0" } });
  prod = await startStack({
    sharedEmulator: emulator,
    env: { CONNECT_MODE: "aws", AWS_REGION: DEMO.region, AUTH_JWT_SECRET: SECRET, CACHE_TTL_SECONDS: "0" },
  });
  tight = await startStack({
    sharedEmulator: emulator,
    env: { CACHE_TTL_SECONDS: "0", MAX_UPSTREAM_READS: "3", MAX_CONTACT_IDS: "3", CORS_ORIGINS: "https://app.example.com", HTTP_BATCHING: "true" },
  });
  token = await new SignJWT({ scope: "contacts:read contacts:pii", connect_instances: ["*"] })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime("10m")
    .sign(new TextEncoder().encode(SECRET));
});
afterAll(async () => {
  await Promise.all([open?.close(), prod?.close(), tight?.close()]);
  await emulator?.close();
});
beforeEach(() => emulator.resetStats());

/** Sends `init` to the stack's GraphQL endpoint (`search` is the query string of a GET). */
const sendTo = (stack: Stack, init: RequestInit & { search?: string }): Promise<HttpAnswer> => send(stack.url + (init.search ?? ""), init);

/** A POST of `body` exactly as given, under any content type: most of the corpus is bodies no JSON client would send. */
const rawPost = (body: string, contentType = "application/json", headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": contentType, ...headers },
  body,
});
const gql = (query: string, variables?: Record<string, unknown>) => rawPost(JSON.stringify({ query, variables }));

function expectRefused(answer: HttpAnswer, status: number, code: string): void {
  expect(answer.status, JSON.stringify(answer.body).slice(0, 300)).toBe(status);
  expect(answer.body.errors?.[0]?.extensions?.code, JSON.stringify(answer.body).slice(0, 300)).toBe(code);
  expect(emulator.calls.total).toBe(0);
}

/** `field { field { … } }` n levels deep around `inner`. */
const nest = (field: string, n: number, inner: string) => {
  let s = inner;
  for (let i = 0; i < n; i++) s = `${field} { ${s} }`;
  return s;
};

/** Every field of the contact except relations; recursive types expanded `repeat` levels. */
function allFields(repeat: number): string {
  const select = (type: GraphQLObjectType, path: string[]): string =>
    Object.values(type.getFields())
      .filter((f) => getNamedType(f.type).name !== "Contact" && f.args.every((a) => !isNonNullType(a.type)))
      .map((f) => {
        const named = getNamedType(f.type);
        if (!isObjectType(named)) return f.name;
        if (path.filter((t) => t === named.name).length >= repeat) return "";
        return `${f.name} { ${select(named, [...path, named.name])} }`;
      })
      .filter(Boolean)
      .join(" ");
  return select(buildSchema().getType("Contact") as GraphQLObjectType, []);
}

/** The contacts of the long demo chain, tail first. */
const chain = (): Contact[] => chainBack(emulator.dataset, I, DEMO.longChainTailId);

describe("malformed HTTP requests", () => {
  const cases: Array<[string, () => RequestInit & { search?: string }, number, string]> = [
    ["a body over BODY_LIMIT_BYTES", () => rawPost(JSON.stringify({ query: "{ __typename }", padding: "x".repeat(150_000) })), 413, "PAYLOAD_TOO_LARGE"],
    ["malformed JSON", () => rawPost('{ "query": "{ __typename }"'), 400, "BAD_REQUEST"],
    ["an empty JSON body", () => rawPost(""), 400, "BAD_REQUEST"],
    ["a JSON body that is not an object", () => rawPost("[1, 2, 3]"), 400, "BAD_REQUEST"],
    ["a JSON string body", () => rawPost('"{ __typename }"'), 400, "BAD_REQUEST"],
    ["a body with a __proto__ key", () => rawPost('{"query":"{ __typename }","__proto__":{"polluted":true}}'), 400, "BAD_REQUEST"],
    ["a query that is not a string", () => rawPost('{"query": 42}'), 400, "BAD_REQUEST"],
    ["no query at all", () => rawPost('{"variables": {}}'), 400, "BAD_REQUEST"],
    ["a batch while HTTP_BATCHING is off", () => rawPost(JSON.stringify([{ query: "{ __typename }" }, { query: "{ __typename }" }])), 400, "BAD_REQUEST"],
    ["application/xml", () => rawPost("<query>{ __typename }</query>", "application/xml"), 415, "BAD_REQUEST"],
    ["a url-encoded form", () => rawPost("query=%7B__typename%7D", "application/x-www-form-urlencoded"), 415, "BAD_REQUEST"],
    ["multipart/form-data", () => rawPost("--x\r\n\r\n{ __typename }\r\n--x--", "multipart/form-data; boundary=x"), 415, "BAD_REQUEST"],
    ["text/plain (a CSRF-able simple request)", () => rawPost(JSON.stringify({ query: "{ __typename }" }), "text/plain"), 400, "BAD_REQUEST"],
    ["a GET without a preflight-forcing header (CSRF)", () => ({ method: "GET", search: "?query=%7B__typename%7D" }), 400, "BAD_REQUEST"],
  ];

  it.each(cases)("refuses %s with its status and a code, and calls nothing upstream", async (_, request, status, code) => {
    expectRefused(await sendTo(open, request()), status, code);
  });

  it("answers variables nested 20,000 levels deep: 200 when unused, BAD_USER_INPUT with no upstream call when used", async () => {
    const deep = `${"[".repeat(20_000)}${"]".repeat(20_000)}`;
    const unused = await sendTo(open, rawPost(`{"query":"{ __typename }","variables":{"v":${deep}}}`));
    expect(unused.status).toBe(200);
    const used = await sendTo(open, rawPost(`{"query":"query ($ids: [ID!]!) { contacts(instanceId: \\"${I}\\", contactIds: $ids) { id } }","variables":{"ids":${deep}}}`));
    expectRefused(used, 400, "BAD_USER_INPUT");
  });
});

describe("hostile GraphQL documents", () => {
  const contact = (selection: string) => `{ contact(instanceId: "${I}", contactId: "${DEMO.longChainTailId}") { ${selection} } }`;
  let fragmentChain = "fragment F0 on Contact { id }";
  for (let i = 1; i <= 13; i++) fragmentChain += ` fragment F${i} on Contact { previousContact { ...F${i - 1} } }`;
  // Each fragment spreads the previous one twice: 2^30 fields once expanded, from a 1 kB document.
  let fragmentBomb = "fragment B0 on Contact { id channel }";
  for (let i = 1; i <= 30; i++) fragmentBomb += ` fragment B${i} on Contact { ...B${i - 1} ...B${i - 1} }`;
  const relationsMixed = ["previousContact", "initialContact", "relatedContact"];
  let mixed = "id";
  for (let i = 0; i < 13; i++) mixed = `${relationsMixed[i % 3]} { ${mixed} }`;

  const cases: Array<[string, string, string | undefined, number, string]> = [
    ["a syntax error", "{ contact(", undefined, 400, "GRAPHQL_PARSE_FAILED"],
    ["an unknown field", contact("nope"), undefined, 400, "GRAPHQL_VALIDATION_FAILED"],
    ["an unknown operation name", "query A { __typename }", "B", 400, "OPERATION_RESOLUTION_FAILURE"],
    ["13 previousContact hops (MAX_CONTACT_HOPS 12)", contact(nest("previousContact", 13, "id")), "MAX_CONTACT_HOPS", 400, "QUERY_LIMIT_EXCEEDED"],
    ["13 hops mixing the three relations", contact(mixed), "MAX_CONTACT_HOPS", 400, "QUERY_LIMIT_EXCEEDED"],
    ["13 hops hidden in a chain of fragments", `${contact("...F13")} ${fragmentChain}`, "MAX_CONTACT_HOPS", 400, "QUERY_LIMIT_EXCEEDED"],
    [
      "a selection 25 deep (MAX_QUERY_DEPTH 24)",
      contact(`routingCriteria { steps { ${nest("andExpression", 21, "attributeCondition { name }").replace(/^andExpression/, "expression")} } }`),
      "MAX_QUERY_DEPTH",
      400,
      "QUERY_LIMIT_EXCEEDED",
    ],
    ["31 aliases (MAX_ALIASES 30)", contact(Array.from({ length: 31 }, (_, i) => `a${i}: id`).join(" ")), "MAX_ALIASES", 400, "QUERY_LIMIT_EXCEEDED"],
    ["a fragment bomb (each fragment spreads the previous one)", `${contact("...B30")} ${fragmentBomb}`, "MAX_COST", 400, "QUERY_LIMIT_EXCEEDED"],
    ["a document of 13,000 tokens (MAX_TOKENS 12000)", `{ ${"a ".repeat(13_000)} }`, "MAX_TOKENS", 400, "QUERY_LIMIT_EXCEEDED"],
    ["51 directives (MAX_DIRECTIVES 50)", contact("id @include(if: true) ".repeat(51)), "MAX_DIRECTIVES", 400, "QUERY_LIMIT_EXCEEDED"],
    ["a fragment cycle", `${contact("...X")} fragment X on Contact { previousContact { ...Y } } fragment Y on Contact { initialContact { ...X } }`, undefined, 400, "GRAPHQL_VALIDATION_FAILED"],
    // 1 + 13 + 13² + 13³ contacts from one 12-contact chain, all cached after the first read: it grew
    // as 13ⁿ (twelve levels: a 149 MB answer, 27 s of a blocked process, no upstream call).
    ["transferChain inside transferChain three deep (MAX_RESULT_CONTACTS 2000)", contact(nest("transferChain", 3, "id")), "MAX_RESULT_CONTACTS", 400, "QUERY_LIMIT_EXCEEDED"],
    ["transferChain inside transferChain under 100 ids", `query ($ids: [ID!]!) { contacts(instanceId: "${I}", contactIds: $ids) { ${nest("transferChain", 2, "id")} } }`, "MAX_RESULT_CONTACTS", 400, "QUERY_LIMIT_EXCEEDED"],
    ["nested transferChains hidden in fragments", `${contact("...T3")} fragment T1 on Contact { transferChain { id } } fragment T2 on Contact { transferChain { ...T1 } } fragment T3 on Contact { transferChain { ...T2 } }`, "MAX_RESULT_CONTACTS", 400, "QUERY_LIMIT_EXCEEDED"],
    [
      "nested transferChains beside a search whose negative `first` would offset them",
      `{ neg: searchContacts(instanceId: "${I}", timeRange: { startTime: "2026-10-01T00:00:00Z", endTime: "2026-10-02T00:00:00Z" }, first: -2147483648) { nodes { id } } c: contact(instanceId: "${I}", contactId: "${DEMO.longChainTailId}") { ${nest("transferChain", 4, "id")} } }`,
      "MAX_RESULT_CONTACTS",
      400,
      "QUERY_LIMIT_EXCEEDED",
    ],
    ["a search page of 100 with nested transferChains", `{ searchContacts(instanceId: "${I}", timeRange: { startTime: "2026-10-01T00:00:00Z", endTime: "2026-10-02T00:00:00Z" }, first: 100) { nodes { ${nest("transferChain", 2, "id")} } } }`, "MAX_RESULT_CONTACTS", 400, "QUERY_LIMIT_EXCEEDED"],
  ];

  it.each(cases)("refuses %s before it runs, with no upstream call", async (_, query, limitOrOperation, status, code) => {
    const operationName = limitOrOperation === "B" ? "B" : undefined;
    const answer = await sendTo(open, rawPost(JSON.stringify({ query, operationName })));
    expectRefused(answer, status, code);
    if (code === "QUERY_LIMIT_EXCEEDED") expect(answer.body.errors.map((e: any) => e.extensions.limit)).toContain(limitOrOperation);
  });

  it("refuses variables of the wrong type as BAD_USER_INPUT", async () => {
    const answer = await sendTo(open, gql(`query ($i: ID!) { contact(instanceId: $i, contactId: "x") { id } }`, { i: { $gt: "" } }));
    expectRefused(answer, 400, "BAD_USER_INPUT");
  });
});

describe("bad arguments", () => {
  const cases: Array<[string, string, string]> = [
    ["a contact id with a path", `{ contact(instanceId: "${I}", contactId: "../../etc/passwd") { id } }`, "contactId"],
    ["an empty instance id", `{ contact(instanceId: "", contactId: "abc") { id } }`, "instanceId"],
    ["an instance id over 100 characters", `{ contact(instanceId: "${"a".repeat(101)}", contactId: "abc") { id } }`, "instanceId"],
    ["a contact id over 256 characters", `{ contact(instanceId: "${I}", contactId: "${"a".repeat(257)}") { id } }`, "contactId"],
    ["an id with a control character", `{ contact(instanceId: "${I}", contactId: "abc\\u0000") { id } }`, "contactId"],
    ["an id with a space", `{ contact(instanceId: "${I} ", contactId: "abc") { id } }`, "instanceId"],
    ["an ARN of another service", `{ contactByArn(arn: "arn:aws:s3:::bucket/key") { id } }`, "arn"],
    ["an ARN with a traversal", `{ contactByArn(arn: "arn:aws:connect:us-east-1:123456789012:instance/${I}/contact/..%2F..") { id } }`, "arn"],
    ["a 101-id list (MAX_CONTACT_IDS 100)", `{ contacts(instanceId: "${I}", contactIds: [${Array.from({ length: 101 }, (_, i) => `"c${i}"`).join(",")}]) { id } }`, "contactIds"],
    ["a list with one bad id", `{ contacts(instanceId: "${I}", contactIds: ["${DEMO.fullContactId}", "a/b"]) { id } }`, "contactIds[1]"],
  ];

  it.each(cases)("refuses %s as BAD_USER_INPUT naming the argument, with no upstream call", async (_, query, argument) => {
    const answer = await sendTo(open, gql(query));
    expectRefused(answer, 200, "BAD_USER_INPUT");
    expect(answer.body.errors[0].extensions.argument).toBe(argument);
    expect(answer.body.errors[0].message).toContain(`"${argument}"`);
  });

  it("refuses an ARN in a region the gateway may not call, with BAD_USER_INPUT and no upstream call", async () => {
    // The shape of a region, in none of CONNECT_REGIONS (by default, the regions Connect is offered in).
    const instanceArn = (region: string) => `arn:aws:connect:${region}:${DEMO.accountId}:instance/${I}`;
    const contactArn = (region: string) => `${instanceArn(region)}/contact/${DEMO.fullContactId}`;
    const range = `timeRange: { startTime: "2026-01-01T00:00:00Z", endTime: "2026-01-02T00:00:00Z" }`;
    const asked: Array<[string, Record<string, string>, string]> = [
      [`query ($i: ID!) { contact(instanceId: $i, contactId: "${DEMO.fullContactId}") { id } }`, { i: instanceArn("us-east-7") }, "instanceId"],
      [`query ($i: ID!) { contacts(instanceId: $i, contactIds: ["${DEMO.fullContactId}"]) { id } }`, { i: instanceArn("eu-north-42") }, "instanceId"],
      [`query ($a: String!) { contactByArn(arn: $a) { id } }`, { a: contactArn("us-east-8") }, "arn"],
      [`query ($i: ID!) { searchContacts(instanceId: $i, ${range}) { totalCount } }`, { i: instanceArn("xx-nowhere-1") }, "instanceId"],
    ];
    const region = await sendTo(open, gql(asked[0]![0], asked[0]![1]));
    expect(region.body.errors[0].message).toBe('Argument "instanceId" names the region "us-east-7", which this gateway does not call (see its CONNECT_REGIONS).');
    for (const [stack, headers] of [
      [open, {}],
      [prod, { authorization: `Bearer ${token}` }],
    ] as const) {
      for (const [query, variables, argument] of asked) {
        const answer = await sendTo(stack, { ...gql(query, variables), headers: { "content-type": "application/json", ...headers } });
        expectRefused(answer, 200, "BAD_USER_INPUT");
        expect(answer.body.errors[0].extensions.argument).toBe(argument);
        expect(answer.body.errors[0].message).toContain(`"${argument}"`);
      }
    }
    // A subscription's instance too (graphql-sse, one request per subscription).
    const stream = await fetch(`${open.url}/stream`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ query: `subscription ($i: ID!) { contactEvents(instanceId: $i) { eventId } }`, variables: { i: instanceArn("us-east-9") } }),
    });
    const next = JSON.parse(/event: next\ndata: (.*)\n/.exec(await stream.text())![1]!);
    expect(next.errors[0].extensions).toEqual({ code: "BAD_USER_INPUT", argument: "instanceId" });
    expect(emulator.calls.total).toBe(0);
    // What the reviewer sent, 2,000 times: every bogus region is refused, none is called.
    for (let n = 0; n < 50; n++) {
      const answer = await sendTo(prod, { ...gql(`query ($i: ID!) { contact(instanceId: $i, contactId: "c-${n}") { id } }`, { i: instanceArn(`us-east-${n + 3}`) }), headers: { "content-type": "application/json", authorization: `Bearer ${token}` } });
      expectRefused(answer, 200, "BAD_USER_INPUT");
    }
  });

  it("still reads an ARN of any region the gateway may call", async () => {
    const answer = await sendTo(open, gql(`query ($a: String!) { contactByArn(arn: $a) { id region } }`, { a: `arn:aws:connect:ap-northeast-1:${DEMO.accountId}:instance/${I}/contact/${DEMO.fullContactId}` }));
    expect(answer.body.data.contactByArn).toEqual({ id: DEMO.fullContactId, region: "ap-northeast-1" });
    expect(emulator.calls.byRegion).toEqual({ "ap-northeast-1": { DescribeContact: 1 } });
  });

  it("takes the contactIds limit from MAX_CONTACT_IDS", async () => {
    const answer = await sendTo(tight, gql(`{ contacts(instanceId: "${I}", contactIds: ["a", "b", "c", "d"]) { id } }`));
    expectRefused(answer, 200, "BAD_USER_INPUT");
    expect(answer.body.errors[0].message).toContain("at most 3");
  });
});

describe("random input (property-based)", () => {
  const anyId = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: "binary", maxLength: 40 }), fc.constantFrom("", " ", "a/b", "..", "%2F", "a\u0000", "é", "x".repeat(257)));

  it("answers every random contact id with BAD_USER_INPUT and no call when malformed, and at most one call otherwise", async () => {
    await fc.assert(
      fc.asyncProperty(anyId, anyId, async (instanceId, contactId) => {
        emulator.resetStats();
        const answer = await sendTo(open, gql(`query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id } }`, { i: instanceId, c: contactId }));
        expect(answer.status).toBe(200);
        const malformed = idProblem(instanceId, INSTANCE_ID_MAX) ?? idProblem(contactId, CONTACT_ID_MAX);
        if (malformed) {
          expect(answer.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
          expect(emulator.calls.total).toBe(0);
        } else {
          expect(emulator.calls.total).toBeLessThanOrEqual(1);
        }
      }),
      { numRuns: 60 },
    );
  });

  it("answers every random ARN that does not parse with BAD_USER_INPUT and no call", async () => {
    const arn = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 60 })).map(([region, rest]) => `arn:aws:connect:${region}:123456789012:instance/${rest}`),
    );
    await fc.assert(
      fc.asyncProperty(arn, async (value) => {
        fc.pre(parseContactArn(value) === null);
        emulator.resetStats();
        const answer = await sendTo(open, gql(`query ($a: String!) { contactByArn(arn: $a) { id } }`, { a: value }));
        expect(answer.status).toBe(200);
        expect(answer.body.errors[0].extensions.code).toBe("BAD_USER_INPUT");
        expect(emulator.calls.total).toBe(0);
      }),
      { numRuns: 40 },
    );
  });

  it("never answers random bytes with a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), fc.constantFrom("application/json", "text/plain", "application/graphql-response+json"), async (bytes, contentType) => {
        emulator.resetStats();
        const response = await fetch(open.url, { method: "POST", headers: { "content-type": contentType }, body: bytes });
        await response.text();
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
        expect(emulator.calls.total).toBe(0);
      }),
      { numRuns: 40 },
    );
  });

  it("never answers a random document with a 5xx or an upstream call", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 500 }), async (query) => {
        emulator.resetStats();
        const answer = await sendTo(open, gql(query));
        expect(answer.status).toBeLessThan(500);
        expect(emulator.calls.total).toBe(0);
      }),
      { numRuns: 40 },
    );
  });

  it("answers every random Authorization header with 401 UNAUTHENTICATED in aws mode", async () => {
    const header = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ maxLength: 300 }).map((s) => `Bearer ${s}`), fc.base64String({ maxLength: 400 }).map((s) => `Bearer eyJhbGciOiJIUzI1NiJ9.${s}.${s}`));
    await fc.assert(
      fc.asyncProperty(header, async (authorization) => {
        fc.pre(/^[\t\x20-\x7e]*$/.test(authorization)); // what an HTTP client can send at all
        emulator.resetStats();
        const answer = await sendTo(prod, { ...gql(`{ contact(instanceId: "${I}", contactId: "${DEMO.fullContactId}") { id } }`), headers: { "content-type": "application/json", authorization } });
        expectRefused(answer, 401, "UNAUTHENTICATED");
      }),
      { numRuns: 40 },
    );
  });
});

describe("production posture (aws mode)", () => {
  const auth = () => ({ "content-type": "application/json", authorization: `Bearer ${token}` });

  it("serves nothing without a token", async () => {
    const answer = await sendTo(prod, gql(`{ contact(instanceId: "${I}", contactId: "${DEMO.fullContactId}") { id } }`));
    expectRefused(answer, 401, "UNAUTHENTICATED");
  });

  it("refuses introspection unless GRAPHQL_INTROSPECTION=true", async () => {
    const answer = await sendTo(prod, { ...gql("{ __schema { types { name } } }"), headers: auth() });
    expectRefused(answer, 400, "GRAPHQL_VALIDATION_FAILED");
    expect(answer.body.errors[0].message).toContain("introspection");
  });

  it("does not suggest field names when introspection is off", async () => {
    const answer = await sendTo(prod, { ...gql(`{ contact(instanceId: "${I}", contactId: "x") { customerEndpointt { address } } }`), headers: auth() });
    expectRefused(answer, 400, "GRAPHQL_VALIDATION_FAILED");
    expect(answer.body.errors[0].message).not.toContain("Did you mean");
  });

  it("does not serve the GraphiQL page unless GRAPHIQL=true", async () => {
    const response = await fetch(prod.url, { headers: { accept: "text/html" } });
    const text = await response.text();
    expect(response.headers.get("content-type") ?? "").not.toContain("text/html");
    expect(text).not.toContain("<html");
    expect(emulator.calls.total).toBe(0);
  });

  it("answers a query with a valid token, reading the contact once", async () => {
    const answer = await sendTo(prod, { ...gql(`{ contact(instanceId: "${I}", contactId: "${DEMO.fullContactId}") { id } }`), headers: auth() });
    expect(answer.status).toBe(200);
    expect(answer.body.data.contact.id).toBe(DEMO.fullContactId);
    expect(emulator.calls.byApi.DescribeContact).toBe(1);
  });
});

describe("upstream budget", () => {
  it("reads at most MAX_UPSTREAM_READS contacts per operation; the rest fail with UPSTREAM_BUDGET_EXCEEDED and are never called", async () => {
    // Every other contact of the chain, so no contact's previous contact is one of them.
    const ids = chain()
      .filter((_, i) => i % 2 === 0)
      .map((c) => c.Id!);
    const answer = await sendTo(tight, gql(`query ($ids: [ID!]!) { contacts(instanceId: "${I}", contactIds: $ids) { id } }`, { ids: ids.slice(0, 3) }));
    expect(answer.body.errors).toBeUndefined();
    emulator.resetStats();

    const { status, body } = await sendTo(tight, gql(`query ($ids: [ID!]!) { contacts(instanceId: "${I}", contactIds: $ids) { id previousContact { id } } }`, { ids: ids.slice(0, 3) }));
    expect(status).toBe(200);
    expect(emulator.calls.byApi.DescribeContact).toBe(3);
    expect(body.data.contacts.map((c: any) => c.id)).toEqual(ids.slice(0, 3));
    expect(body.data.contacts.map((c: any) => c.previousContact)).toEqual([null, null, null]);
    expect(body.errors).toHaveLength(3);
    for (const error of body.errors) {
      expect(error.extensions).toMatchObject({ code: "UPSTREAM_BUDGET_EXCEEDED", limit: "MAX_UPSTREAM_READS", max: 3, api: "DescribeContact" });
    }
  });

  it("stops a relation chain at the budget: the first hop past it fails with UPSTREAM_BUDGET_EXCEEDED and is never read", async () => {
    const { body } = await sendTo(tight, gql(`{ contact(instanceId: "${I}", contactId: "${DEMO.longChainTailId}") { ${nest("previousContact", 6, "id")} } }`));
    expect(emulator.calls.byApi.DescribeContact).toBe(3);
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].extensions.code).toBe("UPSTREAM_BUDGET_EXCEEDED");
    expect(body.errors[0].path).toEqual(["contact", "previousContact", "previousContact", "previousContact"]);
  });
});

describe("HTTP batching (HTTP_BATCHING=true)", () => {
  it("accepts a batch, and the operations of one HTTP request share one upstream budget", async () => {
    const ids = chain()
      .filter((_, i) => i % 2 === 0)
      .map((c) => c.Id!);
    const op = (a: string, b: string) => ({ query: `{ a: contact(instanceId: "${I}", contactId: "${a}") { id } b: contact(instanceId: "${I}", contactId: "${b}") { id } }` });
    const { status, body } = await sendTo(tight, rawPost(JSON.stringify([op(ids[0]!, ids[1]!), op(ids[2]!, ids[3]!)])));
    expect(status).toBe(200);
    expect(body).toHaveLength(2);
    expect(emulator.calls.byApi.DescribeContact).toBe(3);
    const codes = body.flatMap((r: any) => (r.errors ?? []).map((e: any) => e.extensions.code));
    expect(codes).toEqual(["UPSTREAM_BUDGET_EXCEEDED"]);
  });
});

describe("legitimate front-end queries", () => {
  it("lets one list of contacts with each one's transfer chain through: 100 ids, or a search page of 100, each with transferChain", async () => {
    const ids = chain().map((c) => c.Id!);
    const listed = await sendTo(open, gql(`query ($ids: [ID!]!) { contacts(instanceId: "${I}", contactIds: $ids) { id transferChain { id channel queueInfo { id } } } }`, { ids }));
    expect(listed.body.errors).toBeUndefined();
    expect(listed.body.data.contacts).toHaveLength(ids.length);
    const searched = await sendTo(
      open,
      gql(`{ searchContacts(instanceId: "${I}", timeRange: { startTime: "2026-10-01T00:00:00Z", endTime: "2026-10-31T00:00:00Z" }, first: 100) { nodes { id transferChain { id } } } }`),
    );
    expect(searched.body.errors).toBeUndefined();
  });

  it("lets a contact with every field and previousContact 10 deep through, written out inline", async () => {
    const fields = allFields(3);
    let selection = fields;
    for (let i = 0; i < 10; i++) selection = `${fields} previousContact { ${selection} }`;
    const { status, body } = await sendTo(open, gql(`{ contact(instanceId: "${I}", contactId: "${DEMO.longChainTailId}") { ${selection} } }`));
    expect(status).toBe(200);
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    expect(emulator.calls.byApi.DescribeContact).toBe(11);
  });

  it("lets the same query through written with a fragment", async () => {
    const { status, body } = await sendTo(
      open,
      gql(`{ contact(instanceId: "${I}", contactId: "${DEMO.longChainTailId}") { ${nest("...C previousContact", 10, "...C")} } } fragment C on Contact { ${allFields(3)} }`),
    );
    expect(status).toBe(200);
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    expect(emulator.calls.byApi.DescribeContact).toBe(11);
  });
});

describe("CORS", () => {
  const preflight = (origin: string) =>
    fetch(tight.url, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" } });

  it("allows a configured origin", async () => {
    const response = await preflight("https://app.example.com");
    expect(response.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
  });

  it("does not allow any other origin", async () => {
    const response = await preflight("https://evil.example.net");
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    const post = await fetch(tight.url, { method: "POST", headers: { origin: "https://evil.example.net", "content-type": "application/json" }, body: JSON.stringify({ query: "{ __typename }" }) });
    expect(post.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("allows no cross-origin browser call when CORS_ORIGINS is empty", async () => {
    const response = await fetch(open.url, { method: "OPTIONS", headers: { origin: "https://app.example.com", "access-control-request-method": "POST" } });
    expect(response.headers.get("access-control-allow-origin")).toBeNull();
    expect(emulator.calls.total).toBe(0);
  });
});

describe("after the corpus", () => {
  it("still serves an ordinary query", async () => {
    const answer = await sendTo(open, gql(`{ contact(instanceId: "${I}", contactId: "${DEMO.fullContactId}") { id } }`));
    expect(answer.status).toBe(200);
    expect(answer.body.data.contact.id).toBe(DEMO.fullContactId);
  });
});
