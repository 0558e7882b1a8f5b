import { fileURLToPath } from "node:url";
import { SignJWT, type JWTPayload } from "jose";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { DEMO } from "../../src/emulator/dataset.js";
import { SubscriptionServer } from "../../src/http/subscriptionServer.js";
import { startLiveStack, waitUntil, type LiveStack, type Received } from "../support/liveStack.js";
import { rawRequest } from "../support/http.js";
import type { LogLine } from "../support/loggedGateway.js";
import { sampleOf, scrapedSample, scrapeMetrics } from "../support/metricsText.js";

const SECRET = "refused-subscriptions-secret-0123456789abcdef-012";
const sign = (claims: JWTPayload, secret = SECRET) =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime("10m").sign(new TextEncoder().encode(secret));
/** A reader's token; each spec has its own subject, as the per-principal bound counts connections by subject. */
const reader = (subject: string, instances: string[] = ["*"]) => sign({ sub: subject, scope: "contacts:read", connect_instances: instances });

const WATCH = `subscription Wallboard($instanceId: ID!) { contactEvents(instanceId: $instanceId) { eventType contact { id name } } }`;
const MISSPELLED = `subscription Misspelled($instanceId: ID!) { contactEvents(instanceId: $instanceId) { eventTyp } }`;

const lines: LogLine[] = [];
let stack: LiveStack;

beforeAll(async () => {
  // One subscription per WebSocket and one open connection per caller, so each bound is one step away.
  stack = await startLiveStack({
    env: { AUTH_MODE: "jwt", AUTH_JWT_SECRET: SECRET, SUBSCRIPTIONS_PER_CONNECTION: "1", SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL: "1" },
    logLines: lines,
  });
});
afterAll(async () => {
  await stack?.close();
});
beforeEach(() => stack.resetCalls());
afterEach(async () => {
  await waitUntil(() => stack.gateway.events!.hub.size === 0, "no subscription left");
});

/** The `subscription` log lines written under `requestId` (an x-request-id the spec sent). */
const linesOf = (requestId: string) => lines.filter((line) => line.msg === "subscription" && line.requestId === requestId);

/** The one line written under `requestId`, once written; fails if there are more. */
async function theLineOf(requestId: string): Promise<LogLine> {
  await waitUntil(() => linesOf(requestId).length > 0, `the line of ${requestId}`);
  // Anything written twice would be written by now: the refusal's line goes out before its errors.
  await new Promise((resolve) => setTimeout(resolve, 50));
  expect(linesOf(requestId)).toHaveLength(1);
  return linesOf(requestId)[0]!;
}

/** Asserts `line` holds none of `secrets` (the caller, the token, the variables, the document). */
function expectNothingPersonal(line: LogLine, ...secrets: string[]): void {
  const text = JSON.stringify(line);
  for (const secret of [...secrets, DEMO.instanceId, "contactEvents", "$instanceId"]) expect(text).not.toContain(secret);
  for (const key of ["query", "document", "variables", "subject", "authorization"]) expect(line).not.toHaveProperty(key);
}

/** One sample's value in the gateway's `GET /metrics` (0 when the series does not exist). */
const sample = (name: string, labels: Record<string, string>, on: LiveStack = stack) => scrapedSample(on.url, name, labels);
const errorsCounted = (code: string, on: LiveStack = stack) => sample("graphql_errors_total", { code }, on);

/** The codes a refused subscription received (graphql-ws sends them as its error or its one result). */
function codesReceived(received: Received): string[] {
  const errors = (Array.isArray(received.ended?.error) ? received.ended.error : (received.results[0]?.errors ?? [])) as Array<{ extensions?: { code?: string } }>;
  return errors.map((error) => String(error.extensions?.code));
}

describe("a refused subscription's log line and metrics", () => {
  it("logs a subscription refused by validation over WebSocket, once, with its code and no document, variables or token", async () => {
    const requestId = "refused-ws-validation";
    const jwt = await reader("validation-ws@example.com");
    const before = await errorsCounted("GRAPHQL_VALIDATION_FAILED");
    const operationsBefore = await sample("graphql_operations_total", { operation: "Misspelled", outcome: "error" });

    const refused = stack.subscribe(stack.ws({ headers: { "x-request-id": requestId }, connectionParams: { authorization: `Bearer ${jwt}` } }), MISSPELLED, { instanceId: DEMO.instanceId });
    await waitUntil(() => refused.ended !== undefined, "the refusal");
    expect(codesReceived(refused)).toEqual(["GRAPHQL_VALIDATION_FAILED"]);

    const line = await theLineOf(requestId);
    expect(line).toMatchObject({
      level: 30,
      requestId,
      transport: "ws",
      operationName: "Misspelled",
      operationType: "subscription",
      outcome: "refused",
      errorCodes: ["GRAPHQL_VALIDATION_FAILED"],
      msg: "subscription",
    });
    expect(line.durationMs).toEqual(expect.any(Number));
    expect(line.results).toBeUndefined();
    expectNothingPersonal(line, jwt, "validation-ws@example.com", "eventTyp");
    expect(await errorsCounted("GRAPHQL_VALIDATION_FAILED")).toBe(before + 1);
    expect(await sample("graphql_operations_total", { operation: "Misspelled", outcome: "error" })).toBe(operationsBefore + 1);
    expect(stack.describeContactCalls()).toBe(0);
  });

  it("logs a subscription refused by validation over SSE, once, under the request's x-request-id", async () => {
    const requestId = "refused-sse-validation";
    const jwt = await reader("validation-sse@example.com");
    const before = await errorsCounted("GRAPHQL_VALIDATION_FAILED");

    const refused = stack.subscribe(stack.sse({ authorization: `Bearer ${jwt}`, "x-request-id": requestId }), MISSPELLED, { instanceId: DEMO.instanceId });
    await waitUntil(() => refused.ended !== undefined, "the refusal");

    const line = await theLineOf(requestId);
    expect(line).toMatchObject({ requestId, transport: "sse", operationName: "Misspelled", operationType: "subscription", outcome: "refused", errorCodes: ["GRAPHQL_VALIDATION_FAILED"] });
    expectNothingPersonal(line, jwt, "validation-sse@example.com", "eventTyp");
    expect(await errorsCounted("GRAPHQL_VALIDATION_FAILED")).toBe(before + 1);
    expect(stack.describeContactCalls()).toBe(0);
  });

  it("logs a subscription refused for an instance the token may not read over WebSocket, once, with FORBIDDEN and no variables", async () => {
    const requestId = "refused-ws-forbidden";
    const jwt = await reader("forbidden-ws@example.com", ["another-instance"]);
    const before = await errorsCounted("FORBIDDEN");

    const refused = stack.subscribe(stack.ws({ headers: { "x-request-id": requestId }, connectionParams: { authorization: `Bearer ${jwt}` } }), WATCH, { instanceId: DEMO.instanceId });
    await waitUntil(() => refused.ended !== undefined, "the refusal");
    expect(codesReceived(refused)).toEqual(["FORBIDDEN"]);

    // Its one line is the refusal's: it never opened, so it has no line for its end.
    const line = await theLineOf(requestId);
    expect(line).toMatchObject({ requestId, transport: "ws", operationName: "Wallboard", operationType: "subscription", outcome: "refused", errorCodes: ["FORBIDDEN"] });
    expectNothingPersonal(line, jwt, "forbidden-ws@example.com", "another-instance");
    expect(await errorsCounted("FORBIDDEN")).toBe(before + 1);
    expect(stack.gateway.events!.hub.size).toBe(0);
    expect(stack.describeContactCalls()).toBe(0);
  });

  it("refuses variables that do not fit with BAD_USER_INPUT, as POST /graphql does, and logs that code", async () => {
    const requestId = "refused-ws-variables";
    const jwt = await reader("variables-ws@example.com");
    const before = await errorsCounted("BAD_USER_INPUT");

    const refused = stack.subscribe(stack.ws({ headers: { "x-request-id": requestId }, connectionParams: { authorization: `Bearer ${jwt}` } }), WATCH, { instanceId: { not: "an id" } });
    await waitUntil(() => refused.ended !== undefined || refused.results.length > 0, "the refusal");
    expect(codesReceived(refused)).toEqual(["BAD_USER_INPUT"]);

    const line = await theLineOf(requestId);
    expect(line).toMatchObject({ requestId, transport: "ws", operationName: "Wallboard", outcome: "refused", errorCodes: ["BAD_USER_INPUT"] });
    expectNothingPersonal(line, jwt, "variables-ws@example.com", "an id");
    expect(await errorsCounted("BAD_USER_INPUT")).toBe(before + 1);
    expect(stack.describeContactCalls()).toBe(0);
  });

  it("logs a subscription refused for an instance the token may not read over SSE, once, with FORBIDDEN", async () => {
    const requestId = "refused-sse-forbidden";
    const jwt = await reader("forbidden-sse@example.com", ["another-instance"]);
    const before = await errorsCounted("FORBIDDEN");

    const refused = stack.subscribe(stack.sse({ authorization: `Bearer ${jwt}`, "x-request-id": requestId }), WATCH, { instanceId: DEMO.instanceId });
    await waitUntil(() => refused.ended !== undefined, "the refusal");
    expect(codesReceived(refused)).toEqual(["FORBIDDEN"]);

    const line = await theLineOf(requestId);
    expect(line).toMatchObject({ requestId, transport: "sse", operationName: "Wallboard", outcome: "refused", errorCodes: ["FORBIDDEN"] });
    expectNothingPersonal(line, jwt, "forbidden-sse@example.com", "another-instance");
    expect(await errorsCounted("FORBIDDEN")).toBe(before + 1);
    expect(stack.describeContactCalls()).toBe(0);
  });

  it("logs the subscription one past SUBSCRIPTIONS_PER_CONNECTION, once, with SUBSCRIPTION_LIMIT_EXCEEDED, under its connection's request id", async () => {
    const requestId = "refused-ws-bound";
    const jwt = await reader("bound-ws@example.com");
    const before = await errorsCounted("SUBSCRIPTION_LIMIT_EXCEEDED");
    const client = stack.ws({ headers: { "x-request-id": requestId }, connectionParams: { authorization: `Bearer ${jwt}` } });
    const open = stack.subscribe(client, WATCH, { instanceId: DEMO.instanceId });
    await stack.subscribers(1);

    let refusal: unknown;
    client.subscribe({ query: WATCH, operationName: "Wallboard", variables: { instanceId: DEMO.instanceId } }, { next: () => {}, error: (error) => void (refusal = error), complete: () => {} });
    await waitUntil(() => refusal !== undefined, "the refusal");
    expect(JSON.stringify(refusal)).toContain("SUBSCRIPTION_LIMIT_EXCEEDED");

    const line = await theLineOf(requestId);
    expect(line).toMatchObject({ requestId, transport: "ws", operationName: "Wallboard", operationType: "subscription", outcome: "refused", errorCodes: ["SUBSCRIPTION_LIMIT_EXCEEDED"] });
    expectNothingPersonal(line, jwt, "bound-ws@example.com");
    expect(await errorsCounted("SUBSCRIPTION_LIMIT_EXCEEDED")).toBe(before + 1);
    expect(stack.describeContactCalls()).toBe(0);

    // The open one's line, when it ends, is of the same family and connection.
    open.unsubscribe();
    await waitUntil(() => linesOf(requestId).length === 2, "the open subscription's line");
    expect(linesOf(requestId)[1]).toMatchObject({ requestId, transport: "ws", operationName: "Wallboard", outcome: "ok", results: 0 });
  });

  it("logs an SSE subscription past SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL, once, with SUBSCRIPTION_LIMIT_EXCEEDED", async () => {
    const requestId = "refused-sse-bound";
    const jwt = await reader("bound-sse@example.com");
    const before = await errorsCounted("SUBSCRIPTION_LIMIT_EXCEEDED");
    const open = stack.subscribe(stack.sse({ authorization: `Bearer ${jwt}` }), WATCH, { instanceId: DEMO.instanceId });
    await stack.subscribers(1);

    let refusal: unknown;
    stack
      .sse({ authorization: `Bearer ${jwt}`, "x-request-id": requestId })
      .subscribe({ query: WATCH, operationName: "Wallboard", variables: { instanceId: DEMO.instanceId } }, { next: () => {}, error: (error) => void (refusal = error), complete: () => {} });
    await waitUntil(() => refusal !== undefined, "the refusal");

    const line = await theLineOf(requestId);
    expect(line).toMatchObject({ requestId, transport: "sse", operationName: "Wallboard", operationType: "subscription", outcome: "refused", errorCodes: ["SUBSCRIPTION_LIMIT_EXCEEDED"] });
    expectNothingPersonal(line, jwt, "bound-sse@example.com");
    expect(await errorsCounted("SUBSCRIPTION_LIMIT_EXCEEDED")).toBe(before + 1);
    expect(stack.describeContactCalls()).toBe(0);
    open.unsubscribe();
  });

  it("logs a query sent to the subscription endpoint as refused with BAD_REQUEST, under its own operation type", async () => {
    const requestId = "refused-ws-query";
    const jwt = await reader("query-ws@example.com");
    const before = await errorsCounted("BAD_REQUEST");

    const refused = stack.subscribe(stack.ws({ headers: { "x-request-id": requestId }, connectionParams: { authorization: `Bearer ${jwt}` } }), `query Peek($instanceId: ID!) { contact(instanceId: $instanceId, contactId: "c-1") { id } }`, {
      instanceId: DEMO.instanceId,
    });
    await waitUntil(() => refused.ended !== undefined, "the refusal");

    expect(await theLineOf(requestId)).toMatchObject({ requestId, transport: "ws", operationName: "Peek", operationType: "query", outcome: "refused", errorCodes: ["BAD_REQUEST"] });
    expect(await errorsCounted("BAD_REQUEST")).toBe(before + 1);
    expect(stack.describeContactCalls()).toBe(0);
  });

  it("counts a refused subscription under a name its document holds, never under one the request only sent, which its line keeps", async () => {
    const ws = await reader("invented-ws@example.com");
    const sse = await reader("invented-sse@example.com");
    const anonymousBefore = await sample("graphql_operations_total", { operation: "anonymous", outcome: "error" });
    const variables = { instanceId: DEMO.instanceId };
    const streamPost = (requestId: string, body: unknown) =>
      rawRequest(stack.url, "POST", "/graphql/stream", { authorization: `Bearer ${sse}`, "content-type": "application/json", accept: "text/event-stream", "x-request-id": requestId }, JSON.stringify(body));

    // Over SSE: a parse error, a name of no operation of the document, no query, a validation error.
    const refusals = [
      { requestId: "invented-sse-1", body: { query: "subscription { x", operationName: "InventedSse1" }, code: "GRAPHQL_PARSE_FAILED" },
      { requestId: "invented-sse-2", body: { query: WATCH, operationName: "InventedSse2", variables }, code: "BAD_REQUEST" },
      { requestId: "invented-sse-3", body: { operationName: "InventedSse3" }, code: "BAD_REQUEST" },
      { requestId: "invented-sse-4", body: { query: MISSPELLED, operationName: "InventedSse4", variables }, code: "GRAPHQL_VALIDATION_FAILED" },
    ];
    for (const { requestId, body, code } of refusals) {
      const answer = await streamPost(requestId, body);
      expect({ requestId, status: answer.status, codes: answer.body.errors.map((e: { extensions: { code: string } }) => e.extensions.code) }).toEqual({ requestId, status: 400, codes: [code] });
    }
    // Over SSE, one stream past SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL (refused before anything is parsed).
    const open = stack.subscribe(stack.sse({ authorization: `Bearer ${sse}` }), WATCH, variables);
    await stack.subscribers(1);
    const bound = await streamPost("invented-sse-5", { query: WATCH, operationName: "InventedSse5", variables });
    expect(bound.status).toBe(429);
    open.unsubscribe();
    await stack.subscribers(0);

    // Over WebSocket: a name of no operation of the document, and one past SUBSCRIPTIONS_PER_CONNECTION.
    const client = stack.ws({ headers: { "x-request-id": "invented-ws" }, connectionParams: { authorization: `Bearer ${ws}` } });
    const refusedWith: unknown[] = [];
    const subscribeAs = (operationName: string) =>
      client.subscribe({ query: WATCH, operationName, variables }, { next: () => {}, error: (error) => void refusedWith.push(error), complete: () => {} });
    subscribeAs("InventedWs1");
    await waitUntil(() => refusedWith.length === 1, "the first refusal");
    const wallboard = subscribeAs("Wallboard");
    await stack.subscribers(1);
    subscribeAs("InventedWs2");
    await waitUntil(() => refusedWith.length === 2, "the second refusal");
    expect(JSON.stringify(refusedWith)).toMatch(/BAD_REQUEST.*SUBSCRIPTION_LIMIT_EXCEEDED/);
    wallboard();

    const sent = [1, 2, 3, 4, 5].map((n) => `InventedSse${n}`);
    for (const [index, name] of sent.entries()) expect((await theLineOf(`invented-sse-${index + 1}`)).operationName).toBe(name);
    await waitUntil(() => linesOf("invented-ws").length === 3, "the WebSocket lines");
    expect(linesOf("invented-ws").map((line) => line.operationName)).toEqual(["InventedWs1", "InventedWs2", "Wallboard"]);
    const text = await scrapeMetrics(stack.url);
    expect(text).not.toMatch(/operation="Invented/);
    expect(sampleOf(text, "graphql_operations_total", { operation: "anonymous", outcome: "error" })).toBe(anonymousBefore + 7);
    expect(stack.describeContactCalls()).toBe(0);
  });

  it("logs a WebSocket connection refused for its token, once, without counting a GraphQL error (none was sent)", async () => {
    const requestId = "refused-ws-connection";
    const forged = await sign({ sub: "forged@example.com", scope: "contacts:read", connect_instances: ["*"] }, "not-the-gateway-secret-0123456789abcdef-0123456789");
    const before = await errorsCounted("UNAUTHENTICATED");
    let closed: { code: number } | undefined;

    stack.subscribe(stack.ws({ headers: { "x-request-id": requestId }, connectionParams: { authorization: `Bearer ${forged}` }, onClose: (event) => (closed ??= event) }), WATCH, {
      instanceId: DEMO.instanceId,
    });
    await waitUntil(() => closed !== undefined, "the socket to close");
    expect(closed!.code).toBe(4401);

    const line = await theLineOf(requestId);
    // Nothing was asked for yet: no operation, no operation type.
    expect(line).toMatchObject({ requestId, transport: "ws", operationName: null, operationType: null, outcome: "refused", errorCodes: ["UNAUTHENTICATED"] });
    expectNothingPersonal(line, forged, "forged@example.com");
    expect(await errorsCounted("UNAUTHENTICATED")).toBe(before);
    expect(stack.describeContactCalls()).toBe(0);
  });
});

describe("an SSE subscription's connection slot", () => {
  it("gives back the connection slot of an SSE subscription whose preparation throws", async () => {
    const jwt = await reader("prepare-throws@example.com");
    // A defect in preparing it (here made to happen): the request fails, its slot must not stay taken.
    const prepare = vi.spyOn(SubscriptionServer.prototype, "prepare").mockImplementation(() => {
      throw new Error("a defect while preparing");
    });
    try {
      for (let i = 0; i < 3; i++) {
        const failed = await streamRequest(jwt, JSON.stringify({ query: WATCH, variables: { instanceId: DEMO.instanceId } }));
        expect({ status: failed.status, codes: failed.codes }).toEqual({ status: 500, codes: ["INTERNAL_SERVER_ERROR"] });
      }
      expect(prepare).toHaveBeenCalledTimes(3);
    } finally {
      prepare.mockRestore();
    }
    // SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL is 1 here: the caller's one slot is free, for SSE and WebSocket alike.
    const open = await streamRequest(jwt, JSON.stringify({ query: WATCH, variables: { instanceId: DEMO.instanceId } }));
    expect(open.status).toBe(200);
    await stack.subscribers(0);
    let closed: { code: number } | undefined;
    const ws = stack.subscribe(stack.ws({ connectionParams: { authorization: `Bearer ${jwt}` }, onClose: (event) => (closed ??= event) }), WATCH, { instanceId: DEMO.instanceId });
    await stack.subscribers(1);
    expect(closed).toBeUndefined();
    ws.unsubscribe();
  });
});

describe("a subscription whose variables are nested thousands deep (a 40 KB body)", () => {
  const DEPTH = 20_000;
  const deep = `${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}`;
  const FILTERED = `subscription Deep($instanceId: ID!, $contactIds: [ID!]) { contactEvents(instanceId: $instanceId, filter: { contactIds: $contactIds }) { eventType } }`;
  /** An operation's JSON with `variables` holding `instanceId` and, as raw JSON text, `name`: the nested lists. */
  const operation = (query: string, name: string) => `{"query":${JSON.stringify(query)},"variables":{"instanceId":"${DEMO.instanceId}","${name}":${deep}}}`;

  it("serves it over SSE and WebSocket as POST /graphql serves such a query, an undeclared variable ignored, and gives back its slot", async () => {
    const jwt = await reader("deep-undeclared@example.com");
    // Twice: the second from the caches (the response cache keys the body as sent; nothing re-serializes the variables).
    for (let i = 0; i < 2; i++) {
      const query = await fetch(stack.url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${jwt}` },
        body: operation(`query Peek($instanceId: ID!) { contact(instanceId: $instanceId, contactId: "${DEMO.fullContactId}") { id } }`, "unused"),
      });
      expect(query.status).toBe(200);
      expect(((await query.json()) as { data: unknown }).data).toEqual({ contact: { id: DEMO.fullContactId } });
    }
    expect(stack.describeContactCalls()).toBe(1);

    const sse = await streamRequest(jwt, operation(FILTERED, "unused"), { events: 1, emit: true });
    expect(sse.status).toBe(200);
    expect(sse.results).toEqual([{ data: { contactEvents: { eventType: "INITIATED" } } }]);
    await stack.subscribers(0);
    // The same caller again (one connection each), over WebSocket: the subscribe message as raw JSON.
    const ws = await rawWebSocket(jwt, `{"id":"1","type":"subscribe","payload":${operation(FILTERED, "unused")}}`, { events: 1, emit: true });
    expect(ws.closed).toBeUndefined();
    expect(ws.results).toEqual([{ data: { contactEvents: { eventType: "INITIATED" } } }]);
    await stack.subscribers(0);
  });

  it("refuses a declared variable nested that deep with BAD_USER_INPUT over SSE and WebSocket, as POST /graphql does, and gives back its slot", async () => {
    const jwt = await reader("deep-declared@example.com");
    const query = await fetch(stack.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${jwt}` },
      body: operation(`query Peek($instanceId: ID!, $contactIds: [ID!]!) { contacts(instanceId: $instanceId, contactIds: $contactIds) { id } }`, "contactIds"),
    });
    const queried = (await query.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(queried.errors.map((error) => error.extensions.code)).toEqual(["BAD_USER_INPUT"]);

    const sse = await streamRequest(jwt, operation(FILTERED, "contactIds"), { events: 1 });
    expect(sse.status).toBe(200);
    expect(sse.results.map((result) => result.errors?.map((error) => error.extensions?.code))).toEqual([["BAD_USER_INPUT"]]);
    const ws = await rawWebSocket(jwt, `{"id":"1","type":"subscribe","payload":${operation(FILTERED, "contactIds")}}`, { events: 1 });
    // Refused as it subscribed: its one result, the socket left open.
    expect(ws.closed).toBeUndefined();
    expect(ws.results.map((result) => result.errors?.map((error) => error.extensions?.code))).toEqual([["BAD_USER_INPUT"]]);
    expect(stack.gateway.events!.hub.size).toBe(0);
    expect(stack.describeContactCalls()).toBe(0);
  });
});

type Result = { data?: any; errors?: Array<{ message: string; extensions?: { code?: string } }> };

/**
 * A POST to /graphql/stream with `body` as is: its status and, answered with JSON, its errors'
 * codes; a stream is read until `events` results arrived (an event emitted once it is subscribed,
 * with `emit`), then the request is aborted.
 */
async function streamRequest(jwt: string, body: string, read: { events?: number; emit?: boolean } = {}): Promise<{ status: number; codes: string[]; results: Result[] }> {
  const aborted = new AbortController();
  const response = await fetch(`${stack.url}/stream`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${jwt}` },
    body,
    signal: aborted.signal,
  });
  if (!response.headers.get("content-type")?.startsWith("text/event-stream")) {
    const errors = ((await response.json()) as { errors: Result["errors"] }).errors ?? [];
    return { status: response.status, codes: errors.map((error) => String(error.extensions?.code)), results: [] };
  }
  const results: Result[] = [];
  if (read.emit) {
    await stack.subscribers(1);
    stack.emulator.events.emit({ eventType: "INITIATED" });
  }
  const reader = response.body!.getReader();
  let text = "";
  while (results.length < (read.events ?? 0)) {
    const chunk = await reader.read();
    if (chunk.done) break;
    text += new TextDecoder().decode(chunk.value);
    const events = [...text.matchAll(/event: next\ndata: (.*)\n/g)];
    results.splice(0, results.length, ...events.map((event) => JSON.parse(event[1]!) as Result));
  }
  aborted.abort();
  await reader.cancel().catch(() => {});
  return { status: response.status, codes: [], results };
}

/**
 * A graphql-transport-ws connection with `jwt` that sends `subscribe` (raw text) once acknowledged
 * and collects its results (an event emitted once it is subscribed, with `emit`) until `events`
 * arrived, or its errors, or the socket closed.
 */
async function rawWebSocket(jwt: string, subscribe: string, read: { events: number; emit?: boolean }): Promise<{ closed?: number; results: Result[]; errors: NonNullable<Result["errors"]> }> {
  const socket = new WebSocket(stack.url.replace(/^http/, "ws"), "graphql-transport-ws");
  const outcome: { closed?: number; results: Result[]; errors: NonNullable<Result["errors"]> } = { results: [], errors: [] };
  await new Promise<void>((resolve) => {
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${jwt}` } })));
    socket.on("message", (data) => {
      const message = JSON.parse(String(data)) as { type: string; payload?: any };
      if (message.type === "connection_ack") {
        socket.send(subscribe);
        if (read.emit) void stack.subscribers(1).then(() => stack.emulator.events.emit({ eventType: "INITIATED" }));
      } else if (message.type === "next") {
        outcome.results.push(message.payload as Result);
        if (outcome.results.length >= read.events) resolve();
      } else if (message.type === "error") {
        outcome.errors.push(...(message.payload as NonNullable<Result["errors"]>));
        resolve();
      }
    });
    socket.on("close", (code) => {
      outcome.closed = code;
      resolve();
    });
  });
  const closed = outcome.closed;
  socket.close();
  return { ...outcome, closed };
}

describe("a subscription refused by trusted documents", () => {
  // The example front end's manifest (examples/contact-client, written by its codegen).
  const MANIFEST = fileURLToPath(new URL("../../examples/contact-client/src/gql/persisted-documents.json", import.meta.url));
  let trusted: LiveStack;
  beforeAll(async () => {
    trusted = await startLiveStack({ env: { TRUSTED_DOCUMENTS_FILE: MANIFEST }, logLines: lines });
  });
  afterAll(async () => {
    await trusted?.close();
  });

  it("logs a raw document refused with TRUSTED_DOCUMENT_REQUIRED over SSE, once, counted, without parsing or reading anything", async () => {
    const requestId = "refused-sse-untrusted";
    const before = await errorsCounted("TRUSTED_DOCUMENT_REQUIRED", trusted);
    trusted.resetCalls();

    const refused = trusted.subscribe(trusted.sse({ "x-request-id": requestId }), WATCH, { instanceId: DEMO.instanceId });
    await waitUntil(() => refused.ended !== undefined, "the refusal");

    const line = await theLineOf(requestId);
    // Nothing was parsed: the operation name is the client's, and it sent none.
    expect(line).toMatchObject({ requestId, transport: "sse", operationName: null, operationType: "subscription", outcome: "refused", errorCodes: ["TRUSTED_DOCUMENT_REQUIRED"] });
    expectNothingPersonal(line);
    expect(await errorsCounted("TRUSTED_DOCUMENT_REQUIRED", trusted)).toBe(before + 1);
    expect(trusted.describeContactCalls()).toBe(0);
  });

  it("counts a refusal under anonymous, never under the operation name the request sent", async () => {
    const requestId = "refused-ws-trusted-name";
    const hash = "9e6d7d02cde2a4506701af1c9c9604c11a18b81920e4dcb7a6638d0605d2ece4"; // LiveContactEvents
    const anonymousBefore = await scrapedSample(trusted.url, "graphql_operations_total", { operation: "anonymous", outcome: "error" });
    // A listed document asked for by an operation name it does not have: refused after the lookup.
    const ws = trusted.ws({ headers: { "x-request-id": requestId } });
    let refusal: unknown;
    ws.subscribe({ query: "", documentId: `sha256:${hash}`, operationName: "NotInIt", variables: { instanceId: DEMO.instanceId } } as never, {
      next: () => {},
      error: (error) => void (refusal = error),
      complete: () => {},
    });
    await waitUntil(() => refusal !== undefined, "the refusal");

    const line = await theLineOf(requestId);
    expect(line).toMatchObject({ requestId, transport: "ws", operationName: "NotInIt", outcome: "refused", errorCodes: ["BAD_REQUEST"] });
    const text = await scrapeMetrics(trusted.url);
    expect(text).not.toContain('operation="NotInIt"');
    expect(sampleOf(text, "graphql_operations_total", { operation: "anonymous", outcome: "error" })).toBe(anonymousBefore + 1);
  });
});
