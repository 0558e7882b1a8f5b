import { SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { EMULATOR_CREDENTIALS, startEmulator } from "../../src/emulator/emulator.js";
import { startStack } from "../support/stack.js";
import { waitUntil } from "../support/liveStack.js";

describe("an events queue that cannot be read", () => {
  it("is retried with back-off while queries are served, reported on /readyz and in metrics", async () => {
    const emulator = await startEmulator({ quota: false });
    const sqs = new SQSClient({ endpoint: emulator.url, region: "us-east-1", credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 });
    const stack = await startStack({
      sharedEmulator: emulator,
      gateway: { contactEvents: { sqs, queueUrl: `${emulator.url}/000000000000/no-such-queue` } },
    });
    try {
      await waitUntil(() => stack.gateway.events!.consumer.state === "retrying", "the consumer to retry");
      const base = stack.url.replace("/graphql", "");
      const ready = (await (await fetch(`${base}/readyz`)).json()) as { status: string; info: Record<string, string> };
      expect(ready.status).toBe("ready"); // queries do not depend on events
      expect(ready.info.events).toMatch(/^retrying/);
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/connect_event_receive_errors_total [1-9]/);
      // Back-off: a handful of attempts in the first second, not a hot loop.
      const receives = emulator.calls.sqs.byAction.ReceiveMessage;
      expect(receives).toBeGreaterThan(0);
      expect(receives).toBeLessThan(10);
      expect((await stack.query("{ __typename }")).status).toBe(200);
    } finally {
      await stack.close();
      sqs.destroy();
      await emulator.close();
    }
  });
});
