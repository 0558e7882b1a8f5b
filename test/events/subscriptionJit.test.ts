import { getNamedType, isObjectType, type GraphQLObjectType } from "graphql";
import { SignJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { buildSchema } from "../../src/graphql/schema.js";
import { startLiveStack, waitUntil, type LiveStack, type Received } from "../support/liveStack.js";

// GRAPHQL_JIT=true runs each subscription event through graphql-jit; it must answer exactly as
// graphql-js does. Two gateways, each on an emulator of its own with the same seed (each consumes
// its emulator's one queue), are sent the same events at the same times; each subscriber's results
// must be the same on both, event ids (drawn per emulator) aside.

const SECRET = "subscription-jit-secret-0123456789abcdef-0123456";
const READ: JWTPayload = { sub: "wallboard", scope: "contacts:read", connect_instances: ["*"] };
const READ_PII: JWTPayload = { sub: "supervisor", scope: "contacts:read contacts:pii", connect_instances: ["*"] };
const token = (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime("10m").sign(new TextEncoder().encode(SECRET));

const RELATIONS = new Set(["previousContact", "initialContact", "relatedContact", "transferChain"]);

/** Every field of `type` that takes no required argument, objects once per path, contact relations left out. */
function selectAll(type: GraphQLObjectType, path: string[] = []): string {
  return Object.values(type.getFields())
    .filter((f) => !RELATIONS.has(f.name) && f.args.every((a) => a.type.toString().slice(-1) !== "!"))
    .map((f) => {
      const named = getNamedType(f.type);
      if (!isObjectType(named)) return f.name;
      if (path.includes(named.name)) return null;
      return `${f.name} { ${selectAll(named, [...path, named.name])} }`;
    })
    .filter(Boolean)
    .join(" ");
}

const contactType = buildSchema().getType("Contact") as GraphQLObjectType;

/** The event and its contact with every field, joins and relations (each with every field). */
const RICH = `subscription Rich($instanceId: ID!) {
  contactEvents(instanceId: $instanceId) {
    eventType contactId instanceId timestamp
    contact {
      ...All
      previousContact { ...All }
      initialContact { id channel }
      transferChain { id channel initiationTimestamp }
    }
  }
}
fragment All on Contact { ${selectAll(contactType, ["Contact"])} }`;

const ENV = { AUTH_MODE: "jwt", AUTH_JWT_SECRET: SECRET, MAX_COST: "100000", MAX_TOKENS: "50000" };
let graphqlJs: LiveStack;
let jit: LiveStack;

beforeAll(async () => {
  graphqlJs = await startLiveStack({ env: { ...ENV, GRAPHQL_JIT: "false" } });
  jit = await startLiveStack({ env: { ...ENV, GRAPHQL_JIT: "true" } });
});
afterAll(async () => {
  await jit?.close();
  await graphqlJs?.close();
});

/** `graphql_subscription_results_total` on `stack`, from its `GET /metrics`. */
async function subscriptionResults(stack: LiveStack): Promise<{ executed: number; shared: number }> {
  const text = await (await fetch(stack.url.replace(/\/graphql$/, "/metrics"))).text();
  const of = (execution: string) => Number(new RegExp(`^graphql_subscription_results_total\\{execution="${execution}"\\} (\\S+)`, "m").exec(text)?.[1] ?? 0);
  return { executed: of("executed"), shared: of("shared") };
}

/** A subscriber of the demo instance on `stack` with the rich selection. */
async function watch(stack: LiveStack, claims: JWTPayload): Promise<Received> {
  return stack.subscribe(stack.ws({ connectionParams: { authorization: `Bearer ${await token(claims)}` } }), RICH, { instanceId: DEMO.instanceId });
}

describe("GRAPHQL_JIT=true runs subscription events as graphql-js does", () => {
  it("answers every event of a life cycle and a transfer the same, with and without contacts:pii, through compiled code", async () => {
    const on = [graphqlJs, jit];
    // A second subscriber with the masked one's access on each gateway: it shares that execution.
    const watchers = await Promise.all(on.map(async (stack) => ({ clear: await watch(stack, READ_PII), masked: await watch(stack, READ), alsoMasked: await watch(stack, READ) })));
    await Promise.all(on.map((stack) => stack.subscribers(3)));
    const before = { ...jit.gateway.subscriptionJit!.runs };
    const resultsBefore = await Promise.all(on.map(subscriptionResults));

    // The same events, at the same times, on both emulators: a contact's life cycle, then its transfer.
    const start = Date.now();
    const emitBoth = (input: Record<string, unknown>, second: number) =>
      on.map((stack) => stack.emulator.events.emit({ ...input, time: start + second * 1000 } as never).detail.contactId);
    const [first, firstOnJit] = emitBoth({ eventType: "INITIATED", channel: "VOICE" }, 0);
    expect(firstOnJit).toBe(first);
    emitBoth({ eventType: "QUEUED", contactId: first }, 1);
    emitBoth({ eventType: "CONNECTED_TO_AGENT", contactId: first }, 2);
    emitBoth({ eventType: "DISCONNECTED", contactId: first }, 3);
    const [transfer] = emitBoth({ eventType: "INITIATED", previousContactId: first }, 4);
    emitBoth({ eventType: "CONTACT_DATA_UPDATED", contactId: transfer, name: "Ada Lovelace's callback" }, 5);

    const all = watchers.flatMap((w) => [w.clear, w.masked, w.alsoMasked]);
    await waitUntil(() => all.every((r) => r.results.length === 6), "six events for every subscriber", 20_000);
    for (const kind of ["clear", "masked", "alsoMasked"] as const) {
      const expected = watchers[0]![kind].results;
      expect(expected.every((r) => r.errors === undefined)).toBe(true);
      expect(watchers[1]![kind].results).toEqual(expected);
    }
    // The selection reached deep: the transfer's previous contact, and the update masked without pii.
    const update = watchers[1]!.masked.results[5]!;
    expect(update.data.contactEvents.contact.previousContact.id).toBe(first);
    expect(update.data.contactEvents.contact.name).toBe("[REDACTED]");
    expect(watchers[1]!.clear.results[5]!.data.contactEvents.contact.name).toBe("Ada Lovelace's callback");
    // Compiled code ran them: one execution per event and access (two accesses), none on graphql-js.
    expect(jit.gateway.subscriptionJit!.runs.jit - before.jit).toBe(12);
    expect(jit.gateway.subscriptionJit!.runs.graphqlJs - before.graphqlJs).toBe(0);
    // On both executors the third subscriber shared the masked one's executions.
    const resultsAfter = await Promise.all(on.map(subscriptionResults));
    for (const [i, after] of resultsAfter.entries()) expect({ executed: after.executed - resultsBefore[i]!.executed, shared: after.shared - resultsBefore[i]!.shared }).toEqual({ executed: 12, shared: 6 });
    for (const r of all) r.unsubscribe();
  });

  it("runs a subscription with a variable named __proto__ on graphql-js, which jit's coerced variables would lack", async () => {
    // Only over WebSocket: Fastify's JSON parser refuses a POST body with a `__proto__` key.
    const query = `subscription($__proto__: ID!) { contactEvents(instanceId: $__proto__) { eventType contactId contact { id } } }`;
    // JSON.parse makes `__proto__` an own key (an object literal would set the prototype instead).
    const variables = JSON.parse(`{"__proto__":"${DEMO.instanceId}"}`) as Record<string, unknown>;
    const on = [graphqlJs, jit];
    const watchers = await Promise.all(on.map(async (stack) => stack.subscribe(stack.ws({ connectionParams: { authorization: `Bearer ${await token(READ)}` } }), query, variables)));
    await Promise.all(on.map((stack) => stack.subscribers(1)));
    const before = { ...jit.gateway.subscriptionJit!.runs };

    const time = Date.now();
    const [contactId] = on.map((stack) => stack.emulator.events.emit({ eventType: "INITIATED", channel: "CHAT", time }).detail.contactId);
    await waitUntil(() => watchers.every((r) => r.results.length === 1), "the event on both");

    expect(watchers[0]!.results[0]).toEqual({ data: { contactEvents: { eventType: "INITIATED", contactId, contact: { id: contactId } } } });
    expect(watchers[1]!.results).toEqual(watchers[0]!.results);
    expect(jit.gateway.subscriptionJit!.runs.graphqlJs - before.graphqlJs).toBe(1);
    expect(jit.gateway.subscriptionJit!.runs.jit - before.jit).toBe(0);
    for (const r of watchers) r.unsubscribe();
  });
});
