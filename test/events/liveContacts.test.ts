import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { startLiveStack, waitUntil, type LiveStack, type Received } from "../support/liveStack.js";

const EVENTS = `subscription Events($instanceId: ID!, $filter: ContactEventFilter) {
  contactEvents(instanceId: $instanceId, filter: $filter) {
    eventId
    eventType
    contactId
    timestamp
    contact {
      id
      disconnectTimestamp
      queueInfo { id queue { name } }
      previousContact { id }
    }
  }
}`;

let stack: LiveStack;

beforeAll(async () => {
  // The queue's default 30-second visibility timeout: a failed apply comes back sooner because the
  // consumer shortens it (2 s for a first failure).
  stack = await startLiveStack();
});
afterAll(async () => {
  await stack?.close();
});
afterEach(async () => {
  // Every spec leaves the queue drained and nothing subscribed.
  await stack.queueDrained();
  await waitUntil(() => stack.gateway.events!.hub.size === 0, "no subscription left");
});

/**
 * A subscriber of the whole instance and a new contact whose INITIATED it has received, with the
 * emulator's counts zeroed once that event's message was deleted (so only what follows counts).
 */
async function watchNewContact() {
  const watcher = stack.subscribe(stack.ws(), EVENTS, { instanceId: DEMO.instanceId });
  await stack.subscribers(1);
  const contactId = startContact();
  await waitUntil(() => watcher.results.length === 1, "INITIATED");
  await stack.queueDrained();
  stack.resetCalls();
  return { watcher, contactId };
}

/** A new voice contact (its INITIATED event); returns its id. */
function startContact(): string {
  return stack.emulator.events.emit({ eventType: "INITIATED", channel: "VOICE" }).detail.contactId;
}

function eventIds(received: Received): string[] {
  return received.results.map((r) => r.data?.contactEvents?.eventId);
}

describe("Subscription.contactEvents", () => {
  it("delivers each event once and in order to 100 WebSocket subscribers and one SSE subscriber, with one DescribeContact per event, and leaves the queue empty", async () => {
    const ws = Array.from({ length: 100 }, () => stack.subscribe(stack.ws(), EVENTS, { instanceId: DEMO.instanceId }));
    const sse = stack.subscribe(stack.sse(), EVENTS, { instanceId: DEMO.instanceId });
    await stack.subscribers(101);
    stack.resetCalls();

    const initiated = stack.emulator.events.emit({ eventType: "INITIATED", channel: "VOICE" });
    const contactId = initiated.detail.contactId;
    const sent = [initiated.id];
    for (const eventType of ["QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED"]) sent.push(stack.emulator.events.emit({ eventType, contactId }).id);

    const everyone = [...ws, sse];
    await waitUntil(() => everyone.every((r) => r.results.length >= 4), "every subscriber to receive 4 events");
    await new Promise((resolve) => setTimeout(resolve, 200)); // nothing more arrives
    for (const received of everyone) {
      expect(received.results).toHaveLength(4);
      expect(received.results.every((r) => r.errors === undefined)).toBe(true);
      expect(eventIds(received)).toEqual(sent);
      expect(received.results.map((r) => r.data.contactEvents.eventType)).toEqual(["INITIATED", "QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED"]);
    }
    // One DescribeContact per event, however many of the 101 subscribers selected `contact`.
    expect(stack.emulator.calls.byApi.DescribeContact).toBe(4);
    // Every message taken from the queue was deleted after it was applied.
    await waitUntil(() => stack.emulator.calls.sqs.messagesDeleted === 4, "the 4 messages deleted");
    expect(stack.emulator.calls.sqs.messagesReceived).toBe(4);
    // The queue's joins are shared too: one DescribeQueue for the whole run (then cached).
    expect(stack.emulator.calls.byApi.DescribeQueue).toBeLessThanOrEqual(1);
    const last = sse.results.at(-1)!.data.contactEvents;
    expect(last.contact.id).toBe(contactId);
    expect(last.contact.disconnectTimestamp).not.toBeNull();
    expect(last.contact.queueInfo.queue.name).toEqual(expect.any(String));
    for (const r of everyone) r.unsubscribe();
    await waitUntil(() => stack.gateway.events!.hub.size === 0, "every subscription to end");
  });

  it("gives a filtered subscriber only the events its filter names", async () => {
    const filtered = stack.subscribe(stack.ws(), EVENTS, { instanceId: DEMO.instanceId, filter: { eventTypes: ["DISCONNECTED"] } });
    const all = stack.subscribe(stack.ws(), EVENTS, { instanceId: DEMO.instanceId });
    await stack.subscribers(2);
    const contactId = startContact();
    stack.emulator.events.emit({ eventType: "QUEUED", contactId });
    const disconnected = stack.emulator.events.emit({ eventType: "DISCONNECTED", contactId });
    await waitUntil(() => all.results.length === 3 && filtered.results.length === 1, "the events");
    expect(eventIds(filtered)).toEqual([disconnected.id]);
    filtered.unsubscribe();
    all.unsubscribe();
  });

  it("gives a subscriber of an instance ARN only the events of its account: none of this account's to an ARN of another", async () => {
    const own = stack.subscribe(stack.ws(), EVENTS, { instanceId: DEMO.instanceArn });
    const foreign = stack.subscribe(stack.ws(), EVENTS, { instanceId: DEMO.instanceArn.replace(`:${DEMO.accountId}:`, ":999999999999:") });
    const all = stack.subscribe(stack.ws(), EVENTS, { instanceId: DEMO.instanceId });
    try {
      await stack.subscribers(3);
      const contactId = startContact();
      const queued = stack.emulator.events.emit({ eventType: "QUEUED", contactId });
      await waitUntil(() => all.results.length === 2 && own.results.length === 2, "the events");
      await new Promise((resolve) => setTimeout(resolve, 200)); // nothing more arrives
      expect(eventIds(own)).toEqual(eventIds(all));
      expect(eventIds(own)[1]).toBe(queued.id);
      expect(foreign.results).toEqual([]);
    } finally {
      own.unsubscribe();
      foreign.unsubscribe();
      all.unsubscribe();
    }
  });

  it("shows a query right after DISCONNECTED the disconnect time of a contact cached while active", async () => {
    const contactId = startContact();
    stack.emulator.events.emit({ eventType: "QUEUED", contactId });
    await stack.queueDrained("the events applied");
    const query = `query($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id disconnectTimestamp } }`;
    const before = await stack.query(query, { i: DEMO.instanceId, c: contactId });
    expect(before.body.data.contact.disconnectTimestamp).toBeNull(); // cached, active, within CACHE_ACTIVE_TTL_SECONDS

    const watcher = stack.subscribe(stack.ws(), EVENTS, { instanceId: DEMO.instanceId, filter: { contactIds: [contactId] } });
    await stack.subscribers(1);
    stack.emulator.events.emit({ eventType: "DISCONNECTED", contactId });
    await waitUntil(() => watcher.results.length === 1, "the DISCONNECTED event");
    stack.resetCalls();
    const after = await stack.query(query, { i: DEMO.instanceId, c: contactId });
    expect(after.body.data.contact.disconnectTimestamp).toEqual(expect.any(String));
    expect(stack.emulator.calls.byApi.DescribeContact).toBe(0); // the event refreshed the cache
    watcher.unsubscribe();
  });

  it("delivers an event sent twice (same EventBridge id) once, and deletes both copies", async () => {
    const { watcher, contactId } = await watchNewContact();
    const queued = stack.emulator.events.emit({ eventType: "QUEUED", contactId });
    stack.emulator.events.sendRaw(JSON.stringify(queued));
    await waitUntil(() => stack.emulator.calls.sqs.messagesDeleted === 2, "both copies deleted");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(eventIds(watcher)).toEqual([watcher.results[0]!.data.contactEvents.eventId, queued.id]);
    expect(stack.emulator.calls.byApi.DescribeContact).toBe(1);
    watcher.unsubscribe();
  });

  it("leaves an event whose contact could not be read on the queue and applies it when redelivered", async () => {
    const { watcher, contactId } = await watchNewContact();
    stack.emulator.failNext(1, 400, "DescribeContact");
    const queued = stack.emulator.events.emit({ eventType: "QUEUED", contactId });
    await waitUntil(() => watcher.results.length === 2, "the redelivered event", 15_000);
    expect(eventIds(watcher)[1]).toBe(queued.id);
    expect(stack.emulator.calls.byApi.DescribeContact).toBe(2); // the failed read, then the redelivery's
    expect(stack.emulator.calls.sqs.byAction.ChangeMessageVisibility).toBe(1); // brought back early
    watcher.unsubscribe();
  });

  it("deletes a message that is not a contact event (no dead-letter queue) and carries on with the next", async () => {
    const watcher = stack.subscribe(stack.ws(), EVENTS, { instanceId: DEMO.instanceId });
    await stack.subscribers(1);
    stack.emulator.events.sendRaw("this is not JSON");
    stack.emulator.events.sendRaw(JSON.stringify({ "detail-type": "Something Else", source: "aws.ec2", id: "x", time: new Date().toISOString(), detail: {} }));
    startContact();
    await waitUntil(() => watcher.results.length === 1, "the contact event after the rejected ones");
    expect(watcher.results[0]!.data.contactEvents.eventType).toBe("INITIATED");
    const metrics = await (await fetch(stack.url.replace("/graphql", "/metrics"))).text();
    expect(metrics).toMatch(/connect_events_total\{outcome="rejected"\} [2-9]/);
    watcher.unsubscribe();
  });

  it("refuses a subscription naming a malformed instance id before subscribing, and queries sent to the stream", async () => {
    const bad = stack.subscribe(stack.ws(), EVENTS, { instanceId: "not an id!" });
    await waitUntil(() => bad.ended !== undefined || bad.results.length > 0, "the refusal");
    const errors = (bad.ended?.error as Array<{ extensions?: { code?: string } }> | undefined) ?? bad.results[0]?.errors;
    expect(JSON.stringify(errors)).toContain("BAD_USER_INPUT");
    const query = stack.subscribe(stack.ws(), `{ contact(instanceId: "${DEMO.instanceId}", contactId: "x") { id } }`);
    await waitUntil(() => query.ended !== undefined, "the refusal");
    expect(JSON.stringify(query.ended!.error)).toContain("POST /graphql");
    expect(stack.gateway.events!.hub.size).toBe(0);
  });

  it("refuses a subscription whose events would each carry nested lists of contacts past MAX_RESULT_CONTACTS, before subscribing", async () => {
    const nested = `subscription ($instanceId: ID!) { contactEvents(instanceId: $instanceId) { contact { transferChain { transferChain { transferChain { id } } } } } }`;
    const overWs = stack.subscribe(stack.ws(), nested, { instanceId: DEMO.instanceId });
    await waitUntil(() => overWs.ended !== undefined || overWs.results.length > 0, "the refusal over WebSocket");
    expect(JSON.stringify((overWs.ended?.error as unknown) ?? overWs.results[0]?.errors)).toContain("MAX_RESULT_CONTACTS");
    // graphql-sse's client ends with the refusal's HTTP answer (400, the limit's error in its body).
    const overSse = stack.subscribe(stack.sse(), nested, { instanceId: DEMO.instanceId });
    await waitUntil(() => overSse.ended !== undefined, "the refusal over SSE");
    const response = (overSse.ended!.error as { response?: Response }).response!;
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("MAX_RESULT_CONTACTS");
    expect(stack.gateway.events!.hub.size).toBe(0);
  });
});
