import { ConnectClient, DescribeContactCommand } from "@aws-sdk/client-connect";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, describe, expect, it } from "vitest";
import { EMULATOR_CREDENTIALS, startEmulator, type ContactEventEnvelope, type Emulator, type EmulatorOptions } from "../../src/emulator/emulator.js";
import { buildDataset, DEMO } from "../../src/emulator/dataset.js";

// Live traffic on a fast pace (steps of 10-20 ms instead of seconds), so a test watches whole
// lives in well under a second of play.

const emulators: Emulator[] = [];
const clients: { destroy(): void }[] = [];

async function live(events: EmulatorOptions["events"]): Promise<Emulator> {
  const emulator = await startEmulator({ dataset: buildDataset(), events });
  emulators.push(emulator);
  return emulator;
}

afterAll(async () => {
  for (const client of clients) client.destroy();
  await Promise.all(emulators.map((e) => e.close()));
});

/** Every event on the queue, in queue order, received through the SDK and deleted. */
async function drain(emulator: Emulator): Promise<ContactEventEnvelope[]> {
  const sqs = new SQSClient({ endpoint: emulator.url, region: "us-east-1", credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 });
  clients.push(sqs);
  const QueueUrl = emulator.events.queueUrl;
  const events: ContactEventEnvelope[] = [];
  for (;;) {
    const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    if (!out.Messages) return events;
    events.push(...out.Messages.map((m) => JSON.parse(m.Body!) as ContactEventEnvelope));
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: out.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
  }
}

/** Plays until `completed` contacts have completed, then stops new arrivals and lets the lives under way end. */
async function play(emulator: Emulator, completed: number): Promise<void> {
  await expect.poll(() => emulator.calls.events.byType.COMPLETED ?? 0, { timeout: 8000 }).toBeGreaterThanOrEqual(completed);
  emulator.events.setLive({ contactsPerMinute: 0 });
  await expect.poll(() => (emulator.calls.events.byType.INITIATED ?? 0) - (emulator.calls.events.byType.COMPLETED ?? 0), { timeout: 8000 }).toBe(0);
}

function byContact(events: ContactEventEnvelope[]): Map<string, string[]> {
  const lives = new Map<string, string[]>();
  for (const e of events) lives.set(e.detail.contactId, [...(lives.get(e.detail.contactId) ?? []), e.detail.eventType]);
  return lives;
}

describe("live traffic", () => {
  it("is off unless asked for", async () => {
    const emulator = await startEmulator({ dataset: buildDataset() });
    emulators.push(emulator);
    expect(emulator.events.live.contactsPerMinute).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(emulator.calls.events.emitted).toBe(0);
  });

  it("plays contacts through their whole life: initiated, queued, with an agent, disconnected, completed", async () => {
    const emulator = await live({ live: { contactsPerMinute: 1200, stepSeconds: 0.01 }, seed: 7 });
    await play(emulator, 12);
    const events = await drain(emulator);
    expect(events).toHaveLength(emulator.calls.events.emitted);
    const lives = byContact(events);
    const allowed = /^INITIATED(,CONNECTED_TO_SYSTEM)?,QUEUED(,CONNECTED_TO_AGENT(,CONTACT_DATA_UPDATED)?)?,DISCONNECTED,COMPLETED$/;
    for (const [contactId, life] of lives) expect(life.join(","), contactId).toMatch(allowed);
    const full = [...lives].filter(([, life]) => life.includes("CONNECTED_TO_AGENT"));
    expect(full.length).toBeGreaterThan(0);
    // Each contact's events carry non-decreasing times, and the contact ends as its last event says.
    const connect = new ConnectClient({ endpoint: emulator.url, region: "us-east-1", credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 });
    clients.push(connect);
    const [contactId] = full[0]!;
    const times = events.filter((e) => e.detail.contactId === contactId).map((e) => Date.parse(e.time));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const contact = (await connect.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: contactId }))).Contact!;
    expect(contact.QueueInfo?.Id).toEqual(expect.any(String));
    expect(contact.AgentInfo?.AfterContactWorkEndTimestamp).toBeInstanceOf(Date);
    expect(contact.DisconnectTimestamp).toBeInstanceOf(Date);
    expect(emulator.calls.byApi.DescribeContact).toBe(1);
  });

  it("transfers some contacts: the next contact is initiated, then the one it continues is disconnected", async () => {
    const emulator = await live({ live: { contactsPerMinute: 1200, stepSeconds: 0.01 }, seed: 3 });
    await play(emulator, 25);
    const events = await drain(emulator);
    const transfers = events.filter((e) => e.detail.eventType === "INITIATED" && e.detail.previousContactId);
    expect(transfers.length).toBeGreaterThan(0);
    for (const transfer of transfers) {
      const previous = transfer.detail.previousContactId!;
      expect(["TRANSFER", "QUEUE_TRANSFER"]).toContain(transfer.detail.initiationMethod);
      const position = events.indexOf(transfer);
      const disconnected = events.findIndex((e) => e.detail.contactId === previous && e.detail.eventType === "DISCONNECTED");
      expect(disconnected).toBeGreaterThan(position);
      const first = events.find((e) => e.detail.contactId === previous)!;
      expect(transfer.detail.initialContactId).toBe(first.detail.initialContactId);
      expect(transfer.detail.channel).toBe(first.detail.channel);
    }
  });

  it("replays the same traffic for the same seed", async () => {
    const first = await sequenceOf(11);
    expect(await sequenceOf(11)).toEqual(first);
    expect(await sequenceOf(12)).not.toEqual(first);
  });

  it("waits quietly for an arrival further off than Node's longest timer delay (about 24.8 days), instead of waking every millisecond", async () => {
    // One contact every 70 days or so: the first comes within 3 s, the next about 70 days later.
    const emulator = await live({ live: { contactsPerMinute: 0.00001, stepSeconds: 0.01 } });
    await expect.poll(() => emulator.calls.events.byType.COMPLETED ?? 0, { timeout: 8000 }).toBeGreaterThan(0);
    await expect.poll(() => (emulator.calls.events.byType.INITIATED ?? 0) - (emulator.calls.events.byType.COMPLETED ?? 0), { timeout: 8000 }).toBe(0);
    const overflows: Error[] = [];
    const onWarning = (warning: Error) => warning.name === "TimeoutOverflowWarning" && overflows.push(warning);
    process.on("warning", onWarning);
    const emitted = emulator.calls.events.emitted;
    await new Promise((resolve) => setTimeout(resolve, 200));
    process.off("warning", onWarning);
    expect(overflows).toHaveLength(0);
    expect(emulator.calls.events.emitted).toBe(emitted);
  });

  it("emits nothing more once the emulator is closed", async () => {
    const emulator = await live({ live: { contactsPerMinute: 1200, stepSeconds: 0.01 } });
    await expect.poll(() => emulator.calls.events.emitted, { timeout: 8000 }).toBeGreaterThan(0);
    await emulator.close();
    const emitted = emulator.calls.events.emitted;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(emulator.calls.events.emitted).toBe(emitted);
  });
});

/** The first 30 events (type and contact) live traffic emits for `seed`, read off the queue. */
async function sequenceOf(seed: number): Promise<string[]> {
  const emulator = await live({ live: { contactsPerMinute: 1200, stepSeconds: 0.01 }, seed });
  await expect.poll(() => emulator.calls.events.emitted, { timeout: 8000 }).toBeGreaterThanOrEqual(30);
  emulator.events.setLive({ contactsPerMinute: 0 });
  const events = await drain(emulator);
  return events.slice(0, 30).map((e) => `${e.detail.eventType} ${e.detail.contactId}`);
}
