import { describe, expect, it } from "vitest";
import { SqsQueue } from "../../src/emulator/sqsQueue.js";
import { Stats } from "../../src/emulator/stats.js";

describe("SqsQueue's long polls", () => {
  it("answers a waiting long poll when the message becomes visible between its wake's check and the next wake's scheduling (a timer a little early)", async () => {
    // The queue's clock (epoch ms): `time`, unless a scripted reading is queued.
    let time = 0;
    const readings: number[] = [];
    const queue = new SqsQueue("events", "000000000000", "us-east-1", 30, new Stats(), () => readings.shift() ?? time);
    queue.send("the event");
    const [first] = await queue.receive({ max: 1, waitSeconds: 0, attributeNames: [] });
    // The consumer could not apply it: visible again in 1 s.
    expect(queue.changeVisibility(first!.ReceiptHandle, 1)).toBe("ok");
    const started = Date.now();
    const polled = queue.receive({ max: 1, waitSeconds: 3, attributeNames: [] });
    // When the wake fires (after 1 s): its check reads 999 ms (still invisible), its rescheduling
    // 1,000 (visible), as when Node runs the timer a moment before the wall clock's millisecond.
    readings.push(999, 1000);
    time = 1000;

    const messages = await polled;
    expect(messages.map((m) => m.Body)).toEqual(["the event"]);
    // Served at the wake, not after WaitTimeSeconds (3 s).
    expect(Date.now() - started).toBeLessThan(2500);
  });
});
