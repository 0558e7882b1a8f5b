import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAuthenticator } from "../../src/http/authentication.js";
import { ANONYMOUS_SHARE, quotaShareOf } from "../../src/upstream/quotaShare.js";
import { ConfigError, loadConfig } from "../../src/config/config.js";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { DEMO } from "../../src/emulator/dataset.js";
import { rawRequest } from "../support/http.js";
import { startStack, type Stack } from "../support/stack.js";

const I = DEMO.instanceId;
const SECRET = "auth-test-secret-0123456789abcdef-0123456789abcdef";
const ISSUER = "https://idp.example.com/";
const AUDIENCE = "connect-graphql";
const secretKey = new TextEncoder().encode(SECRET);
const READ = { scope: "contacts:read", connect_instances: ["*"] };

let emulator: Emulator;
let hs: Stack;
let jwksDir: string;

beforeAll(async () => {
  emulator = await startEmulator({ quota: false });
  hs = await startStack({
    sharedEmulator: emulator,
    env: { AUTH_MODE: "jwt", AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE, CACHE_TTL_SECONDS: "0" },
  });
  jwksDir = mkdtempSync(join(tmpdir(), "connect-graphql-jwks-"));
});
afterAll(async () => {
  await hs?.close();
  await emulator?.close();
  if (jwksDir) rmSync(jwksDir, { recursive: true, force: true });
});
beforeEach(() => emulator.resetStats());

/** An HS256 token for the `hs` gateway: right issuer and audience, 10 minutes, unless overridden. */
function hsToken(claims: JWTPayload = READ, edit: (jwt: SignJWT) => SignJWT = (j) => j, key: Uint8Array = secretKey): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuer(ISSUER).setAudience(AUDIENCE).setIssuedAt().setExpirationTime("10m");
  return edit(jwt).sign(key);
}

const contactQuery = (instanceId = I, contactId: string = DEMO.fullContactId) => `{ contact(instanceId: "${instanceId}", contactId: "${contactId}") { id } }`;

async function ask(stack: Stack, query: string, token?: string) {
  return stack.query(query, undefined, token === undefined ? {} : { authorization: `Bearer ${token}` });
}

function expectRefused(answer: { status: number; body: any }, status: number, code: string, message?: RegExp): void {
  expect(answer.status).toBe(status);
  expect(answer.body).toEqual({ errors: [{ message: expect.any(String), extensions: { code } }] });
  if (message) expect(answer.body.errors[0].message).toMatch(message);
  expect(emulator.calls.total).toBe(0);
}

describe("configuration", () => {
  it("refuses to start in aws mode without a key, naming the settings", () => {
    expect(() => loadConfig({ CONNECT_MODE: "aws", AWS_REGION: "us-east-1" })).toThrow(ConfigError);
    expect(() => loadConfig({ CONNECT_MODE: "aws", AWS_REGION: "us-east-1" })).toThrow(/AUTH_JWT_SECRET, AUTH_JWKS_URL or AUTH_JWKS_FILE/);
  });

  it("starts in aws mode without a key only when AUTH_MODE=none is explicit", () => {
    expect(loadConfig({ CONNECT_MODE: "aws", AWS_REGION: "us-east-1", AUTH_MODE: "none" }).AUTH_MODE).toBe("none");
    expect(loadConfig({ CONNECT_MODE: "aws", AWS_REGION: "us-east-1", AUTH_JWT_SECRET: SECRET }).AUTH_MODE).toBe("jwt");
  });

  it("defaults to no authentication in emulator mode", () => {
    expect(loadConfig({}).AUTH_MODE).toBe("none");
  });

  it("refuses a secret shorter than 32 characters", () => {
    expect(() => loadConfig({ AUTH_MODE: "jwt", AUTH_JWT_SECRET: "short" })).toThrow(/AUTH_JWT_SECRET/);
  });

  it("refuses an unreadable JWKS file at start-up", () => {
    const path = join(jwksDir, "not-a-jwks.json");
    writeFileSync(path, "{ nope");
    expect(() => createAuthenticator(loadConfig({ AUTH_MODE: "jwt", AUTH_JWKS_FILE: path }))).toThrow(ConfigError);
    expect(() => createAuthenticator(loadConfig({ AUTH_MODE: "jwt", AUTH_JWKS_FILE: join(jwksDir, "missing.json") }))).toThrow(/AUTH_JWKS_FILE/);
  });
});

describe("HS256 bearer tokens", () => {
  it("serves a valid token", async () => {
    const { status, body } = await ask(hs, contactQuery(), await hsToken());
    expect(status).toBe(200);
    expect(body.data.contact.id).toBe(DEMO.fullContactId);
    expect(emulator.calls.byApi.DescribeContact).toBe(1);
  });

  it("answers a request without a token with 401 UNAUTHENTICATED and a Bearer challenge", async () => {
    const answer = await ask(hs, contactQuery());
    expectRefused(answer, 401, "UNAUTHENTICATED", /Missing bearer token/);
    expect(answer.headers.get("www-authenticate")).toMatch(/^Bearer /);
  });

  it("answers 401 to a request without a token that carries an `Upgrade: websocket` header but is no upgrade, the event stream's included", async () => {
    const { pathname } = new URL(hs.url);
    const query = contactQuery();
    const json = { "content-type": "application/json", upgrade: "websocket" };
    for (const [path, headers] of [
      [pathname, json],
      [`${pathname}/stream`, { ...json, accept: "text/event-stream" }],
    ] as const) {
      const answer = await rawRequest(hs.url, "POST", path, headers, JSON.stringify({ query: path.endsWith("stream") ? `subscription { contactEvents(instanceId: "${I}") { eventType } }` : query }));
      expect(answer.status, path).toBe(401);
      expect(answer.body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
    }
    expect(emulator.calls.total).toBe(0);
  });

  it("refuses another authorization scheme", async () => {
    const answer = await hs.query(contactQuery(), undefined, { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` });
    expectRefused(answer, 401, "UNAUTHENTICATED");
  });

  it("refuses an expired token", async () => {
    const token = await hsToken(READ, (j) => j.setIssuedAt(Math.floor(Date.now() / 1000) - 600).setExpirationTime(Math.floor(Date.now() / 1000) - 120));
    const answer = await ask(hs, contactQuery(), token);
    expectRefused(answer, 401, "UNAUTHENTICATED", /expired/);
    expect(answer.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("accepts a token expired by less than AUTH_CLOCK_TOLERANCE_SECONDS (30)", async () => {
    const token = await hsToken(READ, (j) => j.setIssuedAt(Math.floor(Date.now() / 1000) - 600).setExpirationTime(Math.floor(Date.now() / 1000) - 5));
    expect((await ask(hs, contactQuery(), token)).status).toBe(200);
  });

  it("refuses a token without an expiry", async () => {
    const token = await new SignJWT(READ).setProtectedHeader({ alg: "HS256" }).setIssuer(ISSUER).setAudience(AUDIENCE).sign(secretKey);
    expectRefused(await ask(hs, contactQuery(), token), 401, "UNAUTHENTICATED", /"exp"/);
  });

  it("refuses a token not valid yet", async () => {
    const token = await hsToken(READ, (j) => j.setNotBefore("10m").setExpirationTime("20m"));
    expectRefused(await ask(hs, contactQuery(), token), 401, "UNAUTHENTICATED", /"nbf"/);
  });

  it("refuses a token for another audience", async () => {
    const token = await hsToken(READ, (j) => j.setAudience("someone-else"));
    expectRefused(await ask(hs, contactQuery(), token), 401, "UNAUTHENTICATED", /"aud"/);
  });

  it("refuses a token from another issuer", async () => {
    const token = await hsToken(READ, (j) => j.setIssuer("https://evil.example.net/"));
    expectRefused(await ask(hs, contactQuery(), token), 401, "UNAUTHENTICATED", /"iss"/);
  });

  it("refuses a token signed with another secret (forged)", async () => {
    const token = await hsToken(READ, undefined, new TextEncoder().encode("another-secret-0123456789abcdef-0123456789"));
    expectRefused(await ask(hs, contactQuery(), token), 401, "UNAUTHENTICATED", /signature/);
  });

  it("refuses a token whose claims were edited after signing", async () => {
    const [header, , signature] = (await hsToken({ scope: "contacts:read", connect_instances: [DEMO.secondInstanceId] })).split(".");
    const payload = Buffer.from(JSON.stringify({ ...READ, iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 })).toString("base64url");
    expectRefused(await ask(hs, contactQuery(), `${header}.${payload}.${signature}`), 401, "UNAUTHENTICATED", /signature/);
  });

  it('refuses an unsigned token (alg "none")', async () => {
    const header = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    const payload = Buffer.from(JSON.stringify({ ...READ, iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 })).toString("base64url");
    expectRefused(await ask(hs, contactQuery(), `${header}.${payload}.`), 401, "UNAUTHENTICATED");
  });

  it("refuses an RS256 token when only a secret is configured", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    const token = await new SignJWT(READ).setProtectedHeader({ alg: "RS256" }).setIssuer(ISSUER).setAudience(AUDIENCE).setExpirationTime("10m").sign(privateKey);
    expectRefused(await ask(hs, contactQuery(), token), 401, "UNAUTHENTICATED", /algorithm/);
  });

  it("refuses a valid token without the contacts:read scope with 403 FORBIDDEN", async () => {
    const answer = await ask(hs, contactQuery(), await hsToken({ scope: "contacts:pii profile", connect_instances: ["*"] }));
    expectRefused(answer, 403, "FORBIDDEN", /contacts:read/);
    expect(answer.headers.get("www-authenticate")).toContain('error="insufficient_scope"');
  });

  it("accepts the scope claim as a list too", async () => {
    const { status } = await ask(hs, contactQuery(), await hsToken({ scope: ["contacts:read"], connect_instances: ["*"] }));
    expect(status).toBe(200);
  });
});

// The quota share a caller gets (src/upstream/quotaShare.ts) is read from these claims: a token
// without a subject (a machine client's) must still get a share of its own, not the anonymous one.
describe("who a token names", () => {
  const authenticator = () => createAuthenticator(loadConfig({ AUTH_MODE: "jwt", AUTH_JWT_SECRET: SECRET, AUTH_ISSUER: ISSUER, AUTH_AUDIENCE: AUDIENCE }));
  const principalOf = async (claims: JWTPayload) => authenticator().authenticate(`Bearer ${await hsToken({ ...READ, ...claims })}`);

  it("names a token by its subject, and also by its client id when it has one", async () => {
    const p = await principalOf({ sub: "alice@example.com", client_id: "wallboard" });
    expect(p.subject).toBe("alice@example.com");
    expect(p.clientId).toBe("wallboard");
  });

  it("takes the client id from client_id, else from azp, and gives each client its own quota share", async () => {
    const byClientId = await principalOf({ client_id: "wallboard", azp: "ignored-when-client_id-is-there" });
    const byAzp = await principalOf({ azp: "crm-sync" });
    expect(byClientId).toMatchObject({ clientId: "wallboard" });
    expect(byClientId.subject).toBeUndefined();
    expect(byAzp).toMatchObject({ clientId: "crm-sync" });
    const shares = [quotaShareOf(byClientId), quotaShareOf(byAzp)];
    expect(new Set(shares).size).toBe(2);
    for (const share of shares) expect(share).not.toBe(ANONYMOUS_SHARE);
    expect(quotaShareOf(await principalOf({ client_id: "wallboard" }))).toBe(shares[0]);
  });

  it("puts a token with neither a subject nor a client id in the anonymous share", async () => {
    const p = await principalOf({});
    expect(p.subject).toBeUndefined();
    expect(p.clientId).toBeUndefined();
    expect(quotaShareOf(p)).toBe(ANONYMOUS_SHARE);
  });

  it("ignores a client id that is not a string", async () => {
    const p = await principalOf({ client_id: 42, azp: "crm-sync" });
    expect(p.clientId).toBe("crm-sync");
  });
});

describe("RS256 and ES256 through a local JWKS file", () => {
  let stack: Stack;
  let rsa: CryptoKey;
  let ec: CryptoKey;

  beforeAll(async () => {
    const rsaPair = await generateKeyPair("RS256", { extractable: true });
    const ecPair = await generateKeyPair("ES256", { extractable: true });
    rsa = rsaPair.privateKey;
    ec = ecPair.privateKey;
    const keys = [
      { ...(await exportJWK(rsaPair.publicKey)), kid: "rsa-1", alg: "RS256", use: "sig" },
      { ...(await exportJWK(ecPair.publicKey)), kid: "ec-1", alg: "ES256", use: "sig" },
    ];
    const path = join(jwksDir, "jwks.json");
    writeFileSync(path, JSON.stringify({ keys }));
    stack = await startStack({ sharedEmulator: emulator, env: { AUTH_MODE: "jwt", AUTH_JWKS_FILE: path, CACHE_TTL_SECONDS: "0" } });
  });
  afterAll(() => stack?.close());

  const sign = (key: CryptoKey, alg: string, kid: string, claims: JWTPayload = READ) =>
    new SignJWT(claims).setProtectedHeader({ alg, kid }).setExpirationTime("10m").sign(key);

  it("serves an RS256 token signed by a key of the set", async () => {
    const { status, body } = await ask(stack, contactQuery(), await sign(rsa, "RS256", "rsa-1"));
    expect(status).toBe(200);
    expect(body.data.contact.id).toBe(DEMO.fullContactId);
  });

  it("serves an ES256 token signed by a key of the set", async () => {
    expect((await ask(stack, contactQuery(), await sign(ec, "ES256", "ec-1"))).status).toBe(200);
  });

  it("refuses a token signed by another key under a known kid", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    expectRefused(await ask(stack, contactQuery(), await sign(privateKey, "RS256", "rsa-1")), 401, "UNAUTHENTICATED", /signature/);
  });

  it("refuses a token whose kid is not in the set", async () => {
    expectRefused(await ask(stack, contactQuery(), await sign(rsa, "RS256", "rsa-2")), 401, "UNAUTHENTICATED", /no configured key/);
  });

  it("refuses an HS256 token (no secret is configured, so the public key cannot be abused as one)", async () => {
    const token = await new SignJWT(READ).setProtectedHeader({ alg: "HS256", kid: "rsa-1" }).setExpirationTime("10m").sign(secretKey);
    expectRefused(await ask(stack, contactQuery(), token), 401, "UNAUTHENTICATED", /algorithm/);
  });
});

describe("a remote JWKS (AUTH_JWKS_URL)", () => {
  let jwksServer: Server;
  let stack: Stack;
  let down: Stack;
  let key: CryptoKey;
  let jwksFetches = 0;

  beforeAll(async () => {
    const pair = await generateKeyPair("RS256", { extractable: true });
    key = pair.privateKey;
    const body = JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: "remote-1", alg: "RS256" }] });
    jwksServer = createServer((_, res) => {
      jwksFetches += 1;
      res.writeHead(200, { "content-type": "application/json" }).end(body);
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, "127.0.0.1", resolve));
    const port = (jwksServer.address() as { port: number }).port;
    stack = await startStack({ sharedEmulator: emulator, env: { AUTH_MODE: "jwt", AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json`, CACHE_TTL_SECONDS: "0" } });
    // Port 9 (discard) on loopback: nothing listens, so the key set cannot be fetched.
    down = await startStack({ sharedEmulator: emulator, env: { AUTH_MODE: "jwt", AUTH_JWKS_URL: "http://127.0.0.1:9/jwks.json" } });
  });
  afterAll(async () => {
    await Promise.all([stack?.close(), down?.close()]);
    await new Promise((resolve) => jwksServer?.close(resolve));
  });

  it("verifies tokens with the fetched keys, fetching the set once for many requests", async () => {
    const token = await new SignJWT(READ).setProtectedHeader({ alg: "RS256", kid: "remote-1" }).setExpirationTime("10m").sign(key);
    for (let i = 0; i < 3; i++) expect((await ask(stack, contactQuery(), token)).status).toBe(200);
    expect(jwksFetches).toBe(1);
  });

  it("answers 503 UPSTREAM_ERROR, not 401, when the key set cannot be fetched", async () => {
    const token = await new SignJWT(READ).setProtectedHeader({ alg: "RS256", kid: "remote-1" }).setExpirationTime("10m").sign(key);
    expectRefused(await ask(down, contactQuery(), token), 503, "UPSTREAM_ERROR");
  });

  it("answers 503 UPSTREAM_ERROR, not 401, when the JWKS URL answers with an error status or not JSON (a proxy in front of a down identity provider)", async () => {
    const answers = [
      [502, "text/html", "<h1>Bad Gateway</h1>"],
      [503, "application/json", '{"error":"unavailable"}'],
      [200, "text/html", "<h1>Maintenance</h1>"],
    ] as const;
    let next = 0;
    const failing = createServer((_, res) => {
      const [status, type, body] = answers[Math.min(next++, answers.length - 1)]!;
      res.writeHead(status, { "content-type": type }).end(body);
    });
    await new Promise<void>((resolve) => failing.listen(0, "127.0.0.1", resolve));
    const proxied = await startStack({ sharedEmulator: emulator, env: { AUTH_MODE: "jwt", AUTH_JWKS_URL: `http://127.0.0.1:${(failing.address() as { port: number }).port}/jwks.json` } });
    try {
      const token = await new SignJWT(READ).setProtectedHeader({ alg: "RS256", kid: "remote-1" }).setExpirationTime("10m").sign(key);
      for (let i = 0; i < answers.length; i++) expectRefused(await ask(proxied, contactQuery(), token), 503, "UPSTREAM_ERROR");
      expect(next).toBe(answers.length);
    } finally {
      await proxied.close();
      await new Promise((resolve) => failing.close(resolve));
    }
  });
});

describe("per-instance authorization", () => {
  const onlySecond = { scope: "contacts:read", connect_instances: [DEMO.secondInstanceId] };

  it("answers a field for an instance the token does not list with FORBIDDEN, and calls nothing", async () => {
    const { status, body } = await ask(hs, contactQuery(I), await hsToken(onlySecond));
    expect(status).toBe(200);
    expect(body.data).toEqual({ contact: null });
    expect(body.errors).toEqual([expect.objectContaining({ path: ["contact"], extensions: { code: "FORBIDDEN", argument: "instanceId" } })]);
    expect(emulator.calls.total).toBe(0);
  });

  it("serves the listed instance next to a refused one in the same operation", async () => {
    const { body } = await ask(
      hs,
      `{ mine: contact(instanceId: "${DEMO.secondInstanceId}", contactId: "${DEMO.secondInstanceContactId}") { id instanceId }
         theirs: contact(instanceId: "${I}", contactId: "${DEMO.fullContactId}") { id } }`,
      await hsToken(onlySecond),
    );
    expect(body.data).toEqual({ mine: { id: DEMO.secondInstanceContactId, instanceId: DEMO.secondInstanceId }, theirs: null });
    expect(body.errors!.map((e: any) => [e.path, e.extensions.code])).toEqual([[["theirs"], "FORBIDDEN"]]);
    expect(emulator.calls.byContact).toEqual({ [`${DEMO.secondInstanceId}/${DEMO.secondInstanceContactId}`]: 1 });
  });

  it("refuses a whole contacts list for another instance with one FORBIDDEN error", async () => {
    const { body } = await ask(hs, `{ contacts(instanceId: "${I}", contactIds: ["${DEMO.fullContactId}", "${DEMO.longChainTailId}"]) { id } }`, await hsToken(onlySecond));
    expect(body.data?.contacts ?? null).toBeNull(); // the list is non-null, so `data` itself may be null
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]!.extensions!.code).toBe("FORBIDDEN");
    expect(emulator.calls.total).toBe(0);
  });

  it("refuses a contact ARN of another instance, naming the arn argument", async () => {
    const { body } = await ask(hs, `{ contactByArn(arn: "${DEMO.instanceArn}/contact/${DEMO.fullContactId}") { id } }`, await hsToken(onlySecond));
    expect(body.errors![0]!.extensions).toEqual({ code: "FORBIDDEN", argument: "arn" });
    expect(emulator.calls.total).toBe(0);
  });

  it("refuses every instance when the token has no connect_instances claim", async () => {
    const { body } = await ask(hs, contactQuery(), await hsToken({ scope: "contacts:read" }));
    expect(body.errors![0]!.extensions!.code).toBe("FORBIDDEN");
    expect(emulator.calls.total).toBe(0);
  });

  it("reads any instance with connect_instances [\"*\"]", async () => {
    const { body } = await ask(
      hs,
      `{ a: contact(instanceId: "${DEMO.secondInstanceId}", contactId: "${DEMO.secondInstanceContactId}") { id } b: contact(instanceId: "${I}", contactId: "${DEMO.fullContactId}") { id } }`,
      await hsToken(),
    );
    expect(body.errors).toBeUndefined();
    expect(emulator.calls.byApi.DescribeContact).toBe(2);
  });

  it("accepts instance ARNs in connect_instances", async () => {
    const { body } = await ask(hs, contactQuery(), await hsToken({ scope: "contacts:read", connect_instances: [DEMO.instanceArn] }));
    expect(body.errors).toBeUndefined();
    expect(body.data.contact.id).toBe(DEMO.fullContactId);
  });

  it("grants nothing for an ARN wildcard: only the literal \"*\" grants every instance", async () => {
    const wildcardArn = DEMO.instanceArn.replace(/instance\/.*$/, "instance/*");
    const malformed = `${DEMO.instanceArn.replace(/instance\/.*$/, "instance/")}../${I}`;
    const token = await hsToken({ scope: "contacts:read", connect_instances: [wildcardArn, "arn:aws:connect:eu-west-2:999999999999:instance/*", malformed] });
    for (const [instanceId, contactId] of [
      [I, DEMO.fullContactId],
      [DEMO.secondInstanceId, DEMO.secondInstanceContactId],
    ]) {
      const { body } = await ask(hs, `{ contact(instanceId: "${instanceId}", contactId: "${contactId}") { id } }`, token);
      expect(body.data).toEqual({ contact: null });
      expect(body.errors![0]!.extensions).toEqual({ code: "FORBIDDEN", argument: "instanceId" });
    }
    expect(emulator.calls.total).toBe(0);
  });

  it("follows relations only inside the instance of the contact they start from", async () => {
    const { body } = await ask(
      hs,
      `{ contact(instanceId: "${I}", contactId: "${DEMO.relatedChainContactId}") {
          id previousContact { id relatedContact { id } } initialContact { id relatedContact { id initialContact { id } } } relatedContact { id } } }`,
      await hsToken({ scope: "contacts:read", connect_instances: [I] }),
    );
    expect(body.errors).toBeUndefined();
    const keys = Object.keys(emulator.calls.byContact);
    expect(keys.length).toBeGreaterThan(1);
    for (const key of keys) expect(key.startsWith(`${I}/`)).toBe(true);
  });
});

describe("AUTH_MODE=none", () => {
  it("serves without a token, every instance, and ignores an Authorization header", async () => {
    const open = await startStack({ sharedEmulator: emulator, env: { AUTH_MODE: "none" } });
    try {
      const { status, body } = await open.query(
        `{ a: contact(instanceId: "${DEMO.secondInstanceId}", contactId: "${DEMO.secondInstanceContactId}") { id } b: contact(instanceId: "${I}", contactId: "${DEMO.fullContactId}") { id } }`,
        undefined,
        { authorization: "Bearer not-even-a-jwt" },
      );
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(emulator.calls.byApi.DescribeContact).toBe(2);
    } finally {
      await open.close();
    }
  });
});
