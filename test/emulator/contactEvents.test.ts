import {
  ConnectClient,
  DescribeContactCommand,
  DescribeQueueCommand,
  DescribeUserCommand,
  GetContactAttributesCommand,
  SearchContactsCommand,
  type Contact,
} from "@aws-sdk/client-connect";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, describe, expect, it } from "vitest";
import { ContactEventError, EMULATOR_CREDENTIALS, startEmulator, type ContactEventEnvelope, type Emulator, type EmulatorOptions } from "../../src/emulator/emulator.js";
import { buildDataset, DEMO } from "../../src/emulator/dataset.js";

// Contact events change the data set, so every emulator here gets a data set of its own.

interface Stack {
  emulator: Emulator;
  connect: ConnectClient;
  sqs: SQSClient;
  /** Receives (and deletes) the next event on the queue, waiting for it. */
  next(): Promise<ContactEventEnvelope>;
  describe(contactId: string): Promise<Contact>;
}

const emulators: Emulator[] = [];
const clients: { destroy(): void }[] = [];

async function stack(options: EmulatorOptions = {}): Promise<Stack> {
  const emulator = await startEmulator({ dataset: buildDataset(), ...options });
  emulators.push(emulator);
  const config = { endpoint: emulator.url, region: "us-east-1", credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 };
  const connect = new ConnectClient(config);
  const sqs = new SQSClient(config);
  clients.push(connect, sqs);
  const QueueUrl = emulator.events.queueUrl;
  return {
    emulator,
    connect,
    sqs,
    async next() {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 5 }));
      const message = out.Messages?.[0];
      if (!message) throw new Error("no event arrived");
      await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle }));
      return JSON.parse(message.Body!) as ContactEventEnvelope;
    },
    async describe(contactId) {
      return (await connect.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: contactId }))).Contact!;
    },
  };
}

afterAll(async () => {
  for (const client of clients) client.destroy();
  await Promise.all(emulators.map((e) => e.close()));
});

const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe("contact events", () => {
  it("answers DescribeContact with the state the event announced, as soon as the event can be received", async () => {
    const s = await stack();
    const polling = s.next();
    const initiated = s.emulator.events.emit({ eventType: "INITIATED", channel: "VOICE", initiationMethod: "INBOUND" });
    const received = await polling;
    expect(received).toEqual(initiated);
    const contactId = initiated.detail.contactId;
    // The contact exists by the time its event is receivable.
    const fresh = await s.describe(contactId);
    expect(fresh.InitiationTimestamp?.toISOString()).toBe(initiated.detail.initiationTimestamp);
    expect(fresh.QueueInfo).toBeUndefined();
    expect(fresh.DisconnectTimestamp).toBeUndefined();

    for (const eventType of ["CONNECTED_TO_SYSTEM", "QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED", "COMPLETED"]) {
      const polled = s.next();
      s.emulator.events.emit({ eventType, contactId });
      const event = await polled;
      const contact = await s.describe(contactId);
      expect(contact.LastUpdateTimestamp!.getTime()).toBeGreaterThanOrEqual(Date.parse(event.time));
      if (event.detail.connectedToSystemTimestamp) expect(contact.ConnectedToSystemTimestamp?.toISOString()).toBe(event.detail.connectedToSystemTimestamp);
      if (event.detail.queueInfo) {
        expect(contact.QueueInfo?.EnqueueTimestamp?.toISOString()).toBe(event.detail.queueInfo.enqueueTimestamp);
        expect(event.detail.queueInfo.queueArn).toBe(`${DEMO.instanceArn}/queue/${contact.QueueInfo!.Id}`);
      }
      if (event.detail.agentInfo) {
        expect(contact.AgentInfo?.ConnectedToAgentTimestamp?.toISOString()).toBe(event.detail.agentInfo.connectedToAgentTimestamp);
        expect(event.detail.agentInfo.agentArn).toBe(`${DEMO.instanceArn}/agent/${contact.AgentInfo!.Id}`);
      }
      if (event.detail.disconnectTimestamp) expect(contact.DisconnectTimestamp?.toISOString()).toBe(event.detail.disconnectTimestamp);
    }
    const done = await s.describe(contactId);
    expect(done.DisconnectReason).toEqual(expect.any(String));
    expect(done.AgentInfo?.AfterContactWorkEndTimestamp).toBeInstanceOf(Date);
    // The queue and the agent are the instance's own: DescribeQueue and DescribeUser answer them.
    expect((await s.connect.send(new DescribeQueueCommand({ InstanceId: DEMO.instanceId, QueueId: done.QueueInfo!.Id }))).Queue?.QueueId).toBe(done.QueueInfo!.Id);
    expect((await s.connect.send(new DescribeUserCommand({ InstanceId: DEMO.instanceId, UserId: done.AgentInfo!.Id }))).User?.Id).toBe(done.AgentInfo!.Id);
    expect(s.emulator.calls.byApi).toMatchObject({ DescribeContact: 7, DescribeQueue: 1, DescribeUser: 1 });
    expect(s.emulator.calls.events).toEqual({ emitted: 6, byType: { INITIATED: 1, CONNECTED_TO_SYSTEM: 1, QUEUED: 1, CONNECTED_TO_AGENT: 1, DISCONNECTED: 1, COMPLETED: 1 } });
  });

  it("wraps each event in EventBridge's envelope, camelCase with ISO-8601 timestamps", async () => {
    const s = await stack();
    const { detail: first } = s.emulator.events.emit({ eventType: "INITIATED" });
    s.emulator.events.emit({ eventType: "QUEUED", contactId: first.contactId, time: "2026-11-29T10:00:05.250Z" });
    await s.next();
    const event = await s.next();
    expect(event).toEqual({
      version: "0",
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      "detail-type": "Amazon Connect Contact Event",
      source: "aws.connect",
      account: DEMO.accountId,
      time: "2026-11-29T10:00:05Z",
      region: DEMO.region,
      resources: [DEMO.instanceArn, `${DEMO.instanceArn}/contact/${first.contactId}`],
      detail: {
        eventType: "QUEUED",
        contactId: first.contactId,
        initialContactId: first.contactId,
        channel: first.channel,
        instanceArn: DEMO.instanceArn,
        initiationMethod: first.initiationMethod,
        initiationTimestamp: first.initiationTimestamp,
        queueInfo: { queueArn: expect.stringContaining(`${DEMO.instanceArn}/queue/`), queueType: "STANDARD", enqueueTimestamp: "2026-11-29T10:00:05.250Z" },
      },
    });
    expect(first.initiationTimestamp).toMatch(ISO_MS);
    expect(JSON.stringify(event.detail)).not.toMatch(/"[A-Z][A-Za-z]*":/); // no PascalCase member
  });

  it("makes new contacts as rich as the data set's, with the chain's attributes, found by SearchContacts at once", async () => {
    const s = await stack();
    const ids: string[] = [];
    for (const channel of ["VOICE", "CHAT", "TASK", "EMAIL"] as const) ids.push(s.emulator.events.emit({ eventType: "INITIATED", channel }).detail.contactId);
    for (const contactId of ids) for (const eventType of ["QUEUED", "CONNECTED_TO_AGENT", "DISCONNECTED", "COMPLETED"]) s.emulator.events.emit({ eventType, contactId });
    const main = s.emulator.dataset.instances.get(DEMO.instanceId)!;
    for (const contactId of ids) {
      const contact = await s.describe(contactId);
      expect(contact).toStrictEqual(main.contacts.get(contactId)); // round-trips through the SDK, Dates included
      expect(Object.keys(contact).length).toBeGreaterThanOrEqual(12);
      expect(contact.Arn).toBe(`${DEMO.instanceArn}/contact/${contactId}`);
      const attributes = await s.connect.send(new GetContactAttributesCommand({ InstanceId: DEMO.instanceId, InitialContactId: contactId }));
      expect(attributes.Attributes).toEqual(main.attributes.get(contactId) ?? {});
    }
    const now = Date.now();
    const found = await s.connect.send(new SearchContactsCommand({ InstanceId: DEMO.instanceId, TimeRange: { Type: "INITIATION_TIMESTAMP", StartTime: new Date(now - 60_000), EndTime: new Date(now + 1000) } }));
    expect(found.Contacts?.map((c) => c.Id).sort()).toEqual([...ids].sort());
  });

  it("plays a transfer chain: INITIATED with previousContactId continues the chain of that contact", async () => {
    const s = await stack();
    const { events } = s.emulator;
    const first = events.emit({ eventType: "INITIATED", channel: "VOICE", initiationMethod: "INBOUND" }).detail.contactId;
    events.emit({ eventType: "QUEUED", contactId: first });
    events.emit({ eventType: "CONNECTED_TO_AGENT", contactId: first });
    const second = events.emit({ eventType: "INITIATED", previousContactId: first });
    events.emit({ eventType: "DISCONNECTED", contactId: first, disconnectReason: "AGENT_DISCONNECT" });
    const third = events.emit({ eventType: "INITIATED", previousContactId: second.detail.contactId, initiationMethod: "QUEUE_TRANSFER" });
    expect(second.detail).toMatchObject({ previousContactId: first, initialContactId: first, initiationMethod: "TRANSFER", channel: "VOICE" });
    expect(third.detail).toMatchObject({ previousContactId: second.detail.contactId, initialContactId: first, initiationMethod: "QUEUE_TRANSFER" });
    const tail = await s.describe(third.detail.contactId);
    expect(tail).toMatchObject({ PreviousContactId: second.detail.contactId, InitialContactId: first, InitiationMethod: "QUEUE_TRANSFER", Channel: "VOICE" });
    expect(tail.SystemEndpoint).toBeUndefined(); // not populated for QUEUE_TRANSFER contacts
    expect((await s.describe(first)).DisconnectReason).toBe("AGENT_DISCONNECT");
    // GetContactAttributes answers the chain's attributes for any of its contacts.
    const chain = await s.connect.send(new GetContactAttributesCommand({ InstanceId: DEMO.instanceId, InitialContactId: third.detail.contactId }));
    const head = await s.connect.send(new GetContactAttributesCommand({ InstanceId: DEMO.instanceId, InitialContactId: first }));
    expect(chain.Attributes).toEqual(head.Attributes);
  });

  it("sets what CONTACT_DATA_UPDATED changes and lists it in updatedProperties", async () => {
    const s = await stack();
    const { events } = s.emulator;
    const contactId = events.emit({ eventType: "INITIATED", channel: "TASK", initiationMethod: "API" }).detail.contactId;
    const updated = events.emit({ eventType: "CONTACT_DATA_UPDATED", contactId, attributes: { caseNumber: "CS-123456" }, name: "Refund follow-up" });
    expect(updated.detail.updatedProperties).toEqual(["Attributes", "Name"]);
    const contact = await s.describe(contactId);
    expect(contact.Attributes?.caseNumber).toBe("CS-123456");
    expect(contact.Name).toBe("Refund follow-up");
    const attributes = await s.connect.send(new GetContactAttributesCommand({ InstanceId: DEMO.instanceId, InitialContactId: contactId }));
    expect(attributes.Attributes?.caseNumber).toBe("CS-123456");
    expect(events.emit({ eventType: "CONTACT_DATA_UPDATED", contactId, description: "x", updatedProperties: ["Description", "References"] }).detail.updatedProperties).toEqual(["Description", "References"]);
  });

  it("applies events to the seeded contacts too, and passes unknown event types through", async () => {
    const s = await stack();
    const { events } = s.emulator;
    expect((await s.describe(DEMO.inProgressContactId)).DisconnectTimestamp).toBeUndefined();
    const disconnected = events.emit({ eventType: "DISCONNECTED", contactId: DEMO.inProgressContactId });
    expect((await s.describe(DEMO.inProgressContactId)).DisconnectTimestamp?.toISOString()).toBe(disconnected.detail.disconnectTimestamp);
    events.emit({ eventType: "PAUSED", contactId: DEMO.fullContactId, time: "2026-11-29T09:00:00.123Z" });
    expect((await s.describe(DEMO.fullContactId)).LastPausedTimestamp?.toISOString()).toBe("2026-11-29T09:00:00.123Z");
    const novel = events.emit({ eventType: "AMD_DISABLED", contactId: DEMO.fullContactId });
    expect(novel.detail.eventType).toBe("AMD_DISABLED");
    expect(s.emulator.calls.events.byType).toMatchObject({ DISCONNECTED: 1, PAUSED: 1, AMD_DISABLED: 1 });
  });

  it("refuses what it cannot emit with ContactEventError, and queues nothing", async () => {
    const s = await stack();
    const { events } = s.emulator;
    const contactId = events.emit({ eventType: "INITIATED" }).detail.contactId;
    await s.next();
    const cases: [Parameters<typeof events.emit>[0], RegExp][] = [
      [{ eventType: "QUEUED" }, /needs a contactId/],
      [{ eventType: "QUEUED", contactId: DEMO.missingContactId }, /Contact not found/],
      [{ eventType: "QUEUED", contactId, queueId: DEMO.missingContactId }, /Queue not found/],
      [{ eventType: "CONNECTED_TO_AGENT", contactId, agentId: DEMO.missingContactId }, /User not found/],
      [{ eventType: "INITIATED", contactId }, /already exists/],
      [{ eventType: "INITIATED", previousContactId: DEMO.missingContactId }, /Previous contact not found/],
      [{ eventType: "INITIATED", instanceId: DEMO.missingContactId }, /Instance not found/],
      [{ eventType: "" }, /eventType is required/],
    ];
    for (const [input, message] of cases) {
      expect(() => events.emit(input)).toThrow(ContactEventError);
      expect(() => events.emit(input)).toThrow(message);
    }
    expect(events.depth()).toEqual({ visible: 0, inFlight: 0 });
    expect(s.emulator.calls.events.emitted).toBe(1);
  });
});

describe("the contact events' admin endpoints", () => {
  it("emit an event (POST /_emulator/events), queue a raw body (POST /_emulator/events/raw) and report the queue", async () => {
    const s = await stack();
    const post = (path: string, body: string) => fetch(`${s.emulator.url}${path}`, { method: "POST", body });
    const emitted = await post("/_emulator/events", JSON.stringify({ eventType: "INITIATED", channel: "CHAT", time: "2026-11-29T12:00:00.000Z" }));
    expect(emitted.status).toBe(200);
    const event = (await emitted.json()) as ContactEventEnvelope;
    expect(event).toMatchObject({ source: "aws.connect", time: "2026-11-29T12:00:00Z", detail: { eventType: "INITIATED", channel: "CHAT" } });
    expect(await s.next()).toEqual(event);
    const raw = await post("/_emulator/events/raw", "this is not JSON");
    expect(raw.status).toBe(200);
    const { MessageId } = (await raw.json()) as { MessageId: string };
    const queue = (await (await fetch(`${s.emulator.url}/_emulator/events/queue`)).json()) as Record<string, unknown>;
    expect(queue).toEqual({ queueUrl: s.emulator.events.queueUrl, visible: 1, inFlight: 0 });
    const out = await s.sqs.send(new ReceiveMessageCommand({ QueueUrl: s.emulator.events.queueUrl }));
    expect(out.Messages?.[0]).toMatchObject({ MessageId, Body: "this is not JSON" });

    const refusals: [string, string, RegExp][] = [
      ["/_emulator/events", "{not json", /object/],
      ["/_emulator/events", JSON.stringify({ eventType: "QUEUED", contactId: DEMO.missingContactId }), /Contact not found/],
      ["/_emulator/events", JSON.stringify({ eventType: "INITIATED", colour: "blue" }), /colour/],
      ["/_emulator/events", JSON.stringify({ eventType: "INITIATED", time: "yesterday" }), /time/],
      ["/_emulator/events/raw", "", /body/],
    ];
    for (const [path, body, message] of refusals) {
      const response = await post(path, body);
      expect(response.status, body).toBe(400);
      expect(((await response.json()) as { Message: string }).Message).toMatch(message);
    }
  });

  it("set the live rate at run time (GET|POST /_emulator/events/live)", async () => {
    const s = await stack();
    const url = `${s.emulator.url}/_emulator/events/live`;
    expect(await (await fetch(url)).json()).toEqual({ contactsPerMinute: 0, stepSeconds: 5, instanceId: DEMO.instanceId });
    const set = await fetch(url, { method: "POST", body: JSON.stringify({ contactsPerMinute: 6000, stepSeconds: 0.01 }) });
    expect(await set.json()).toMatchObject({ contactsPerMinute: 6000, stepSeconds: 0.01 });
    await expect.poll(() => s.emulator.calls.events.emitted, { timeout: 5000 }).toBeGreaterThan(0);
    await fetch(url, { method: "POST", body: JSON.stringify({ contactsPerMinute: 0 }) });
    expect(s.emulator.events.live.contactsPerMinute).toBe(0);
    expect((await fetch(url, { method: "POST", body: JSON.stringify({ contactsPerMinute: -1 }) })).status).toBe(400);
  });
});
