import { getEventListeners } from "node:events";
import { SQSClient } from "@aws-sdk/client-sqs";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { EMULATOR_CREDENTIALS, startEmulator } from "../../src/emulator/emulator.js";
import { ContactEventConsumer } from "../../src/events/contactEventConsumer.js";
import { startLiveStack, waitUntil } from "../support/liveStack.js";

/**
 * What `signal` holds on to: its abort listeners, and the signals `AbortSignal.any` combined it into
 * (Node keeps those in a set on it, `kDependantSignals`; on Node 20 it never shrinks, nodejs/node#55351).
 */
function heldBy(signal: AbortSignal): number {
  const dependants = Object.getOwnPropertySymbols(signal).find((symbol) => symbol.description === "kDependantSignals");
  const set = dependants ? ((signal as unknown as Record<symbol, Set<unknown> | undefined>)[dependants] ?? undefined) : undefined;
  return getEventListeners(signal, "abort").length + (set?.size ?? 0);
}

describe("graceful shutdown with live contacts", () => {
  it("stops receiving, deletes what it applied, completes every subscription and closes sockets with 1001", async () => {
    const stack = await startLiveStack();
    let closed: { code: number; reason: string } | undefined;
    const ws = stack.subscribe(stack.ws({ onClose: (event) => (closed ??= event) }), `subscription($i: ID!) { contactEvents(instanceId: $i) { eventId } }`, { i: DEMO.instanceId });
    const sse = stack.subscribe(stack.sse(), `subscription($i: ID!) { contactEvents(instanceId: $i) { eventId } }`, { i: DEMO.instanceId });
    await stack.subscribers(2);
    stack.emulator.events.emit({ eventType: "INITIATED" });
    await waitUntil(() => ws.results.length === 1 && sse.results.length === 1, "the event");

    const started = Date.now();
    await stack.gateway.close();
    expect(Date.now() - started).toBeLessThan(3000); // the pending 20-second long poll was aborted
    await waitUntil(() => ws.ended !== undefined && sse.ended !== undefined && closed !== undefined, "both subscriptions to end");
    expect(ws.ended).toEqual({});
    expect(sse.ended).toEqual({});
    expect(closed!.code).toBe(1001);
    expect(stack.gateway.events!.consumer.state).toBe("stopped");
    // Nothing taken is left behind, and nothing more is taken.
    expect(stack.emulator.calls.sqs.messagesDeleted).toBe(1);
    const received = stack.emulator.calls.sqs.byAction.ReceiveMessage;
    stack.emulator.events.emit({ eventType: "INITIATED" });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(stack.emulator.calls.sqs.byAction.ReceiveMessage).toBe(received);
    expect(stack.emulator.events.depth().visible).toBe(1);
    await stack.emulator.close();
    stack.sqs.destroy();
  });

  it("holds nothing per receive on the signal that stops the consumer: after 200 receives, at most the pending one's listener", async () => {
    const emulator = await startEmulator({ quota: false });
    const sqs = new SQSClient({ endpoint: emulator.url, region: "us-east-1", credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 });
    // Short polls of an empty queue: one receive after another.
    const consumer = new ContactEventConsumer({ sqs, queueUrl: emulator.events.queueUrl, apply: async () => "applied", logger: pino({ level: "silent" }), waitTimeSeconds: 0 });
    const stop = (consumer as unknown as { controller: AbortController }).controller.signal;
    try {
      consumer.start();
      await waitUntil(() => emulator.calls.sqs.byAction.ReceiveMessage >= 200, "200 receives");
      expect(consumer.state).toBe("receiving");
      // One receive in flight at a time: its listener, if it is pending now, and nothing of the 199 before it.
      expect(heldBy(stop)).toBeLessThanOrEqual(1);
      await consumer.stop();
      expect(heldBy(stop)).toBe(0);
    } finally {
      await consumer.stop();
      sqs.destroy();
      await emulator.close();
    }
  });
});
