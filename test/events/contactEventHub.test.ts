import { describe, expect, it } from "vitest";
import type { ContactEvent } from "../../src/domain/contactEvent.js";
import { toContactModel } from "../../src/domain/contactRef.js";
import { ContactEventHub, type ContactEventDelivery } from "../../src/events/contactEventHub.js";

const REF = { region: "us-east-1", instanceId: "i-1", contactId: "c-1" };
let sequence = 0;
function delivery(overrides: Partial<ContactEvent> = {}, contact: ContactEventDelivery["contact"] = toContactModel({ Id: "c-1" }, REF)): ContactEventDelivery {
  sequence++;
  return {
    event: {
      eventId: `e-${sequence}`,
      eventType: "QUEUED",
      timestamp: new Date(1_700_000_000_000 + sequence * 1000),
      ref: { region: "us-east-1", instanceId: "i-1", contactId: "c-1" },
      channel: "VOICE",
      ...overrides,
    },
    contact,
  };
}

async function take<T>(iterator: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i++) out.push((await iterator.next()).value as T);
  return out;
}

describe("ContactEventHub", () => {
  it("delivers each event once to every subscriber of its instance, in order", async () => {
    const hub = new ContactEventHub({ bufferEvents: 10 });
    const a = hub.subscribe({ instanceId: "i-1" });
    const b = hub.subscribe({ instanceId: "i-1" });
    const other = hub.subscribe({ instanceId: "i-2" });
    const sent = [delivery(), delivery(), delivery()];
    expect(sent.map((d) => hub.deliver(d))).toEqual([2, 2, 2]);
    expect(await take(a, 3)).toEqual(sent);
    expect(await take(b, 3)).toEqual(sent);
    expect(other.size).toBe(0);
  });

  it("combines the filter's conditions with AND, reading queue and agent from the contact when the event has none", async () => {
    const hub = new ContactEventHub({ bufferEvents: 10 });
    const filtered = hub.subscribe({ instanceId: "i-1", eventTypes: new Set(["DISCONNECTED"]), queueIds: new Set(["q-1"]), channels: new Set(["VOICE"]) });
    const wanted = delivery({ eventType: "DISCONNECTED" }, toContactModel({ Id: "c-1", QueueInfo: { Id: "q-1" } }, REF));
    expect(hub.deliver(delivery({ eventType: "QUEUED", queueId: "q-1" }))).toBe(0);
    expect(hub.deliver(delivery({ eventType: "DISCONNECTED", queueId: "q-2" }))).toBe(0);
    expect(hub.deliver(delivery({ eventType: "DISCONNECTED", channel: "CHAT", queueId: "q-1" }))).toBe(0);
    expect(hub.deliver(wanted)).toBe(1);
    expect(await take(filtered, 1)).toEqual([wanted]);
  });

  it("gives a subscriber of an instance ARN only events of its account: the event's instance ARN's, else the contact's", async () => {
    const hub = new ContactEventHub({ bufferEvents: 10 });
    const own = hub.subscribe({ instanceId: "i-1", accountId: "123456789012" });
    const foreign = hub.subscribe({ instanceId: "i-1", accountId: "999999999999" });
    const ownArn = "arn:aws:connect:us-east-1:123456789012:instance/i-1/contact/c-1";
    const fromEvent = delivery({ accountId: "123456789012" });
    // Relayed by a replica that did not send the account: the contact read after it tells it.
    const fromContact = delivery({}, toContactModel({ Id: "c-1", Arn: ownArn }, REF));
    // Neither tells it: no subscriber of an account gets it.
    const unknown = delivery({}, null);
    expect([fromEvent, fromContact, unknown].map((d) => hub.deliver(d))).toEqual([1, 1, 0]);
    expect(await take(own, 2)).toEqual([fromEvent, fromContact]);
    expect(foreign.size).toBe(0);
  });

  it("cuts off a subscriber that falls behind by more than its buffer, bounding what it holds, and says why", async () => {
    const hub = new ContactEventHub({ bufferEvents: 3 });
    const overflows: Error[] = [];
    const slow = hub.subscribe({ instanceId: "i-1" }, (error) => overflows.push(error));
    const fast = hub.subscribe({ instanceId: "i-1" });
    const received: ContactEventDelivery[] = [];
    for (let i = 0; i < 3; i++) {
      hub.deliver(delivery());
      received.push(...(await take(fast, 1)));
    }
    expect(slow.size).toBe(3);
    expect(overflows).toEqual([]);
    hub.deliver(delivery());
    received.push(...(await take(fast, 1)));
    expect(slow.size).toBe(0);
    expect(overflows).toHaveLength(1);
    expect(hub.size).toBe(1); // the slow one is unregistered; the fast one keeps receiving
    await expect(slow.next()).rejects.toMatchObject({ extensions: { code: "SUBSCRIBER_TOO_SLOW", limit: "SUBSCRIPTION_BUFFER_EVENTS" } });
    expect(await slow.next()).toEqual({ value: undefined, done: true });
    expect(received).toHaveLength(4);
  });

  it("unregisters a subscriber at once when it ends, even while it waits for an event", async () => {
    const hub = new ContactEventHub({ bufferEvents: 3 });
    const subscriber = hub.subscribe({ instanceId: "i-1" });
    const pending = subscriber.next();
    await subscriber.return();
    expect(await pending).toEqual({ value: undefined, done: true });
    expect(hub.size).toBe(0);
    expect(hub.deliver(delivery())).toBe(0);
  });

  it("ends every subscription on shutdown after what was already queued for it", async () => {
    const hub = new ContactEventHub({ bufferEvents: 5 });
    const subscriber = hub.subscribe({ instanceId: "i-1" });
    const queued = delivery();
    hub.deliver(queued);
    hub.endAll();
    expect(await subscriber.next()).toEqual({ value: queued, done: false });
    expect(await subscriber.next()).toEqual({ value: undefined, done: true });
    expect(hub.size).toBe(0);
  });
});
