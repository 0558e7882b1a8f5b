import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { DEMO } from "../../src/emulator/dataset.js";
import { startLiveStack, waitUntil, type LiveStack } from "../support/liveStack.js";
import { scrapedSample } from "../support/metricsText.js";

/**
 * The graphql-ws protocol as a client that does not use graphql-ws's client may speak it: frames sent
 * back to back on a raw `ws` socket. What counts is what the gateway holds afterwards (subscriptions
 * in the hub, `graphql_subscriptions`) and what each event costs upstream.
 */

const EVENTS = `subscription Events($instanceId: ID!) { contactEvents(instanceId: $instanceId) { eventId eventType } }`;

/** A raw graphql-ws connection: every message it received, and how it closed. */
interface RawConnection {
  readonly socket: WebSocket;
  readonly messages: Array<{ type: string; id?: string; payload?: any }>;
  closed?: { code: number; reason: string };
  send(message: Record<string, unknown>): void;
  /** The `next` messages received for `id`. */
  nexts(id: string): Array<{ payload: any }>;
}

/** Opens a socket, sends `connection_init` and waits for the acknowledgement. */
async function connect(stack: LiveStack): Promise<RawConnection> {
  const socket = new WebSocket(stack.url.replace(/^http/, "ws"), "graphql-transport-ws");
  const connection: RawConnection = {
    socket,
    messages: [],
    send: (message) => socket.send(JSON.stringify(message)),
    nexts: (id) => connection.messages.filter((m) => m.type === "next" && m.id === id) as Array<{ payload: any }>,
  };
  socket.on("message", (data) => connection.messages.push(JSON.parse(String(data))));
  socket.on("close", (code, reason) => (connection.closed = { code, reason: String(reason) }));
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  connection.send({ type: "connection_init" });
  await waitUntil(() => connection.messages.some((m) => m.type === "connection_ack") || connection.closed !== undefined, "connection_ack");
  expect(connection.closed).toBeUndefined();
  return connection;
}

function subscribe(id: string, query: string): Record<string, unknown> {
  return { id, type: "subscribe", payload: { query, variables: { instanceId: DEMO.instanceId } } };
}

/** `graphql_subscriptions{transport="ws"}` as `/metrics` reports it. */
function wsGauge(stack: LiveStack): Promise<number> {
  return scrapedSample(stack.url, "graphql_subscriptions", { transport: "ws" });
}

/** Waits up to a second for the hub and the gauge to reach `count`; returns both as they are then. */
async function settle(stack: LiveStack, count: number): Promise<{ hub: number; gauge: number }> {
  const deadline = Date.now() + 1000;
  for (;;) {
    const now = { hub: stack.gateway.events!.hub.size, gauge: await wsGauge(stack) };
    if ((now.hub === count && now.gauge === count) || Date.now() > deadline) return now;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("graphql-ws: one subscription per id", () => {
  let stack: LiveStack;
  beforeAll(async () => {
    stack = await startLiveStack();
  });
  afterAll(async () => {
    await stack?.close();
  });
  afterEach(async () => {
    await stack.queueDrained();
    expect(await settle(stack, 0)).toEqual({ hub: 0, gauge: 0 });
  });

  it("refuses a Subscribe on an id still subscribed, even right after its Complete, and delivers each event once", async () => {
    // Most subscriptions the hub held at any moment while this spec ran.
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, stack.gateway.events!.hub.size)), 1);
    try {
      // The burst: Subscribe, Complete, Subscribe on one id, back to back. The first is still being set
      // up when the Complete and the second Subscribe arrive, so id 1 is still taken: 4409, as for any
      // Subscribe on a taken id, and the socket's subscriptions end with it.
      const burst = await connect(stack);
      burst.send(subscribe("1", EVENTS));
      burst.send({ id: "1", type: "complete" });
      burst.send(subscribe("1", EVENTS));
      await waitUntil(() => burst.closed !== undefined, "the socket closed", 2000).catch(() => {});
      expect(burst.closed).toEqual({ code: 4409, reason: "Subscriber for 1 already exists" });
      expect(await settle(stack, 0)).toEqual({ hub: 0, gauge: 0 });
      stack.emulator.events.emit({ eventType: "INITIATED", channel: "VOICE" });
      await stack.queueDrained();
      expect(burst.nexts("1")).toEqual([]);

      // The same for a subscription already running: its Complete starts ending it, and the id is taken
      // until it has ended.
      const running = await connect(stack);
      running.send(subscribe("2", EVENTS));
      await stack.subscribers(1);
      running.send({ id: "2", type: "complete" });
      running.send(subscribe("2", EVENTS));
      await waitUntil(() => running.closed !== undefined, "the socket closed", 2000).catch(() => {});
      expect(running.closed).toEqual({ code: 4409, reason: "Subscriber for 2 already exists" });
      expect(running.messages.filter((m) => m.id === "2")).toEqual([]);
      expect(await settle(stack, 0)).toEqual({ hub: 0, gauge: 0 });

      // An id is free again once its subscription ended: reused then, one subscription, each event once.
      const reuse = await connect(stack);
      reuse.send(subscribe("1", EVENTS));
      await stack.subscribers(1);
      const first = stack.emulator.events.emit({ eventType: "INITIATED", channel: "VOICE" });
      await waitUntil(() => reuse.nexts("1").length === 1, "the first event");
      reuse.send({ id: "1", type: "complete" });
      expect(await settle(stack, 0)).toEqual({ hub: 0, gauge: 0 });
      reuse.send(subscribe("1", EVENTS));
      await stack.subscribers(1);
      const second = stack.emulator.events.emit({ eventType: "INITIATED", channel: "VOICE" });
      await stack.queueDrained();
      await waitUntil(() => reuse.nexts("1").length >= 2, "the second event");
      await new Promise((resolve) => setTimeout(resolve, 100)); // a duplicate would arrive by now
      expect(reuse.nexts("1").map((m) => m.payload.data.contactEvents.eventId)).toEqual([first.id, second.id]);
      expect(reuse.closed).toBeUndefined();
      reuse.socket.close();
      await waitUntil(() => reuse.closed !== undefined, "the socket closed");
    } finally {
      clearInterval(sampler);
    }
    expect(most).toBe(1);
  });
});

describe("graphql-ws: sockets that churn", () => {
  let stack: LiveStack;
  beforeAll(async () => {
    // No contact cache: every execution that reads `previousContact` calls DescribeContact, so the
    // emulator's count shows how many subscriptions executed an event.
    stack = await startLiveStack({ env: { SUBSCRIPTIONS_PER_CONNECTION: "2", SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL: "1", CACHE_TTL_SECONDS: "0" } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("leaves no subscription behind when sockets churn with bursts and close", async () => {
    const transferred = (cycle?: number) =>
      `subscription Transfers($instanceId: ID!) { contactEvents(instanceId: $instanceId) { eventId contact { previousContact { id } } } }${cycle === undefined ? "" : ` # ${cycle}`}`;
    const CYCLES = 25;
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      // Each cycle's document differs (a comment), so nothing left behind could share an execution.
      const socket = await connect(stack);
      const query = transferred(cycle);
      socket.send(subscribe("1", query));
      socket.send({ id: "1", type: "complete" });
      socket.send(subscribe("1", query));
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.socket.close();
      await waitUntil(() => socket.closed !== undefined, "the socket closed");
    }
    // Every socket is closed: nothing may be left subscribed.
    expect(await settle(stack, 0)).toEqual({ hub: 0, gauge: 0 });

    // Nothing subscribed: a transfer costs its own read and nothing else. (What was left behind would
    // execute it and read the previous contact: concurrent reads of one contact are one call.)
    await stack.queueDrained();
    stack.resetCalls();
    stack.emulator.events.emit({ eventType: "INITIATED", previousContactId: DEMO.longChainTailId });
    await stack.queueDrained();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(stack.describeContactCalls()).toBe(1);

    // One subscriber: the transfer's read, then its one execution reads the previous contact.
    const watcher = stack.subscribe(stack.ws(), transferred(), { instanceId: DEMO.instanceId });
    await stack.subscribers(1);
    stack.resetCalls();
    const transfer = stack.emulator.events.emit({ eventType: "INITIATED", previousContactId: DEMO.longChainTailId });
    await waitUntil(() => watcher.results.length === 1, "the transfer");
    await stack.queueDrained();
    expect(watcher.results[0]!.data.contactEvents).toEqual({ eventId: transfer.id, contact: { previousContact: { id: DEMO.longChainTailId } } });
    expect(stack.describeContactCalls()).toBe(2);
    watcher.unsubscribe();
    expect(await settle(stack, 0)).toEqual({ hub: 0, gauge: 0 });
  });
});

describe("graphql-ws: a subscriber that falls behind", () => {
  let stack: LiveStack;
  beforeAll(async () => {
    stack = await startLiveStack({ env: { SUBSCRIPTION_BUFFER_EVENTS: "1" } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("sends SUBSCRIBER_TOO_SLOW as the subscription's last result, then closes the socket with 1013 and the reason", async () => {
    const slow = await connect(stack);
    slow.send(subscribe("1", EVENTS));
    await stack.subscribers(1);
    // Three events at once for a buffer of one: one being sent, one waiting, the third one too many.
    const hub = stack.gateway.events!.hub;
    for (let i = 0; i < 3; i++) {
      hub.deliver({ event: { eventId: `e-${i}`, eventType: "QUEUED", timestamp: new Date(), ref: { region: "us-east-1", instanceId: DEMO.instanceId, contactId: "c-1" } }, contact: null });
    }
    await waitUntil(() => slow.closed !== undefined, "the socket closed");
    const reason = "This subscription fell more than 1 events behind (SUBSCRIPTION_BUFFER_EVENTS) and was ended; subscribe again.";
    expect(slow.closed).toEqual({ code: 1013, reason });
    const last = slow.messages.filter((m) => m.id === "1").at(-1);
    expect(last).toEqual({ id: "1", type: "next", payload: { errors: [{ message: reason, extensions: { code: "SUBSCRIBER_TOO_SLOW", limit: "SUBSCRIPTION_BUFFER_EVENTS" } }] } });
    expect(await settle(stack, 0)).toEqual({ hub: 0, gauge: 0 });
  });
});

describe("graphql-ws: a subscriber that stopped reading", () => {
  let stack: LiveStack;
  beforeAll(async () => {
    // One connection per caller (here: per address), so the stalled one's slot is visible.
    stack = await startLiveStack({ env: { SUBSCRIPTION_BUFFER_EVENTS: "1", SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL: "1" } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("is cut off: its connection is terminated a second after the close it does not read, freeing its slot", async () => {
    const stalled = await connect(stack);
    stalled.send(subscribe("1", EVENTS));
    await stack.subscribers(1);
    (stalled.socket as unknown as { _socket: { pause(): void } })._socket.pause(); // reads nothing more, answers no close
    const hub = stack.gateway.events!.hub;
    for (let i = 0; i < 3; i++) {
      hub.deliver({ event: { eventId: `s-${i}`, eventType: "QUEUED", timestamp: new Date(), ref: { region: "us-east-1", instanceId: DEMO.instanceId, contactId: "c-1" } }, contact: null });
    }
    expect(await settle(stack, 0)).toEqual({ hub: 0, gauge: 0 });
    // Without the cut-off, ws would wait 30 s for the stalled peer's close frame, holding the caller's one connection.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const next = await connect(stack);
    next.socket.close();
  });
});
