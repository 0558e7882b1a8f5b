import { describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { startLiveStack, waitUntil } from "../support/liveStack.js";

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
});
