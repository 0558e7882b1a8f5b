import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { REFUSED_FINAL_AFTER_RECEIVES } from "../../src/events/contactEventRelay.js";
import { parseContactEvent } from "../../src/events/parseContactEvent.js";
import { startLiveStack, waitUntil, type LiveStack } from "../support/liveStack.js";

/**
 * Messages the consumer cannot apply as they are: none stops it, none loses the messages around
 * it, and one whose contact Connect will never describe is delivered without it instead of coming
 * back for as long as the queue keeps it.
 */

const EVENTS = `subscription ($instanceId: ID!) { contactEvents(instanceId: $instanceId) { eventId eventType contact { id } } }`;
const DEPTH = 20_000;
/** A contact event of the demo instance whose `detail` holds a member nested `DEPTH` levels deep. */
const deeplyNested = (eventId: string, contactId: string, time = "2026-01-01T00:00:00Z") =>
  JSON.stringify({
    id: eventId,
    "detail-type": "Amazon Connect Contact Event",
    source: "aws.connect",
    time,
    detail: { eventType: "CONTACT_DATA_UPDATED", contactId, instanceArn: DEMO.instanceArn, channel: "VOICE" },
  }).replace('"channel"', `"unknown":${"[".repeat(DEPTH)}${"]".repeat(DEPTH)},"channel"`);

describe("parseContactEvent", () => {
  it("reads an event with a member nested 20,000 levels deep, passing that member through unread", () => {
    const parsed = parseContactEvent(deeplyNested("deep-1", "c-1"));
    expect(parsed).toMatchObject({ ok: true, event: { eventId: "deep-1", eventType: "CONTACT_DATA_UPDATED", channel: "VOICE" } });
  });

  it("refuses a body nested 20,000 levels deep that is not a contact event, without throwing", () => {
    const body = `{"id":"x","detail-type":"Amazon Connect Contact Event","source":"aws.connect","time":"2026-01-01T00:00:00Z","detail":{"a":${"[".repeat(DEPTH)}${"]".repeat(DEPTH)}}}`;
    expect(parseContactEvent(body)).toEqual({ ok: false, reason: "not a contact event (detail: eventType: invalid_type)" });
  });
});

describe("the consumer", () => {
  let stack: LiveStack;
  beforeAll(async () => {
    stack = await startLiveStack();
  });
  afterAll(async () => {
    await stack?.close();
  });
  const watchers: Array<{ unsubscribe(): void }> = [];
  beforeEach(async () => {
    await stack.queueDrained();
    stack.resetCalls();
  });
  afterEach(async () => {
    for (const watcher of watchers.splice(0)) watcher.unsubscribe();
    await waitUntil(() => stack.gateway.events!.hub.size === 0, "no subscription left");
  });

  it("applies the events around a deeply nested one and that one too, deletes all three, and keeps receiving", async () => {
    const watcher = stack.subscribe(stack.ws(), EVENTS, { instanceId: DEMO.instanceId });
    watchers.push(watcher);
    await stack.subscribers(1);
    const first = stack.emulator.events.emit({ eventType: "INITIATED", channel: "VOICE" });
    const contactId = first.detail.contactId;
    // At the first event's time (whole seconds, as EventBridge's): not older than it, not newer than the last.
    stack.emulator.events.sendRaw(deeplyNested("deep-event", contactId, first.time));
    const last = stack.emulator.events.emit({ eventType: "QUEUED", contactId });

    await waitUntil(() => watcher.results.length === 3, "three events");
    expect(watcher.results.map((r) => r.data?.contactEvents?.eventId)).toEqual([first.id, "deep-event", last.id]);
    await waitUntil(() => stack.emulator.calls.sqs.messagesDeleted === 3, "three messages deleted");
    expect(stack.gateway.events!.state).toBe("receiving");
    expect(stack.describeContactCalls()).toBe(3);
  });

  it("delivers an event whose DescribeContact Connect keeps refusing as invalid with contact null at its third receive, once, and deletes its message", async () => {
    const watcher = stack.subscribe(stack.ws(), EVENTS, { instanceId: DEMO.instanceId });
    watchers.push(watcher);
    await stack.subscribers(1);
    const first = stack.emulator.events.emit({ eventType: "INITIATED", channel: "VOICE" });
    await waitUntil(() => watcher.results.length === 1 && stack.emulator.calls.sqs.messagesDeleted === 1, "the first event");
    stack.resetCalls();

    stack.emulator.failNext(1000, 400, "DescribeContact"); // InvalidRequestException, every time
    const refused = stack.emulator.events.emit({ eventType: "QUEUED", contactId: first.detail.contactId });
    // Received and refused twice (made visible again 2 s, then 4 s later), final at the third receive.
    await waitUntil(() => watcher.results.length === 2, "the refused event", 20_000);
    expect(watcher.results[1]!.data?.contactEvents).toEqual({ eventId: refused.id, eventType: "QUEUED", contact: null });
    await waitUntil(() => stack.emulator.calls.sqs.messagesDeleted === 1, "its message deleted");
    expect(stack.describeContactCalls()).toBe(REFUSED_FINAL_AFTER_RECEIVES);
    expect(stack.emulator.calls.sqs.messagesReceived).toBe(REFUSED_FINAL_AFTER_RECEIVES);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(watcher.results).toHaveLength(2); // delivered once
    stack.emulator.failNext(0, 400, "DescribeContact");
  });
});
