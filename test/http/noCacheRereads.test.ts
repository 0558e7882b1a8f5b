import { createClient, type RedisClientType } from "@keyv/redis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import type { LogLine } from "../support/loggedGateway.js";
import { deleteKeys, requireSharedRedis, SHARED_REDIS_URL } from "../support/redisServer.js";
import { startStack, type Stack } from "../support/stack.js";

/**
 * A `Cache-Control: no-cache` request reads Connect again and refreshes the cache for everyone, on
 * every replica: with Redis, the other replicas drop their in-process copies of what it re-read
 * (and their stored responses naming it), whether or not the response cache is on.
 */

const I = DEMO.instanceId;
const STATE = `query State($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id disconnectTimestamp } }`;
const prefix = `no-cache-rereads-test-${process.pid}:`;

let emulator: Emulator;
const open: Stack[] = [];

beforeAll(async () => {
  await requireSharedRedis();
  emulator = await startEmulator({ quota: false });
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  emulator.resetStats();
});
afterAll(async () => {
  await emulator?.close();
  await deleteKeys(SHARED_REDIS_URL, prefix);
});

/** Two gateways on the shared emulator and the shared Redis, with `env`; the first one's log lines in `logLines`. */
async function twoReplicas(env: Record<string, string>, logLines?: LogLine[]): Promise<[Stack, Stack]> {
  const settings = { REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: prefix, ...env };
  const a = await startStack({ sharedEmulator: emulator, env: settings, logLines });
  open.push(a);
  const b = await startStack({ sharedEmulator: emulator, env: settings });
  open.push(b);
  return [a, b];
}

/** A contact in progress, new to every gateway (the emulator applies the event; no gateway here consumes it). */
function newContact(): string {
  return emulator.events.emit({ eventType: "INITIATED", channel: "VOICE" }).detail.contactId;
}

describe.each([
  ["off", "false"],
  ["on", "true"],
])("a no-cache re-read on one of two gateways on one Redis, the response cache %s", (_, responseCache) => {
  it("reaches the other: its next read shows the new state, from the copy the re-read left in Redis", async () => {
    const [a, b] = await twoReplicas({ RESPONSE_CACHE: responseCache });
    expect(b.gateway.responseCache === undefined).toBe(responseCache === "false");
    const contactId = newContact();
    const vars = { i: I, c: contactId };
    expect((await b.query(STATE, vars)).body.data.contact.disconnectTimestamp).toBeNull();
    // The contact ends; no gateway hears an event, so b answers from what it holds.
    emulator.events.emit({ eventType: "DISCONNECTED", contactId });
    expect((await b.query(STATE, vars)).body.data.contact.disconnectTimestamp).toBeNull();

    emulator.resetStats();
    const fresh = await a.query(STATE, vars, { "cache-control": "no-cache" });
    const ended = fresh.body.data.contact.disconnectTimestamp;
    expect(ended).toEqual(expect.any(String));
    // Well within the 5 s b would otherwise keep its copy of the contact in progress.
    await expect.poll(async () => (await b.query(STATE, vars)).body.data.contact.disconnectTimestamp, { timeout: 2000 }).toBe(ended);
    // a's one read: b took the refreshed copy from Redis rather than reading Connect itself.
    expect(emulator.calls.byKey.DescribeContact).toEqual({ [`${I}/${contactId}`]: 1 });
  });
});

describe("the operation log line of a no-cache request", () => {
  it("says responseCache bypass with the response cache on, and names no response cache with it off", async () => {
    for (const [responseCache, expected] of [["true", "bypass"], ["false", undefined]] as const) {
      const lines: LogLine[] = [];
      const [a] = await twoReplicas({ RESPONSE_CACHE: responseCache }, lines);
      await a.query(STATE, { i: I, c: DEMO.fullContactId }, { "cache-control": "no-cache", "x-request-id": `no-cache-${responseCache}` });
      const operation = lines.find((l) => l.msg === "operation" && l.requestId === `no-cache-${responseCache}`);
      expect(operation).toMatchObject({ upstreamCalls: 1, outcome: "ok" });
      expect(operation!.responseCache).toBe(expected);
    }
  });
});

describe("an HTTP batch of no-cache operations", () => {
  it("publishes each entity it re-read once, before the response, however many of its operations read it", async () => {
    const listener = createClient({ url: SHARED_REDIS_URL }) as RedisClientType;
    await listener.connect();
    const messages: string[] = [];
    try {
      await listener.subscribe(`${prefix}response-invalidations`, (message) => void messages.push(message));
      const [a] = await twoReplicas({ HTTP_BATCHING: "true" });
      const vars = { i: I, c: DEMO.fullContactId };
      const response = await fetch(a.url, {
        method: "POST",
        headers: { "content-type": "application/json", "cache-control": "no-cache" },
        body: JSON.stringify([{ query: STATE, variables: vars }, { query: STATE, variables: vars }, { query: STATE, variables: vars }]),
      });
      expect(response.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(messages.filter((m) => m.includes(DEMO.fullContactId))).toHaveLength(1);
    } finally {
      await listener.quit();
    }
  });
});
