import { createServer, type Server } from "node:http";
import { createClient } from "graphql-ws";
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { DEMO } from "../../src/emulator/dataset.js";
import { startLiveStack, waitUntil, type LiveStack } from "../support/liveStack.js";

const SECRET = "live-contacts-secret-0123456789abcdef-0123456789";
const READ: JWTPayload = { sub: "wallboard", scope: "contacts:read", connect_instances: ["*"] };
const READ_PII: JWTPayload = { sub: "supervisor", scope: "contacts:read contacts:pii", connect_instances: ["*"] };

function token(claims: JWTPayload, expiresAt: number | string = "10m"): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime(expiresAt).sign(new TextEncoder().encode(SECRET));
}

const NAMES = `subscription($instanceId: ID!, $contactIds: [ID!]) {
  contactEvents(instanceId: $instanceId, filter: { contactIds: $contactIds }) { eventType contact { id name } }
}`;

let stack: LiveStack;

beforeAll(async () => {
  // Introspection off, as in aws mode: validation errors must not suggest field names.
  stack = await startLiveStack({
    env: { AUTH_MODE: "jwt", AUTH_JWT_SECRET: SECRET, AUTH_CLOCK_TOLERANCE_SECONDS: "0", CORS_ORIGINS: "https://wallboard.example", GRAPHQL_INTROSPECTION: "false" },
  });
});
afterAll(async () => {
  await stack?.close();
});
afterEach(async () => {
  await waitUntil(() => stack.gateway.events!.hub.size === 0, "no subscription left");
});

/** The close code of a graphql-ws connection made with `connectionParams`. */
async function closeCode(connectionParams?: Record<string, unknown>): Promise<{ code: number; reason: string }> {
  let closed: { code: number; reason: string } | undefined;
  const client = stack.ws({ ...(connectionParams && { connectionParams }), onClose: (event) => (closed ??= event) });
  stack.subscribe(client, NAMES, { instanceId: DEMO.instanceId });
  await waitUntil(() => closed !== undefined, "the socket to close");
  return closed!;
}

describe("live contacts over WebSocket: authentication", () => {
  it("closes a connection without a token with 4401 before anything is delivered", async () => {
    expect((await closeCode()).code).toBe(4401);
    expect(stack.gateway.events!.hub.size).toBe(0);
  });

  it("closes a connection with an invalid token with 4401, and one without contacts:read with 4403", async () => {
    expect((await closeCode({ authorization: "Bearer not.a.jwt" })).code).toBe(4401);
    expect((await closeCode({ authorization: `Bearer ${await token({ scope: "profile", connect_instances: ["*"] })}` })).code).toBe(4403);
  });

  it("takes the token from connection_init's payload or from the upgrade request's Authorization header", async () => {
    const fromPayload = stack.subscribe(stack.ws({ connectionParams: { authorization: `Bearer ${await token(READ)}` } }), NAMES, { instanceId: DEMO.instanceId });
    const fromHeader = stack.subscribe(stack.ws({ headers: { authorization: `Bearer ${await token(READ)}` } }), NAMES, { instanceId: DEMO.instanceId });
    await stack.subscribers(2);
    stack.emulator.events.emit({ eventType: "INITIATED" });
    await waitUntil(() => fromPayload.results.length === 1 && fromHeader.results.length === 1, "both subscribers' event");
    fromPayload.unsubscribe();
    fromHeader.unsubscribe();
  });

  it("refuses a subscription to an instance the token does not list (FORBIDDEN), with nothing registered", async () => {
    const other = stack.subscribe(stack.ws({ connectionParams: { authorization: `Bearer ${await token({ scope: "contacts:read", connect_instances: ["another-instance"] })}` } }), NAMES, {
      instanceId: DEMO.instanceId,
    });
    await waitUntil(() => other.ended !== undefined || other.results.length > 0, "the refusal");
    expect(JSON.stringify(other.ended?.error ?? other.results[0]?.errors)).toContain("FORBIDDEN");
    expect(stack.gateway.events!.hub.size).toBe(0);
  });

  it("masks @pii fields of the event's contact without contacts:pii and shows them with it", async () => {
    const contactId = stack.emulator.events.emit({ eventType: "INITIATED" }).detail.contactId;
    // INITIATED is applied before anyone subscribes, so the one event each receives is the update.
    await stack.queueDrained("INITIATED applied");
    const masked = stack.subscribe(stack.ws({ connectionParams: { authorization: `Bearer ${await token(READ)}` } }), NAMES, { instanceId: DEMO.instanceId, contactIds: [contactId] });
    const clear = stack.subscribe(stack.ws({ connectionParams: { authorization: `Bearer ${await token(READ_PII)}` } }), NAMES, { instanceId: DEMO.instanceId, contactIds: [contactId] });
    await stack.subscribers(2);
    stack.emulator.events.emit({ eventType: "CONTACT_DATA_UPDATED", contactId, name: "Ada Lovelace's callback" });
    await waitUntil(() => masked.results.length === 1 && clear.results.length === 1, "the update");
    expect(masked.results[0]!.data.contactEvents.contact.name).toBe("[REDACTED]");
    expect(masked.results[0]!.extensions).toEqual({ redacted: ["Contact.name"] });
    expect(clear.results[0]!.data.contactEvents.contact.name).toBe("Ada Lovelace's callback");
    expect(clear.results[0]!.extensions).toBeUndefined();
    masked.unsubscribe();
    clear.unsubscribe();
  });

  it("ends a subscription with UNAUTHENTICATED at its first event after the token expired", async () => {
    // Long enough to connect and subscribe on a loaded machine; the subscription then outlives it.
    const expiresAt = Math.ceil(Date.now() / 1000) + 3;
    const watcher = stack.subscribe(stack.ws({ connectionParams: { authorization: `Bearer ${await token(READ, expiresAt)}` } }), NAMES, { instanceId: DEMO.instanceId });
    await stack.subscribers(1);
    await waitUntil(() => Date.now() > expiresAt * 1000, "the token to expire", 5000);
    stack.emulator.events.emit({ eventType: "INITIATED" });
    await waitUntil(() => watcher.results.length > 0 && watcher.ended !== undefined, "the subscription to end");
    expect(watcher.results).toHaveLength(1);
    expect(watcher.results[0]!.data).toBeUndefined();
    expect(watcher.results[0]!.errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
  });
});

describe("live contacts over WebSocket: an identity provider outage", () => {
  let outage: LiveStack;
  let jwksServer: Server;
  /** While true, the JWKS endpoint drops every connection (the identity provider is down). */
  let down = true;
  let jwksFetches = 0;
  let signed: string;

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair("RS256");
    const jwk = { ...(await exportJWK(publicKey)), kid: "outage", alg: "RS256", use: "sig" };
    signed = await new SignJWT(READ).setProtectedHeader({ alg: "RS256", kid: "outage" }).setIssuedAt().setExpirationTime("10m").sign(privateKey);
    jwksServer = createServer((request, response) => {
      jwksFetches += 1;
      if (down) return void request.socket.destroy();
      response.setHeader("content-type", "application/json").end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
    const port = (jwksServer.address() as { port: number }).port;
    outage = await startLiveStack({ env: { AUTH_MODE: "jwt", AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` } });
  });
  afterAll(async () => {
    await outage?.close();
    await new Promise((resolve) => jwksServer?.close(resolve));
  });

  it("closes a connection whose token cannot be checked with 1013, which graphql-ws's client retries until it subscribes", async () => {
    // POST /graphql answers 503 UPSTREAM_ERROR meanwhile: the token is not at fault.
    const post = await outage.query("{ __typename }", {}, { authorization: `Bearer ${signed}` });
    expect({ status: post.status, code: post.body.errors?.[0]?.extensions?.code }).toEqual({ status: 503, code: "UPSTREAM_ERROR" });

    const closes: Array<{ code: number; reason: string }> = [];
    let fatal: unknown;
    const client = createClient({
      url: outage.url.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${signed}` },
      lazy: false,
      retryAttempts: 10,
      retryWait: () => new Promise((resolve) => setTimeout(resolve, 20)),
      onNonLazyError: (error) => (fatal = error),
      on: { closed: (event) => void closes.push({ code: (event as CloseEvent).code, reason: (event as CloseEvent).reason }) },
    });
    try {
      const received: unknown[] = [];
      client.subscribe({ query: NAMES, variables: { instanceId: DEMO.instanceId } }, { next: (result) => void received.push(result), error: (error) => (fatal = error), complete: () => {} });
      await waitUntil(() => closes.length >= 2 || fatal !== undefined, "two refused connections");
      expect(fatal).toBeUndefined();
      for (const close of closes) expect(close).toEqual({ code: 1013, reason: "The gateway could not load the keys that verify bearer tokens; retry later." });

      // The identity provider is back: the client's next attempt connects and subscribes.
      const refused = closes.length;
      down = false;
      await outage.subscribers(1);
      outage.emulator.events.emit({ eventType: "INITIATED" });
      await waitUntil(() => received.length === 1, "the event");
      expect(closes.length).toBeLessThanOrEqual(refused + 1);
      expect(fatal).toBeUndefined();
      expect(jwksFetches).toBeGreaterThan(refused);
    } finally {
      await client.dispose();
    }
  });
});

/** The HTTP status of an upgrade to the gateway at `url` from `origin` (101 when it became a WebSocket). */
function upgradeStatus(url: string, origin: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, "ws"), "graphql-transport-ws", { headers: { origin } });
    socket.on("upgrade", () => {
      socket.close();
      resolve(101);
    });
    socket.on("unexpected-response", (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.on("error", (error) => (error.message.includes("Unexpected server response") ? undefined : reject(error)));
  });
}

describe("live contacts over WebSocket: cross-site upgrades", () => {
  it("refuses an upgrade from a browser page of another origin (403) and accepts CORS_ORIGINS and its own origin", async () => {
    expect(await upgradeStatus(stack.url, "https://evil.example")).toBe(403);
    expect(await upgradeStatus(stack.url, "https://wallboard.example")).toBe(101);
    expect(await upgradeStatus(stack.url, new URL(stack.url).origin)).toBe(101);
  });

  /** The HTTP status an upgrade to `path` is answered with, and whether the gateway then closed its connection (the client never does). */
  function answeredUpgrade(path: string): Promise<{ status: number; closedByGateway: boolean }> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(new URL(path, stack.url.replace(/^http/, "ws")).href, "graphql-transport-ws");
      socket.on("upgrade", () => reject(new Error(`${path} became a WebSocket`)));
      socket.on("unexpected-response", (_request, response) => {
        const status = response.statusCode ?? 0;
        const timer = setTimeout(() => {
          resolve({ status, closedByGateway: false });
          response.socket.destroy();
        }, 2_000);
        response.socket.once("close", () => {
          clearTimeout(timer);
          resolve({ status, closedByGateway: true });
        });
        response.resume();
      });
      socket.on("error", (error) => (error.message.includes("Unexpected server response") ? undefined : reject(error)));
    });
  }

  it("answers an upgrade to any other route over HTTP and closes its connection, so none is left open to hold shutdown", async () => {
    expect(await answeredUpgrade("/nope")).toEqual({ status: 404, closedByGateway: true });
    expect(await answeredUpgrade("/healthz")).toEqual({ status: 200, closedByGateway: true });
    expect(await answeredUpgrade("/graphql/stream")).toMatchObject({ closedByGateway: true });
  });
});

describe("live contacts over WebSocket: CORS_ORIGINS=*", () => {
  let open: LiveStack;
  beforeAll(async () => {
    open = await startLiveStack({ env: { CORS_ORIGINS: "*" } });
  });
  afterAll(async () => {
    await open?.close();
  });

  it("accepts an upgrade from a page of any origin, as CORS answers any origin over HTTP", async () => {
    const preflight = await fetch(open.url, { method: "OPTIONS", headers: { origin: "https://anywhere.example", "access-control-request-method": "POST" } });
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(await upgradeStatus(open.url, "https://anywhere.example")).toBe(101);
    expect(await upgradeStatus(open.url, "http://localhost:5173")).toBe(101);
  });
});

describe("live contacts over WebSocket and CORS: an app's or extension's origin in CORS_ORIGINS", () => {
  let apps: LiveStack;
  beforeAll(async () => {
    apps = await startLiveStack({ env: { CORS_ORIGINS: "capacitor://localhost,chrome-extension://abcdefghijklmnopabcdefghijklmnop" } });
  });
  afterAll(async () => {
    await apps?.close();
  });

  it("accepts an upgrade and answers a preflight from a listed capacitor:// or chrome-extension:// origin, and from no other", async () => {
    const allowed = async (origin: string) => {
      const preflight = await fetch(apps.url, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
      return { origin, cors: preflight.headers.get("access-control-allow-origin"), upgrade: await upgradeStatus(apps.url, origin) };
    };
    expect(await allowed("capacitor://localhost")).toEqual({ origin: "capacitor://localhost", cors: "capacitor://localhost", upgrade: 101 });
    expect(await allowed("chrome-extension://abcdefghijklmnopabcdefghijklmnop")).toEqual({
      origin: "chrome-extension://abcdefghijklmnopabcdefghijklmnop",
      cors: "chrome-extension://abcdefghijklmnopabcdefghijklmnop",
      upgrade: 101,
    });
    expect(await allowed("chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba")).toEqual({ origin: "chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba", cors: null, upgrade: 403 });
    expect(await allowed("capacitor://evil.example")).toEqual({ origin: "capacitor://evil.example", cors: null, upgrade: 403 });
  });
});

describe("live contacts over SSE: authentication", () => {
  async function streamStatus(authorization?: string): Promise<number> {
    const response = await fetch(`${stack.url}/stream`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", ...(authorization && { authorization }) },
      body: JSON.stringify({ query: NAMES, variables: { instanceId: DEMO.instanceId } }),
    });
    await response.body?.cancel();
    return response.status;
  }

  it("answers 401 without a valid token and 403 without contacts:read, before reading the operation", async () => {
    expect(await streamStatus()).toBe(401);
    expect(await streamStatus("Bearer not.a.jwt")).toBe(401);
    expect(await streamStatus(`Bearer ${await token({ scope: "profile", connect_instances: ["*"] })}`)).toBe(403);
    expect(await streamStatus(`Bearer ${await token(READ)}`)).toBe(200);
  });
});

describe("live contacts: validation with introspection off", () => {
  const MISSPELLED = `subscription($instanceId: ID!) { contactEvents(instanceId: $instanceId) { eventTyp } }`;

  it("masks field suggestions in a refused subscription's errors, over WebSocket and SSE, as on POST /graphql", async () => {
    const ws = stack.subscribe(stack.ws({ connectionParams: { authorization: `Bearer ${await token(READ)}` } }), MISSPELLED, { instanceId: DEMO.instanceId });
    await waitUntil(() => ws.ended !== undefined, "the refusal");
    const [error] = ws.ended!.error as Array<{ message: string; extensions: { code: string } }>;
    expect(error!.extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(error!.message).toBe('Cannot query field "eventTyp" on type "ContactEvent". [Suggestion hidden]');

    const response = await fetch(`${stack.url}/stream`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${await token(READ)}` },
      body: JSON.stringify({ query: MISSPELLED, variables: { instanceId: DEMO.instanceId } }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { errors: Array<{ message: string }> };
    expect(body.errors[0]!.message).toBe('Cannot query field "eventTyp" on type "ContactEvent". [Suggestion hidden]');
    expect(stack.gateway.events!.hub.size).toBe(0);
  });
});
