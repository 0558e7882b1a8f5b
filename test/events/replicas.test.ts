import { createClient, type Client } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { DEMO } from "../../src/emulator/dataset.js";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { spawnGateway, type GatewayProcess } from "../support/processes.js";
import { deleteKeys, requireSharedRedis, SHARED_REDIS_URL } from "../support/redisServer.js";
import { waitUntil } from "../support/liveStack.js";

const PREFIX = `replicas-test-${process.pid}:`;
const EVENTS = `subscription($instanceId: ID!) {
  contactEvents(instanceId: $instanceId) { eventId eventType contact { id disconnectTimestamp queueInfo { queue { name } } } }
}`;

let emulator: Emulator;
let replicas: GatewayProcess[] = [];
const clients: Client[] = [];

beforeAll(async () => {
  await requireSharedRedis();
  emulator = await startEmulator({ quota: false });
  // Two gateways as `npm start` runs them, consuming the same emulator's queue, sharing one Redis.
  replicas = await Promise.all(
    [0, 1].map(() => spawnGateway({ CONNECT_MODE: "emulator", EMULATOR_URL: emulator.url, REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: PREFIX })),
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await Promise.all(replicas.map((r) => r.stop()));
  await emulator?.close();
  await deleteKeys(SHARED_REDIS_URL, PREFIX);
});

function subscribe(url: string): Array<{ data?: any; errors?: unknown }> {
  const results: Array<{ data?: any; errors?: unknown }> = [];
  const client = createClient({ url: url.replace(/^http/, "ws"), webSocketImpl: WebSocket, retryAttempts: 0, lazy: false, onNonLazyError: () => {} });
  clients.push(client);
  client.subscribe({ query: EVENTS, variables: { instanceId: DEMO.instanceId } }, { next: (r) => void results.push(r), error: () => {}, complete: () => {} });
  return results;
}

/**
 * Returns once every watcher's subscription is in: the subscribe message has no acknowledgement,
 * so a probe event is sent (again every second, should a subscription still have missed it) until
 * each watcher has received one; then the probes' messages are deleted and the watchers emptied.
 */
async function untilSubscribed(watchers: Array<Array<{ data?: any }>>): Promise<void> {
  const probes = new Set<string>();
  const reached = () => watchers.every((w) => w.some((r) => probes.has(r.data?.contactEvents.eventId)));
  for (let sent = 0; !reached(); sent++) {
    if (sent === 10) throw new Error("a subscription never received a probe event");
    probes.add(emulator.events.emit({ eventType: "INITIATED", channel: "CHAT" }).id);
    const until = Date.now() + 1_000;
    while (!reached() && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await waitUntil(() => emulator.events.depth().visible + emulator.events.depth().inFlight === 0 && emulator.calls.sqs.messagesDeleted >= probes.size, "the probes deleted");
  for (const w of watchers) w.length = 0;
}

describe("two replicas on one Redis", () => {
  it("consume every event once between them and deliver it to the subscribers of both, with one DescribeContact per event", async () => {
    const watchers = replicas.flatMap((r) => [subscribe(r.url), subscribe(r.url)]);
    await untilSubscribed(watchers);
    // The probes' messages were deleted after their delivery: counted from here, they must not count.
    emulator.resetStats();

    const sent: string[] = [];
    for (let i = 0; i < 5; i++) {
      const initiated = emulator.events.emit({ eventType: "INITIATED", channel: "VOICE" });
      const contactId = initiated.detail.contactId;
      sent.push(initiated.id, emulator.events.emit({ eventType: "QUEUED", contactId }).id, emulator.events.emit({ eventType: "DISCONNECTED", contactId }).id);
    }
    await waitUntil(() => watchers.every((w) => w.length >= sent.length), `${sent.length} events at every subscriber`, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const w of watchers) {
      expect(w.map((r) => r.data?.contactEvents.eventId).sort()).toEqual([...sent].sort());
      expect(w.every((r) => r.errors === undefined)).toBe(true);
    }
    // Each message went to one replica and was deleted there; Connect was read once per event (the
    // other replica read the contact from the shared cache).
    await waitUntil(() => emulator.calls.sqs.messagesDeleted === sent.length, "every message deleted");
    expect(emulator.calls.sqs.messagesReceived).toBe(sent.length);
    expect(emulator.calls.byApi.DescribeContact).toBe(sent.length);
  });

  it("keep every replica's cache fresh: right after DISCONNECTED, both answer the disconnect time without calling Connect", async () => {
    const initiated = emulator.events.emit({ eventType: "INITIATED", channel: "CHAT" });
    const contactId = initiated.detail.contactId;
    const query = async (url: string) => {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: `{ contact(instanceId: "${DEMO.instanceId}", contactId: "${contactId}") { disconnectTimestamp } }` }),
      });
      return ((await response.json()) as { data: { contact: { disconnectTimestamp: string | null } } }).data.contact.disconnectTimestamp;
    };
    await waitUntil(() => emulator.calls.sqs.messagesDeleted > 0 && emulator.events.depth().visible + emulator.events.depth().inFlight === 0, "INITIATED applied");
    // Both replicas now hold the active contact (CACHE_ACTIVE_TTL_SECONDS is 60 with events).
    for (const r of replicas) expect(await query(r.url)).toBeNull();

    const watchers = replicas.map((r) => subscribe(r.url));
    await untilSubscribed(watchers);
    const disconnected = emulator.events.emit({ eventType: "DISCONNECTED", contactId });
    await waitUntil(() => watchers.every((w) => w.some((r) => r.data?.contactEvents.eventId === disconnected.id)), "DISCONNECTED at both replicas");
    emulator.resetStats();
    for (const r of replicas) expect(await query(r.url)).toEqual(expect.any(String));
    expect(emulator.calls.byApi.DescribeContact).toBe(0);
  });
});
