import { SignJWT, type JWTPayload } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import type { ExecutionResult } from "graphql";
import { SharedExecutions } from "../../src/graphql/sharedExecutions.js";
import { createMetrics } from "../../src/observability/metrics.js";
import { startLiveStack, waitUntil, type LiveStack, type Received } from "../support/liveStack.js";

const SECRET = "shared-executions-secret-0123456789abcdef-012345";
const WALLBOARD: JWTPayload = { sub: "wallboard", scope: "contacts:read", connect_instances: ["*"] };
// Another subject with the same access: nothing in a result depends on the subject.
const TEAM_LEAD: JWTPayload = { sub: "team-lead", scope: "contacts:read", connect_instances: ["*"] };
const SUPERVISOR: JWTPayload = { sub: "supervisor", scope: "contacts:read contacts:pii", connect_instances: ["*"] };

function token(claims: JWTPayload, expiresAt: number | string = "10m"): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt().setExpirationTime(expiresAt).sign(new TextEncoder().encode(SECRET));
}

const EVENTS = `subscription Events($instanceId: ID!, $contactIds: [ID!]) {
  contactEvents(instanceId: $instanceId, filter: { contactIds: $contactIds }) {
    eventId
    eventType
    contact { id name queueInfo { queue { name } } previousContact { id } }
  }
}`;

const metrics = createMetrics();
let stack: LiveStack;

beforeAll(async () => {
  stack = await startLiveStack({ env: { AUTH_MODE: "jwt", AUTH_JWT_SECRET: SECRET, AUTH_CLOCK_TOLERANCE_SECONDS: "0" }, gateway: { metrics } });
});
afterAll(async () => {
  await stack?.close();
});
afterEach(async () => {
  await stack.queueDrained();
  await waitUntil(() => stack.gateway.events!.hub.size === 0, "no subscription left");
});

/** `graphql_subscription_results_total` by `execution`, as the gateway counts them now. */
async function results(): Promise<{ executed: number; shared: number }> {
  const { values } = await metrics.registry.getSingleMetric("graphql_subscription_results_total")!.get();
  const of = (execution: string) => values.find((v) => v.labels.execution === execution)?.value ?? 0;
  return { executed: of("executed"), shared: of("shared") };
}

async function subscriber(claims: JWTPayload, variables: Record<string, unknown>, expiresAt?: number): Promise<Received> {
  return stack.subscribe(stack.ws({ connectionParams: { authorization: `Bearer ${await token(claims, expiresAt)}` } }), EVENTS, variables);
}

/** A contact whose INITIATED was applied before anyone subscribed; resolves its id. */
async function existingContact(): Promise<string> {
  const contactId = stack.emulator.events.emit({ eventType: "INITIATED", channel: "VOICE" }).detail.contactId;
  await stack.queueDrained("INITIATED applied");
  return contactId;
}

describe("shared subscription executions", () => {
  it("executes each event once for 20 WebSocket and one SSE subscriber with the same document, variables and access, whoever their subject, and delivers it to each", async () => {
    const variables = { instanceId: DEMO.instanceId };
    const ws = await Promise.all(Array.from({ length: 20 }, (_, i) => subscriber(i % 2 === 0 ? WALLBOARD : TEAM_LEAD, variables)));
    const sse = stack.subscribe(stack.sse({ authorization: `Bearer ${await token(WALLBOARD)}` }), EVENTS, variables);
    const everyone = [...ws, sse];
    await stack.subscribers(21);
    const before = await results();
    stack.resetCalls();

    const contactId = stack.emulator.events.emit({ eventType: "INITIATED", channel: "VOICE" }).detail.contactId;
    stack.emulator.events.emit({ eventType: "QUEUED", contactId });
    stack.emulator.events.emit({ eventType: "DISCONNECTED", contactId });
    await waitUntil(() => everyone.every((r) => r.results.length >= 3), "every subscriber to receive 3 events");

    const first = ws[0]!.results;
    expect(first.map((r) => r.data.contactEvents.eventType)).toEqual(["INITIATED", "QUEUED", "DISCONNECTED"]);
    expect(first.every((r) => r.data.contactEvents.contact.id === contactId && r.errors === undefined)).toBe(true);
    for (const received of everyone) expect(received.results).toEqual(first);
    const after = await results();
    expect(after.executed - before.executed).toBe(3);
    expect(after.shared - before.shared).toBe(3 * 20);
    // Below the shared executions, still one DescribeContact per event.
    expect(stack.emulator.calls.byApi.DescribeContact).toBe(3);
    for (const r of everyone) r.unsubscribe();
  });

  it("executes apart for subscribers whose access or variables differ, so none receives another's redaction", async () => {
    const contactId = await existingContact();
    const masked = [await subscriber(WALLBOARD, { instanceId: DEMO.instanceId }), await subscriber(TEAM_LEAD, { instanceId: DEMO.instanceId })];
    const clear = await subscriber(SUPERVISOR, { instanceId: DEMO.instanceId });
    const filtered = await subscriber(WALLBOARD, { instanceId: DEMO.instanceId, contactIds: [contactId] });
    await stack.subscribers(4);
    const before = await results();

    stack.emulator.events.emit({ eventType: "CONTACT_DATA_UPDATED", contactId, name: "Ada Lovelace's callback" });
    await waitUntil(() => [...masked, clear, filtered].every((r) => r.results.length === 1), "the update");

    for (const r of [...masked, filtered]) {
      expect(r.results[0]!.data.contactEvents.contact.name).toBe("[REDACTED]");
      expect(r.results[0]!.extensions).toEqual({ redacted: ["Contact.name"] });
    }
    expect(clear.results[0]!.data.contactEvents.contact.name).toBe("Ada Lovelace's callback");
    expect(clear.results[0]!.extensions).toBeUndefined();
    const after = await results();
    // Three shapes (read-only, read + pii, read with another filter), and the second read-only subscriber shares.
    expect(after.executed - before.executed).toBe(3);
    expect(after.shared - before.shared).toBe(1);
    for (const r of [...masked, clear, filtered]) r.unsubscribe();
  });

  it("checks each subscriber's token at every event, so one whose token expired ends instead of receiving the result executed for another", async () => {
    const variables = { instanceId: DEMO.instanceId };
    // The lasting subscriber first: it pulls each event first and executes it for both.
    const lasting = await subscriber(TEAM_LEAD, variables);
    await stack.subscribers(1);
    // Long enough to connect and subscribe on a loaded machine; the subscription then outlives it.
    const expiresAt = Math.ceil(Date.now() / 1000) + 3;
    const expiring = await subscriber(WALLBOARD, variables, expiresAt);
    await stack.subscribers(2);
    await waitUntil(() => Date.now() > expiresAt * 1000, "the token to expire", 5000);
    const before = await results();

    const contactId = stack.emulator.events.emit({ eventType: "INITIATED", channel: "VOICE" }).detail.contactId;
    await waitUntil(() => expiring.ended !== undefined && lasting.results.length === 1, "the event");

    const after = await results();
    expect(after.executed - before.executed).toBe(1);
    expect(after.shared - before.shared).toBe(0);
    expect(expiring.results).toHaveLength(1);
    expect(expiring.results[0]!.data).toBeUndefined();
    expect(expiring.results[0]!.errors![0]!.extensions!.code).toBe("UNAUTHENTICATED");
    expect(lasting.results[0]!.data.contactEvents.contact.id).toBe(contactId);
    lasting.unsubscribe();
  });
});

describe("SharedExecutions", () => {
  const event = {};
  const executions = () => {
    let count = 0;
    return { run: () => Promise.resolve<ExecutionResult>({ data: { n: ++count } }), count: () => count };
  };

  it("keeps a result only until every subscriber of its key that had joined has pulled it", async () => {
    const shared = new SharedExecutions();
    const run = executions();
    shared.join("k");
    shared.join("k");
    shared.join("k");
    const first = shared.run(event, "k", run.run);
    const second = shared.run(event, "k", run.run);
    const third = shared.run(event, "k", run.run);
    expect([first.shared, second.shared, third.shared]).toEqual([false, true, true]);
    expect(await third.result).toBe(await first.result);
    // All three pulled it: gone, so a fourth pull (a subscriber counted nowhere) executes again.
    const fourth = shared.run(event, "k", run.run);
    expect(fourth.shared).toBe(false);
    expect(run.count()).toBe(2);
  });

  it("rejects for every subscriber sharing an execution that rejected, and executes the next event afresh", async () => {
    const shared = new SharedExecutions();
    shared.join("k");
    shared.join("k");
    const failing = () => Promise.reject<ExecutionResult>(new Error("resolver threw outside GraphQL"));
    const first = shared.run(event, "k", failing);
    const second = shared.run(event, "k", failing);
    expect(second.shared).toBe(true);
    await expect(first.result).rejects.toThrow("resolver threw outside GraphQL");
    await expect(second.result).rejects.toThrow("resolver threw outside GraphQL");
    const next = shared.run({}, "k", () => Promise.resolve({ data: { ok: true } }));
    expect(next.shared).toBe(false);
    expect(await next.result).toEqual({ data: { ok: true } });
  });

  it("executes apart for another key or another event, and keeps nothing for a subscriber alone", async () => {
    const shared = new SharedExecutions();
    const run = executions();
    shared.join("a");
    shared.join("b");
    expect(shared.run(event, "a", run.run).shared).toBe(false);
    expect(shared.run(event, "b", run.run).shared).toBe(false);
    expect(shared.run({}, "a", run.run).shared).toBe(false);
    // Alone under its key: nothing kept, its next pull of the same event (never made) would execute.
    expect(shared.run(event, "a", run.run).shared).toBe(false);
    shared.leave("b");
    shared.join("a");
    const other = {};
    expect(shared.run(other, "a", run.run).shared).toBe(false);
    expect(shared.run(other, "a", run.run).shared).toBe(true);
    expect(run.count()).toBe(5);
  });
});
