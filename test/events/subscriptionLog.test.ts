import { SignJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { startLiveStack, waitUntil, type LiveStack } from "../support/liveStack.js";
import type { LogLine } from "../support/loggedGateway.js";

const SECRET = "subscription-log-secret-0123456789abcdef-0123456";
const READ: JWTPayload = { sub: "ada@example.com", scope: "contacts:read", connect_instances: ["*"] };
const token = (claims: JWTPayload, expiresAt: number | string = "10m") =>
  new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime(expiresAt).sign(new TextEncoder().encode(SECRET));

const WATCH = `subscription Wallboard($instanceId: ID!) { contactEvents(instanceId: $instanceId) { eventType contact { id name } } }`;

const lines: LogLine[] = [];
let stack: LiveStack;

beforeAll(async () => {
  stack = await startLiveStack({ env: { AUTH_MODE: "jwt", AUTH_JWT_SECRET: SECRET, AUTH_CLOCK_TOLERANCE_SECONDS: "0" }, logLines: lines });
});
afterAll(async () => {
  await stack?.close();
});

/** The `subscription` log lines written so far. */
const subscriptionLines = () => lines.filter((line) => line.msg === "subscription");

describe("the subscription log line", () => {
  it("logs one line when a subscription ends, with its request id, operation, results sent and outcome, and nothing of the caller, document or variables", async () => {
    const before = subscriptionLines().length;
    const watcher = stack.subscribe(stack.ws({ connectionParams: { authorization: `Bearer ${await token(READ)}` } }), WATCH, { instanceId: DEMO.instanceId });
    await stack.subscribers(1);
    const contactId = stack.emulator.events.emit({ eventType: "INITIATED", channel: "VOICE" }).detail.contactId;
    stack.emulator.events.emit({ eventType: "QUEUED", contactId });
    await waitUntil(() => watcher.results.length === 2, "two events");
    expect(subscriptionLines()).toHaveLength(before);
    watcher.unsubscribe();
    await waitUntil(() => subscriptionLines().length === before + 1, "the line");

    const line = subscriptionLines().at(-1)!;
    expect(line).toMatchObject({ level: 30, transport: "ws", operationName: "Wallboard", operationType: "subscription", results: 2, outcome: "ok", msg: "subscription" });
    expect(line.requestId).toEqual(expect.any(String));
    expect(line.durationMs).toEqual(expect.any(Number));
    expect(line.errorCodes).toBeUndefined();
    const text = JSON.stringify(line);
    for (const secret of ["ada@example.com", DEMO.instanceId, contactId, "contactEvents"]) expect(text).not.toContain(secret);
  });

  it("says how it ended when the gateway ended it: UNAUTHENTICATED at the first event after the token expired", async () => {
    const before = subscriptionLines().length;
    // Long enough to connect and subscribe on a loaded machine; the subscription then outlives it.
    const expiresAt = Math.ceil(Date.now() / 1000) + 3;
    const watcher = stack.subscribe(stack.ws({ connectionParams: { authorization: `Bearer ${await token(READ, expiresAt)}` } }), WATCH, { instanceId: DEMO.instanceId });
    await stack.subscribers(1);
    await waitUntil(() => Date.now() > expiresAt * 1000, "the token to expire", 5000);
    stack.emulator.events.emit({ eventType: "INITIATED", channel: "CHAT" });
    await waitUntil(() => watcher.ended !== undefined && subscriptionLines().length === before + 1, "the subscription to end and its line");

    expect(subscriptionLines().at(-1)).toMatchObject({ operationName: "Wallboard", results: 1, outcome: "error", errorCodes: ["UNAUTHENTICATED"] });
  });
});
