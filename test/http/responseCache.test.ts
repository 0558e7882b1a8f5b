import { ApolloServer } from "@apollo/server";
import { SignJWT, type JWTPayload } from "jose";
import pino from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { DEMO, findContact } from "../../src/emulator/dataset.js";
import type { ContactEventInput } from "../../src/emulator/contactEvents.js";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import type { GatewayContext } from "../../src/graphql/context.js";
import { REDACTED } from "../../src/graphql/redaction.js";
import { ResponseEntities, responseFreshness } from "../../src/graphql/responseEntities.js";
import { createResponseCache } from "../../src/http/responseCache.js";
import { createMetrics, type GatewayMetrics } from "../../src/observability/metrics.js";
import { startLiveStack, waitUntil, type LiveStack } from "../support/liveStack.js";
import { startLoggedGateway, type LogLine } from "../support/loggedGateway.js";
import { deleteKeys, requireSharedRedis, SHARED_REDIS_URL } from "../support/redisServer.js";
import { startStack, type Stack } from "../support/stack.js";

/**
 * The operation response cache: a repeated query is answered with the bytes of its earlier response,
 * without executing it and without any upstream read, for the shortest cache lifetime of what it
 * contains, to callers with the same access only; contact events and `Cache-Control: no-cache`
 * re-reads drop what they change, on every replica.
 */

const I = DEMO.instanceId;
const CONTACT = `query Contact($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id channel disconnectTimestamp queueInfo { queue { name } } } }`;
const STATE = `query State($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id disconnectTimestamp } }`;
const CHANNEL = `query Channel($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id channel } }`;
const TWO = `query Two($i: ID!, $ids: [ID!]!) { contacts(instanceId: $i, contactIds: $ids) { id disconnectTimestamp } }`;
const SECRET = "response-cache-test-secret-0123456789abcdef";

/** What came back, byte for byte. */
interface Raw {
  status: number;
  headers: Headers;
  text: string;
}

/** POSTs one operation as `Stack.query` does, and keeps the body as sent. */
async function post(url: string, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Raw> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json", ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** The value of `graphql_response_cache_total{result}` (0 when never counted). */
async function counted(metrics: GatewayMetrics, result: "hit" | "miss" | "bypass" | "store"): Promise<number> {
  const { values } = await metrics.registry.getSingleMetric("graphql_response_cache_total")!.get();
  return values.find((v) => v.labels.result === result)?.value ?? 0;
}

const token = (claims: JWTPayload) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime("10m").sign(new TextEncoder().encode(SECRET));
const bearer = async (claims: JWTPayload) => ({ authorization: `Bearer ${await token(claims)}` });

let emulator: Emulator;
const open: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  emulator = await startEmulator({ quota: false });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  emulator.resetStats();
});
afterAll(() => emulator?.close());

/** A gateway on the shared emulator with `env`, its metrics readable; closed after the test. */
async function gateway(env: Record<string, string> = {}): Promise<{ stack: Stack; metrics: GatewayMetrics }> {
  const metrics = createMetrics();
  const stack = await startStack({ sharedEmulator: emulator, env, gateway: { metrics } });
  open.push(stack);
  return { stack, metrics };
}

/** A contact in progress, new to every gateway (the emulator applies the event; no gateway here consumes it). */
function newContact(): string {
  return emulator.events.emit({ eventType: "INITIATED", channel: "VOICE" }).detail.contactId;
}

describe("a repeated query", () => {
  it("is answered with the same bytes and headers, with no upstream call of any API", async () => {
    const { stack, metrics } = await gateway();
    const first = await post(stack.url, CONTACT, { i: I, c: DEMO.fullContactId });
    expect(first.status).toBe(200);
    expect(JSON.parse(first.text).errors).toBeUndefined();
    expect(emulator.calls.byApi).toMatchObject({ DescribeContact: 1, DescribeQueue: 1 });

    emulator.resetStats();
    const second = await post(stack.url, CONTACT, { i: I, c: DEMO.fullContactId }, { "x-request-id": "again-1" });
    expect(second.text).toBe(first.text);
    expect(second.status).toBe(200);
    expect(second.headers.get("content-type")).toBe(first.headers.get("content-type"));
    expect(second.headers.get("cache-control")).toBe("no-store");
    expect(second.headers.get("x-request-id")).toBe("again-1");
    expect(emulator.calls.total).toBe(0);
    expect({ miss: await counted(metrics, "miss"), store: await counted(metrics, "store"), hit: await counted(metrics, "hit") }).toEqual({ miss: 1, store: 1, hit: 1 });
    expect(stack.gateway.responseCache!.usage().entries).toBe(1);
  });

  it("is a miss when anything of the request differs: variables, whitespace, the Accept header", async () => {
    const { stack, metrics } = await gateway();
    await post(stack.url, CONTACT, { i: I, c: DEMO.fullContactId });
    await post(stack.url, CONTACT, { i: I, c: DEMO.longChainTailId });
    await post(stack.url, CONTACT.replace("{ id", "{  id"), { i: I, c: DEMO.fullContactId });
    const json = await post(stack.url, CONTACT, { i: I, c: DEMO.fullContactId }, { accept: "application/json" });
    expect(json.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await counted(metrics, "hit")).toBe(0);
    expect(await counted(metrics, "miss")).toBe(4);
    // Each of them is stored under its own key and served again.
    const again = await post(stack.url, CONTACT, { i: I, c: DEMO.fullContactId }, { accept: "application/json" });
    expect(again.text).toBe(json.text);
    expect(again.headers.get("content-type")).toBe(json.headers.get("content-type"));
    expect(await counted(metrics, "hit")).toBe(1);
  });

  it("is written to the operation log as a hit with upstreamCalls 0", async () => {
    const lines: LogLine[] = [];
    const logged = await startLoggedGateway(emulator.url, lines, { CACHE_TTL_SECONDS: "300" });
    open.push(logged.gateway);
    const url = `${logged.url}/graphql`;
    await post(url, CONTACT, { i: I, c: DEMO.fullContactId }, { "x-request-id": "first" });
    await post(url, CONTACT, { i: I, c: DEMO.fullContactId }, { "x-request-id": "second" });
    const operations = lines.filter((l) => l.msg === "operation");
    expect(operations).toHaveLength(2);
    expect(operations[0]).toMatchObject({ requestId: "first", operationName: "Contact", operationType: "query", upstreamCalls: 2, outcome: "ok", responseCache: "miss" });
    expect(operations[1]).toMatchObject({ requestId: "second", operationName: "Contact", operationType: "query", upstreamCalls: 0, outcome: "ok", responseCache: "hit" });
    expect(operations[1]!.durationMs).toEqual(expect.any(Number));
  });

  it("is answered again from the cache over GET, keyed by its URL", async () => {
    const { stack, metrics } = await gateway();
    const params = new URLSearchParams({ query: STATE, variables: JSON.stringify({ i: I, c: DEMO.fullContactId }) });
    const get = () => fetch(`${stack.url}?${params}`, { headers: { accept: "application/json", "apollo-require-preflight": "true" } }).then((r) => r.text());
    const first = await get();
    expect(JSON.parse(first).data.contact.id).toBe(DEMO.fullContactId);
    emulator.resetStats();
    expect(await get()).toBe(first);
    expect(emulator.calls.total).toBe(0);
    expect(await counted(metrics, "hit")).toBe(1);
  });
});

describe("callers with different access", () => {
  const READ_PII = { scope: "contacts:read contacts:pii", connect_instances: [I] };
  const PII = `query Personal($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id customerEndpoint { address } } }`;

  it("never get one another's response: redaction follows contacts:pii, a forbidden instance stays FORBIDDEN", async () => {
    const { stack, metrics } = await gateway({ AUTH_MODE: "jwt", AUTH_JWT_SECRET: SECRET });
    const address = findContact(emulator.dataset, I, DEMO.fullContactId)!.CustomerEndpoint!.Address;
    const vars = { i: I, c: DEMO.fullContactId };

    const withPii = await post(stack.url, PII, vars, await bearer({ ...READ_PII, sub: "alice" }));
    expect(JSON.parse(withPii.text).data.contact.customerEndpoint.address).toBe(address);

    const withoutPii = JSON.parse((await post(stack.url, PII, vars, await bearer({ scope: "contacts:read", connect_instances: [I], sub: "alice" }))).text);
    expect(withoutPii.data.contact.customerEndpoint.address).toBe(REDACTED);
    expect(withoutPii.extensions.redacted).toEqual(["Contact.customerEndpoint"]);

    for (let n = 0; n < 2; n++) {
      const elsewhere = JSON.parse((await post(stack.url, PII, vars, await bearer({ ...READ_PII, connect_instances: ["00000000-0000-4000-8000-000000000000"] }))).text);
      expect(elsewhere.data.contact).toBeNull();
      expect(elsewhere.errors[0].extensions.code).toBe("FORBIDDEN");
    }
    const noInstances = JSON.parse((await post(stack.url, PII, vars, await bearer({ scope: "contacts:read contacts:pii", sub: "alice" }))).text);
    expect(noInstances.errors[0].extensions.code).toBe("FORBIDDEN");
    expect(await counted(metrics, "hit")).toBe(0);

    // Another subject with the very same access (scopes and instances) shares the first response.
    const bob = await post(stack.url, PII, vars, await bearer({ ...READ_PII, sub: "bob" }));
    expect(bob.text).toBe(withPii.text);
    expect(await counted(metrics, "hit")).toBe(1);
  });
});

describe("invalidation", () => {
  let live: LiveStack;
  beforeAll(async () => {
    live = await startLiveStack({ emulator: { events: { visibilityTimeoutSeconds: 1 } } });
  });
  afterAll(() => live?.close());

  /** Emits an event on the live stack's emulator and waits until its gateway has applied (and deleted) it. */
  async function applied(input: ContactEventInput): Promise<string> {
    const deleted = live.emulator.calls.sqs.messagesDeleted;
    const contactId = live.emulator.events.emit(input).detail.contactId;
    await waitUntil(() => live.emulator.calls.sqs.messagesDeleted > deleted, `${input.eventType} applied`);
    return contactId;
  }

  it("drops every response naming a contact when its event arrives; the next query shows the new state", async () => {
    const contactId = await applied({ eventType: "INITIATED", channel: "VOICE" });
    const one = { i: I, c: contactId };
    const two = { i: I, ids: [DEMO.fullContactId, contactId] };
    const before = await live.query(STATE, one);
    expect(before.body.data.contact.disconnectTimestamp).toBeNull();
    const beforeTwo = await live.query(TWO, two);
    const fullOnly = await live.query(STATE, { i: I, c: DEMO.fullContactId });
    live.resetCalls();
    expect((await live.query(STATE, one)).body).toEqual(before.body); // a hit
    expect(live.describeContactCalls()).toBe(0);

    await applied({ eventType: "DISCONNECTED", contactId });
    live.resetCalls();
    const after = await live.query(STATE, one);
    expect(after.body.data.contact.disconnectTimestamp).toEqual(expect.any(String));
    const afterTwo = await live.query(TWO, two);
    expect(afterTwo.body.data.contacts[1].disconnectTimestamp).toEqual(after.body.data.contact.disconnectTimestamp);
    expect(afterTwo.body).not.toEqual(beforeTwo.body);
    // The event refreshed the contact cache: re-executing cost no call. The finished contact's own
    // response was not dropped.
    expect(live.describeContactCalls()).toBe(0);
    expect((await live.query(STATE, { i: I, c: DEMO.fullContactId })).body).toEqual(fullOnly.body);
  });
});

describe("an operation running when its contact changes", () => {
  it("is answered but not stored: it may have read the contact before the change", async () => {
    const { stack, metrics } = await gateway();
    const vars = { i: I, c: DEMO.inProgressContactId };
    emulator.setOptions({ latencyMs: 300 });
    try {
      const running = stack.query(STATE, vars);
      await new Promise((resolve) => setTimeout(resolve, 100));
      stack.gateway.responseCache!.contactChanged({ region: DEMO.region, instanceId: I, contactId: DEMO.inProgressContactId });
      expect((await running).body.errors).toBeUndefined();
    } finally {
      emulator.setOptions({ latencyMs: 0 });
    }
    expect(await counted(metrics, "store")).toBe(0);
    await stack.query(STATE, vars);
    expect(await counted(metrics, "store")).toBe(1);
    expect(await counted(metrics, "hit")).toBe(0);
  });
});

describe("Cache-Control: no-cache", () => {
  it("bypasses the response cache, reads Connect, and drops the responses naming what it re-read", async () => {
    const { stack, metrics } = await gateway();
    const contactId = newContact();
    const vars = { i: I, c: contactId };
    const state = await stack.query(STATE, vars);
    const contact = await stack.query(CONTACT, vars);
    expect(state.body.data.contact.disconnectTimestamp).toBeNull();

    // The contact ends; this gateway hears no event, so both responses stay as they were.
    emulator.events.emit({ eventType: "DISCONNECTED", contactId });
    expect((await stack.query(CONTACT, vars)).body).toEqual(contact.body);

    emulator.resetStats();
    const fresh = await stack.query(STATE, vars, { "cache-control": "no-cache" });
    expect(fresh.body.data.contact.disconnectTimestamp).toEqual(expect.any(String));
    expect(emulator.calls.byApi.DescribeContact).toBe(1);
    expect(await counted(metrics, "bypass")).toBe(1);

    // The other query's response named the contact: it executes again, from the refreshed contact cache.
    const again = await stack.query(CONTACT, vars);
    expect(again.body.data.contact.disconnectTimestamp).toBe(fresh.body.data.contact.disconnectTimestamp);
    expect(emulator.calls.byApi.DescribeContact).toBe(1);
    expect(await counted(metrics, "hit")).toBe(1);
  });
});

describe("what is not stored", () => {
  it("a response with errors: each request executes", async () => {
    const { stack, metrics } = await gateway();
    for (let n = 0; n < 2; n++) {
      const missing = await stack.query(STATE, { i: I, c: DEMO.missingContactId });
      expect(missing.body.errors![0]!.extensions!.code).toBe("NOT_FOUND");
      const invalid = await stack.query(`query Invalid { contact { id } }`);
      expect(invalid.status).toBe(400);
    }
    expect(await counted(metrics, "miss")).toBe(4);
    expect(await counted(metrics, "store")).toBe(0);
    expect(await counted(metrics, "hit")).toBe(0);
  });

  it("a response that read contact references (never cached across requests)", async () => {
    const { stack, metrics } = await gateway();
    const query = `query References($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id references { type } } }`;
    for (let n = 0; n < 2; n++) expect((await stack.query(query, { i: I, c: DEMO.fullContactId })).body.errors).toBeUndefined();
    const pages = emulator.calls.byApi.ListContactReferences;
    expect(pages).toBeGreaterThanOrEqual(2);
    expect(pages % 2).toBe(0); // every page, twice
    expect(await counted(metrics, "store")).toBe(0);
    expect(await counted(metrics, "hit")).toBe(0);
  });

  it.each([
    ["a plain body", ""],
    ["a body starting with a UTF-8 byte-order mark", "\uFEFF"],
    ["a body starting with a byte-order mark and whitespace", "\uFEFF \r\n\t"],
  ])("an HTTP batch, %s: each request executes, and an error is never answered again", async (_, start) => {
    const { stack, metrics } = await gateway({ HTTP_BATCHING: "true" });
    // The failing operation first: the last one's verdict must not decide for the request.
    const body = start + JSON.stringify([
      { query: STATE, variables: { i: I, c: "not a contact id" } },
      { query: STATE, variables: { i: I, c: DEMO.fullContactId } },
    ]);
    for (let n = 0; n < 2; n++) {
      const response = await fetch(stack.url, { method: "POST", headers: { "content-type": "application/json", accept: "application/json" }, body });
      expect(response.status).toBe(200);
      const [bad, ok] = (await response.json()) as Array<{ data?: any; errors?: Array<{ extensions: { code: string } }> }>;
      expect(bad!.errors![0]!.extensions.code).toBe("BAD_USER_INPUT");
      expect(ok!.errors).toBeUndefined();
      expect(ok!.data.contact.id).toBe(DEMO.fullContactId);
    }
    expect({ bypass: await counted(metrics, "bypass"), miss: await counted(metrics, "miss"), store: await counted(metrics, "store"), hit: await counted(metrics, "hit") }).toEqual({
      bypass: 2,
      miss: 0,
      store: 0,
      hit: 0,
    });
    expect(stack.gateway.responseCache!.usage().entries).toBe(0);
  });

  it("anything with RESPONSE_CACHE=false: every request executes", async () => {
    const { stack, metrics } = await gateway({ RESPONSE_CACHE: "false" });
    for (let n = 0; n < 3; n++) await stack.query(CONTACT, { i: I, c: DEMO.fullContactId });
    expect(stack.gateway.responseCache).toBeUndefined();
    // The contact cache answered the two repeats: they were executed.
    const lookups = (await metrics.registry.getSingleMetric("connect_cache_lookups_total")!.get()).values;
    expect(lookups.find((v) => v.labels.layer === "memory" && v.labels.result === "hit")?.value).toBe(2);
    expect(await counted(metrics, "miss")).toBe(0);
  });
});

describe("the operations of one request", () => {
  // The response cache's Apollo plugin in a real Apollo Server, its operations run as an HTTP
  // batch runs them: each with a shallow copy of the request's one context, so sharing its record.
  async function apolloWithThePlugin(): Promise<ApolloServer<GatewayContext>> {
    const config = loadConfig({ CONNECT_MODE: "emulator", LOG_LEVEL: "silent" }, false);
    const cache = createResponseCache({ config, logger: pino({ level: "silent" }), metrics: createMetrics() })!;
    const apollo = new ApolloServer<GatewayContext>({
      typeDefs: "type Query { ok: String, failing: String, slow: String }",
      resolvers: {
        Query: {
          ok: () => "ok",
          failing: () => {
            throw new Error("failed");
          },
          slow: () => new Promise((resolve) => setTimeout(() => resolve("slow"), 50)),
        },
      },
      plugins: [cache.plugin],
    });
    await apollo.start();
    open.push({ close: () => apollo.stop() });
    return apollo;
  }
  const record = () => ({ entities: new ResponseEntities("miss", responseFreshness(loadConfig({ CONNECT_MODE: "emulator" }, false))) }) as unknown as GatewayContext;

  it("may be stored when it is the only one, answered without errors", async () => {
    const apollo = await apolloWithThePlugin();
    const context = record();
    await apollo.executeOperation({ query: "{ ok }" }, { contextValue: context });
    expect(context.entities!.verdict?.cacheable).toBe(true);
  });

  it("are never stored once a second starts, whichever ends last and however it ends", async () => {
    const apollo = await apolloWithThePlugin();
    // The failing operation first, the clean one ending last.
    const concurrent = record();
    await Promise.all([apollo.executeOperation({ query: "{ failing }" }, { contextValue: concurrent }), apollo.executeOperation({ query: "{ slow }" }, { contextValue: concurrent })]);
    // The first ends, clean, before the second starts; the second is clean too.
    const oneAfterTheOther = record();
    await apollo.executeOperation({ query: "{ ok }" }, { contextValue: oneAfterTheOther });
    await apollo.executeOperation({ query: "{ ok }" }, { contextValue: oneAfterTheOther });
    expect([concurrent.entities!.verdict?.cacheable, oneAfterTheOther.entities!.verdict?.cacheable]).toEqual([false, false]);
    expect([concurrent.entities!.operations, oneAfterTheOther.entities!.operations]).toEqual([2, 2]);
  });
});

describe("freshness", () => {
  it("keeps a response naming an active contact for CACHE_ACTIVE_TTL_SECONDS, one of finished contacts for CACHE_TTL_SECONDS", async () => {
    const { stack, metrics } = await gateway({ CACHE_ACTIVE_TTL_SECONDS: "1" });
    const both = { i: I, ids: [DEMO.fullContactId, DEMO.inProgressContactId] };
    const finished = { i: I, c: DEMO.fullContactId };
    await stack.query(TWO, both);
    await stack.query(STATE, finished);
    emulator.resetStats();
    await stack.query(TWO, both);
    expect(emulator.calls.total).toBe(0);
    expect(await counted(metrics, "hit")).toBe(1);

    await new Promise((resolve) => setTimeout(resolve, 1100));
    await stack.query(TWO, both);
    // Expired with its active contact, which the contact cache no longer holds either.
    expect(emulator.calls.byKey.DescribeContact).toEqual({ [`${I}/${DEMO.inProgressContactId}`]: 1 });
    await stack.query(STATE, finished);
    expect(await counted(metrics, "hit")).toBe(2);
  });
});

describe("freshness of a response made from cached copies", () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it("expires with the cached contact it was made from, not a full lifetime after it was stored", async () => {
    const { stack, metrics } = await gateway({ CACHE_ACTIVE_TTL_SECONDS: "2" });
    const vars = { i: I, c: newContact() };
    await stack.query(STATE, vars); // the contact read and cached for 2 s
    await sleep(1000);
    emulator.resetStats();
    await stack.query(CHANNEL, vars); // executed from the cached contact, 1 s of its 2 left
    expect(emulator.calls.total).toBe(0);
    expect(await counted(metrics, "store")).toBe(2);

    await sleep(1200); // past the cached contact's expiry, within 2 s of CHANNEL's store
    await stack.query(CHANNEL, vars);
    expect(emulator.calls.byKey.DescribeContact).toEqual({ [`${I}/${vars.c}`]: 1 });
    expect(await counted(metrics, "hit")).toBe(0);
  });

  it("expires with the copy another replica left in Redis, read there with its original expiry", async () => {
    await requireSharedRedis();
    const env = { REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: `response-cache-freshness-${process.pid}:`, CACHE_ACTIVE_TTL_SECONDS: "2" };
    const [a, b] = [await gateway(env), await gateway(env)];
    const vars = { i: I, c: newContact() };
    try {
      await a.stack.query(STATE, vars); // read from Connect by a, cached in Redis for 2 s
      await sleep(1000);
      emulator.resetStats();
      await b.stack.query(CHANNEL, vars); // b takes a's copy from Redis, 1 s of its 2 left
      expect(emulator.calls.total).toBe(0);
      expect(await counted(b.metrics, "store")).toBe(1);

      await sleep(1200);
      await b.stack.query(CHANNEL, vars);
      expect(emulator.calls.byKey.DescribeContact).toEqual({ [`${I}/${vars.c}`]: 1 });
      expect(await counted(b.metrics, "hit")).toBe(0);
    } finally {
      await deleteKeys(SHARED_REDIS_URL, env.REDIS_KEY_PREFIX);
    }
  });
});

describe("two gateways on one Redis", () => {
  const prefix = `response-cache-test-${process.pid}:`;
  afterAll(() => deleteKeys(SHARED_REDIS_URL, prefix));

  it("a no-cache re-read on one drops the other's responses naming the contact, which then reads it from Redis", async () => {
    await requireSharedRedis();
    const env = { REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix };
    const [a, b] = [await gateway(env), await gateway(env)];
    const contactId = newContact();
    const vars = { i: I, c: contactId };
    expect((await b.stack.query(STATE, vars)).body.data.contact.disconnectTimestamp).toBeNull();
    emulator.events.emit({ eventType: "DISCONNECTED", contactId });
    expect((await b.stack.query(STATE, vars)).body.data.contact.disconnectTimestamp).toBeNull(); // a hit on b

    emulator.resetStats();
    const fresh = await a.stack.query(STATE, vars, { "cache-control": "no-cache" });
    const ended = fresh.body.data.contact.disconnectTimestamp;
    expect(ended).toEqual(expect.any(String));
    await expect.poll(async () => (await b.stack.query(STATE, vars)).body.data.contact.disconnectTimestamp).toBe(ended);
    // a's one read: b dropped its own copy of the contact too and took a's from Redis.
    expect(emulator.calls.byApi.DescribeContact).toBe(1);
    expect(await counted(b.metrics, "hit")).toBe(1);
  });
});
