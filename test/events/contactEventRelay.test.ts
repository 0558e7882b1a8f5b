import pino from "pino";
import { describe, expect, it } from "vitest";
import type { ContactEvent } from "../../src/domain/contactEvent.js";
import type { ContactModel, ContactRef } from "../../src/domain/contactRef.js";
import { LOCAL_BUS } from "../../src/events/contactEventBus.js";
import { ContactEventHub, type ContactEventDelivery } from "../../src/events/contactEventHub.js";
import { ContactEventRelay, type ContactStore } from "../../src/events/contactEventRelay.js";
import { EventDeduplicator } from "../../src/events/eventDeduplicator.js";

const INSTANCE = "9f2c4e1a-7b3d-4c8e-a5f6-0d1e2f3a4b5c";
const ref = (contactId: string): ContactRef => ({ region: "us-east-1", instanceId: INSTANCE, contactId });
const event = (eventId: string, contactId: string, at = "2026-11-29T12:00:00Z"): ContactEvent => ({ eventId, eventType: "CONNECTED_TO_AGENT", timestamp: new Date(at), ref: ref(contactId) });

/**
 * The contact source as the relay sees it on a replica that hears another's events: what it was
 * told to drop, and a read of the shared tier that takes as long as `readMs` says for each contact
 * (a contact the shared tier lacks is read from Connect, and may wait for the quota).
 */
function slowStore(readMs: Record<string, number>) {
  const log: string[] = [];
  const store: ContactStore = {
    refresh: (r) => store.read(r),
    evictLocal: (r) => void log.push(`evict ${r.contactId}`),
    read: async (r) => {
      await new Promise((resolve) => setTimeout(resolve, readMs[r.contactId] ?? 0));
      log.push(`read ${r.contactId}`);
      return { id: r.contactId } as unknown as ContactModel;
    },
  };
  return { store, log };
}

function relayOver(store: ContactStore) {
  const hub = new ContactEventHub({ bufferEvents: 100 });
  const changed: string[] = [];
  const relay = new ContactEventRelay({
    store,
    hub,
    bus: LOCAL_BUS,
    deduplicator: new EventDeduplicator({ claimMs: 1000, windowMs: 60_000 }),
    logger: pino({ level: "silent" }),
    onContactChanged: (r) => void changed.push(r.contactId),
  });
  const delivered: ContactEventDelivery[] = [];
  const queue = hub.subscribe({ instanceId: INSTANCE });
  void (async () => {
    for await (const delivery of queue) delivered.push(delivery);
  })();
  return { relay, changed, delivered };
}

describe("ContactEventRelay: events another replica applied", () => {
  it("drops this replica's copy and responses of each contact as soon as its event is heard, even while an earlier event's read is slow", async () => {
    const { store, log } = slowStore({ X: 1_500 });
    const { relay, changed, delivered } = relayOver(store);
    relay.heard(event("e1", "X"));
    relay.heard(event("e2", "Y"));
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Y's stale copy and responses are gone at once; its read waits behind X's.
    expect(changed).toContain("Y");
    expect(log).toContain("evict Y");
    expect(log).not.toContain("read Y");
    await relay.settled();
    // Delivered in the order heard, each after its read; each contact dropped again just before it is read.
    expect(delivered.map((d) => d.event.eventId)).toEqual(["e1", "e2"]);
    expect(log.filter((l) => l.startsWith("read"))).toEqual(["read X", "read Y"]);
    expect(log.lastIndexOf("evict Y")).toBeGreaterThan(log.indexOf("read X"));
    expect(log.lastIndexOf("evict Y")).toBeLessThan(log.indexOf("read Y"));
  });

  it("still drops the copy for an event older than the last one delivered for its contact, and delivers it no more", async () => {
    const { store, log } = slowStore({});
    const { relay, changed, delivered } = relayOver(store);
    relay.heard(event("new", "X", "2026-11-29T12:00:05Z"));
    await relay.settled();
    const before = changed.length;
    relay.heard(event("old", "X", "2026-11-29T12:00:00Z"));
    // Dropped at once all the same: what this replica holds may be older still.
    expect(changed.length).toBe(before + 1);
    await relay.settled();
    expect(delivered.map((d) => d.event.eventId)).toEqual(["new"]);
    expect(log.filter((l) => l === "read X")).toHaveLength(1);
  });

  it("does not deliver an event it applies once a newer one for its contact was heard and delivered while it read", async () => {
    const { store } = slowStore({ X: 300 });
    const { relay, delivered } = relayOver(store);
    const applied = relay.apply(event("t1", "X", "2026-11-29T12:00:01Z"));
    await new Promise((resolve) => setTimeout(resolve, 50));
    relay.heard(event("t3", "X", "2026-11-29T12:00:03Z"));
    relay.heard(event("t2", "X", "2026-11-29T12:00:02Z"));
    expect(await applied).toBe("stale");
    await relay.settled();
    expect(delivered.map((d) => d.event.eventId)).toEqual(["t3"]);
  });

  it("does not deliver a heard event once this replica has applied a newer one for its contact while it waited", async () => {
    const { store } = slowStore({ X: 500 });
    const { relay, delivered } = relayOver(store);
    relay.heard(event("x1", "X", "2026-11-29T12:00:00Z"));
    relay.heard(event("y2", "Y", "2026-11-29T12:00:02Z"));
    // While y2 waits behind x1's slow read, this replica takes a newer event of Y off the queue.
    expect(await relay.apply(event("y3", "Y", "2026-11-29T12:00:03Z"))).toBe("applied");
    await relay.settled();
    expect(delivered.map((d) => d.event.eventId)).toEqual(["y3", "x1"]);
  });
});
