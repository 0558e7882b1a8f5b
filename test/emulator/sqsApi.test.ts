import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  MessageNotInflight,
  QueueDoesNotExist,
  ReceiptHandleIsInvalid,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  SQSServiceException,
  type ReceiveMessageCommandInput,
} from "@aws-sdk/client-sqs";
import { createHash } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { EMULATOR_CREDENTIALS, startEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/emulator.js";
import { buildDataset } from "../../src/emulator/dataset.js";

// SQS as the real @aws-sdk/client-sqs sees it: every call below goes through the SDK's AWS JSON 1.0
// client, its MD5 checks and its error deserializer.

const dataset = buildDataset();
const emulators: Emulator[] = [];
const clients: SQSClient[] = [];

async function emulatorWith(events: EmulatorOptions["events"] = {}): Promise<{ emulator: Emulator; sqs: SQSClient; queueUrl: string }> {
  const emulator = await startEmulator({ dataset, events });
  emulators.push(emulator);
  const sqs = new SQSClient({ endpoint: emulator.url, region: "us-east-1", credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 });
  clients.push(sqs);
  return { emulator, sqs, queueUrl: emulator.events.queueUrl };
}

afterAll(async () => {
  for (const client of clients) client.destroy();
  await Promise.all(emulators.map((e) => e.close()));
});

async function rejection(promise: Promise<unknown>): Promise<SQSServiceException> {
  try {
    await promise;
  } catch (error) {
    return error as SQSServiceException;
  }
  throw new Error("expected the call to fail");
}

const receive = (sqs: SQSClient, input: ReceiveMessageCommandInput) => sqs.send(new ReceiveMessageCommand(input));

describe("the contact events' SQS queue", () => {
  it("is served at {emulator url}/000000000000/connect-contact-events, and GetQueueUrl names it", async () => {
    const { emulator, sqs, queueUrl } = await emulatorWith();
    expect(queueUrl).toBe(`${emulator.url}/000000000000/connect-contact-events`);
    expect((await sqs.send(new GetQueueUrlCommand({ QueueName: "connect-contact-events" }))).QueueUrl).toBe(queueUrl);
    expect(emulator.events.deadLetterQueueUrl).toBeUndefined();
  });

  it("hands out a message with its body, an MD5OfBody the SDK verifies, and the system attributes asked for", async () => {
    const { emulator, sqs, queueUrl } = await emulatorWith();
    const body = '{"greeting":"Grüße 👋"}';
    const { MessageId } = emulator.events.sendRaw(body);
    const before = Date.now();
    const out = await receive(sqs, { QueueUrl: queueUrl, MessageSystemAttributeNames: ["All"], VisibilityTimeout: 0 });
    expect(out.Messages).toHaveLength(1);
    const [message] = out.Messages!;
    expect(message).toMatchObject({ MessageId, Body: body, MD5OfBody: createHash("md5").update(body, "utf8").digest("hex") });
    expect(message!.ReceiptHandle).toEqual(expect.any(String));
    expect(message!.Attributes).toMatchObject({ ApproximateReceiveCount: "1", SenderId: expect.any(String) });
    expect(Number(message!.Attributes!.SentTimestamp)).toBeLessThanOrEqual(before);
    expect(Number(message!.Attributes!.ApproximateFirstReceiveTimestamp)).toBeGreaterThanOrEqual(before);
    // The older AttributeNames asks the same; a message received again counts its receives.
    const again = await receive(sqs, { QueueUrl: queueUrl, AttributeNames: ["All"] });
    expect(again.Messages?.[0]?.Attributes).toMatchObject({ ApproximateReceiveCount: "2", ApproximateFirstReceiveTimestamp: message!.Attributes!.ApproximateFirstReceiveTimestamp });
    expect((await receive(sqs, { QueueUrl: queueUrl })).Messages).toBeUndefined(); // in flight now
    expect(emulator.calls.sqs.byAction.ReceiveMessage).toBe(3);
    expect(emulator.calls.sqs.messagesReceived).toBe(2);
  });

  it("gives at most MaxNumberOfMessages per receive and refuses values outside 1-10", async () => {
    const { emulator, sqs, queueUrl } = await emulatorWith();
    for (let i = 0; i < 12; i++) emulator.events.sendRaw(`message ${i}`);
    const first = await receive(sqs, { QueueUrl: queueUrl, MaxNumberOfMessages: 10 });
    expect(first.Messages).toHaveLength(10);
    expect((await receive(sqs, { QueueUrl: queueUrl })).Messages).toHaveLength(1);
    for (const MaxNumberOfMessages of [0, 11]) {
      const error = await rejection(receive(sqs, { QueueUrl: queueUrl, MaxNumberOfMessages }));
      expect(error.name).toBe("InvalidParameterValue");
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(error.message).toContain("MaxNumberOfMessages");
    }
    expect((await rejection(receive(sqs, { QueueUrl: queueUrl, WaitTimeSeconds: 21 }))).name).toBe("InvalidParameterValue");
  });

  it("deletes a message with its latest receipt handle; an older one succeeds but deletes nothing, as SQS does", async () => {
    const { emulator, sqs, queueUrl } = await emulatorWith();
    emulator.events.sendRaw("hello");
    const first = (await receive(sqs, { QueueUrl: queueUrl, VisibilityTimeout: 0 })).Messages![0]!;
    const second = (await receive(sqs, { QueueUrl: queueUrl, VisibilityTimeout: 30, MessageSystemAttributeNames: ["ApproximateReceiveCount"] })).Messages![0]!;
    expect(second.MessageId).toBe(first.MessageId);
    expect(second.ReceiptHandle).not.toBe(first.ReceiptHandle);
    expect(second.Attributes?.ApproximateReceiveCount).toBe("2");
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: first.ReceiptHandle }));
    expect(emulator.events.depth()).toEqual({ visible: 0, inFlight: 1 });
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: second.ReceiptHandle }));
    expect(emulator.events.depth()).toEqual({ visible: 0, inFlight: 0 });
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: second.ReceiptHandle })); // twice is fine
    const invalid = await rejection(sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: "not-a-handle" })));
    expect(invalid).toBeInstanceOf(ReceiptHandleIsInvalid);
    expect(emulator.calls.sqs.messagesDeleted).toBe(1);
    expect(emulator.calls.sqs.byAction.DeleteMessage).toBe(4);
  });

  it("deletes in batches, listing the entries it could not delete as Failed", async () => {
    const { emulator, sqs, queueUrl } = await emulatorWith();
    emulator.events.sendRaw("a");
    emulator.events.sendRaw("b");
    const messages = (await receive(sqs, { QueueUrl: queueUrl, MaxNumberOfMessages: 10 })).Messages!;
    const out = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [...messages.map((m, i) => ({ Id: `m${i}`, ReceiptHandle: m.ReceiptHandle! })), { Id: "bad", ReceiptHandle: "garbage" }],
      }),
    );
    expect(out.Successful?.map((s) => s.Id)).toEqual(["m0", "m1"]);
    expect(out.Failed).toEqual([expect.objectContaining({ Id: "bad", SenderFault: true, Code: "ReceiptHandleIsInvalid" })]);
    expect(emulator.events.depth()).toEqual({ visible: 0, inFlight: 0 });
    expect(emulator.calls.sqs.messagesDeleted).toBe(2);
    const entries = (n: number, id = (i: number) => `e${i}`) => Array.from({ length: n }, (_, i) => ({ Id: id(i), ReceiptHandle: "x" }));
    expect((await rejection(sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: [] })))).name).toBe("EmptyBatchRequest");
    expect((await rejection(sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries(11) })))).name).toBe("TooManyEntriesInBatchRequest");
    expect((await rejection(sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries(2, () => "same") })))).name).toBe("BatchEntryIdsNotDistinct");
  });

  it("hides a received message for the visibility timeout, then delivers it again unless deleted", async () => {
    const { emulator, sqs, queueUrl } = await emulatorWith({ visibilityTimeoutSeconds: 1 });
    emulator.events.sendRaw("again");
    const first = (await receive(sqs, { QueueUrl: queueUrl })).Messages![0]!;
    expect((await receive(sqs, { QueueUrl: queueUrl })).Messages).toBeUndefined();
    const started = performance.now();
    // A long poll wakes when the message comes back, not at the end of its wait.
    const again = await receive(sqs, { QueueUrl: queueUrl, WaitTimeSeconds: 10, MessageSystemAttributeNames: ["ApproximateReceiveCount"] });
    const waited = performance.now() - started;
    expect(again.Messages?.[0]?.MessageId).toBe(first.MessageId);
    expect(again.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe("2");
    expect(waited).toBeGreaterThan(500);
    expect(waited).toBeLessThan(3000);
  });

  it("releases a message at once with ChangeMessageVisibility 0, and refuses a handle no longer in flight", async () => {
    const { emulator, sqs, queueUrl } = await emulatorWith();
    emulator.events.sendRaw("release me");
    const first = (await receive(sqs, { QueueUrl: queueUrl })).Messages![0]!;
    expect(emulator.events.depth()).toEqual({ visible: 0, inFlight: 1 });
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 0 }));
    expect(emulator.events.depth()).toEqual({ visible: 1, inFlight: 0 });
    const second = (await receive(sqs, { QueueUrl: queueUrl })).Messages![0]!;
    expect(second.MessageId).toBe(first.MessageId);
    expect(await rejection(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 10 })))).toBeInstanceOf(MessageNotInflight);
    expect(await rejection(sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: "junk", VisibilityTimeout: 10 })))).toBeInstanceOf(ReceiptHandleIsInvalid);
    await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: second.ReceiptHandle, VisibilityTimeout: 120 }));
    expect(emulator.calls.sqs.byAction.ChangeMessageVisibility).toBe(4);
  });

  it("answers a long poll as soon as a message arrives", async () => {
    const { emulator, sqs, queueUrl } = await emulatorWith();
    const started = performance.now();
    const polling = receive(sqs, { QueueUrl: queueUrl, WaitTimeSeconds: 20 });
    setTimeout(() => emulator.events.sendRaw("wake up"), 150);
    const out = await polling;
    expect(out.Messages?.map((m) => m.Body)).toEqual(["wake up"]);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it("answers a long poll with no message after WaitTimeSeconds, and at once when the emulator closes", async () => {
    const { emulator, sqs, queueUrl } = await emulatorWith();
    let started = performance.now();
    expect((await receive(sqs, { QueueUrl: queueUrl, WaitTimeSeconds: 1 })).Messages).toBeUndefined();
    expect(performance.now() - started).toBeGreaterThanOrEqual(900);
    expect(emulator.calls.sqs.emptyReceives).toBe(1);
    const polling = receive(sqs, { QueueUrl: queueUrl, WaitTimeSeconds: 20 });
    await expect.poll(() => emulator.calls.sqs.byAction.ReceiveMessage).toBe(2);
    started = performance.now();
    await emulator.close();
    expect((await polling).Messages).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("moves a message received maxReceiveCount times to the dead-letter queue", async () => {
    const { emulator, sqs, queueUrl } = await emulatorWith({ deadLetter: { maxReceiveCount: 2 } });
    const dlqUrl = emulator.events.deadLetterQueueUrl!;
    expect(dlqUrl).toBe(`${emulator.url}/000000000000/connect-contact-events-dlq`);
    const { MessageId } = emulator.events.sendRaw("poison");
    for (let i = 0; i < 2; i++) expect((await receive(sqs, { QueueUrl: queueUrl, VisibilityTimeout: 0 })).Messages?.[0]?.MessageId).toBe(MessageId);
    expect((await receive(sqs, { QueueUrl: queueUrl })).Messages).toBeUndefined();
    expect(emulator.events.depth()).toEqual({ visible: 0, inFlight: 0 });
    expect(emulator.events.deadLetterDepth()).toEqual({ visible: 1, inFlight: 0 });
    const dead = await receive(sqs, { QueueUrl: dlqUrl, MessageSystemAttributeNames: ["All"] });
    expect(dead.Messages?.[0]).toMatchObject({ MessageId, Body: "poison", Attributes: { ApproximateReceiveCount: "1", DeadLetterQueueSourceArn: "arn:aws:sqs:us-east-1:000000000000:connect-contact-events" } });
    const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["RedrivePolicy"] }));
    expect(JSON.parse(attributes.Attributes!.RedrivePolicy!)).toEqual({ deadLetterTargetArn: "arn:aws:sqs:us-east-1:000000000000:connect-contact-events-dlq", maxReceiveCount: 2 });
    expect(emulator.calls.sqs.movedToDeadLetterQueue).toBe(1);
  });

  it("reports the queue's depth, messages in flight, visibility timeout and ARN in GetQueueAttributes", async () => {
    const { emulator, sqs, queueUrl } = await emulatorWith({ visibilityTimeoutSeconds: 45 });
    for (const body of ["1", "2", "3"]) emulator.events.sendRaw(body);
    await receive(sqs, { QueueUrl: queueUrl });
    const all = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }));
    expect(all.Attributes).toMatchObject({
      ApproximateNumberOfMessages: "2",
      ApproximateNumberOfMessagesNotVisible: "1",
      VisibilityTimeout: "45",
      QueueArn: "arn:aws:sqs:us-east-1:000000000000:connect-contact-events",
    });
    expect(all.Attributes).not.toHaveProperty("RedrivePolicy");
    const some = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }));
    expect(some.Attributes).toEqual({ ApproximateNumberOfMessages: "2" });
    expect((await rejection(sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["Nope" as "All"] })))).name).toBe("InvalidAttributeName");
  });

  it("accepts SendMessage with an MD5OfMessageBody the SDK verifies", async () => {
    const { emulator, sqs, queueUrl } = await emulatorWith();
    const sent = await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "ünïcödé" }));
    expect(sent.MD5OfMessageBody).toBe(createHash("md5").update("ünïcödé", "utf8").digest("hex"));
    expect((await receive(sqs, { QueueUrl: queueUrl })).Messages?.[0]).toMatchObject({ MessageId: sent.MessageId, Body: "ünïcödé" });
    expect(emulator.calls.sqs.messagesSent).toBe(1);
  });

  it("answers QueueDoesNotExist, in SQS's JSON error shape, for a queue it does not serve", async () => {
    const { emulator, sqs } = await emulatorWith();
    const missing = `${emulator.url}/000000000000/nope`;
    expect(await rejection(receive(sqs, { QueueUrl: missing }))).toBeInstanceOf(QueueDoesNotExist);
    expect(await rejection(sqs.send(new GetQueueUrlCommand({ QueueName: "nope" })))).toBeInstanceOf(QueueDoesNotExist);
    const raw = await fetch(emulator.url, {
      method: "POST",
      headers: { "x-amz-target": "AmazonSQS.ReceiveMessage", "content-type": "application/x-amz-json-1.0", authorization: "AWS4-HMAC-SHA256 Credential=AKID/20261129/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0" },
      body: JSON.stringify({ QueueUrl: missing }),
    });
    expect(raw.status).toBe(400);
    expect(raw.headers.get("content-type")).toBe("application/x-amz-json-1.0");
    expect(raw.headers.get("x-amzn-query-error")).toBe("AWS.SimpleQueueService.NonExistentQueue;Sender");
    expect(await raw.json()).toEqual({ __type: "com.amazonaws.sqs#QueueDoesNotExist", message: "The specified queue does not exist." });
  });

  it("refuses unsigned requests, and counts SQS calls apart from Connect's until resetStats", async () => {
    const { emulator, sqs, queueUrl } = await emulatorWith();
    const unsigned = await fetch(emulator.url, { method: "POST", headers: { "x-amz-target": "AmazonSQS.ReceiveMessage" }, body: JSON.stringify({ QueueUrl: queueUrl }) });
    expect(unsigned.status).toBe(403);
    expect(emulator.calls.unauthenticated).toBe(1);
    await receive(sqs, { QueueUrl: queueUrl });
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }));
    expect(emulator.calls.sqs.total).toBe(2);
    expect(emulator.calls.total).toBe(0);
    emulator.resetStats();
    expect(emulator.calls.sqs).toMatchObject({ total: 0, byAction: { ReceiveMessage: 0, GetQueueAttributes: 0 }, emptyReceives: 0 });
  });
});
