import type { IncomingMessage, ServerResponse } from "node:http";
import { sendAnswer, type Answer } from "./answer.js";
import { checkAuthorization } from "./authorization.js";
import { isObject, isStringList, type Json } from "./jsonValue.js";
import { parseJsonBody, readBody } from "./readBody.js";
import type { SqsQueue } from "./sqsQueue.js";
import type { Stats } from "./stats.js";

/** AWS JSON 1.0, the protocol of `@aws-sdk/client-sqs`. */
const AMZ_JSON = "application/x-amz-json-1.0";

/** The queue attributes GetQueueAttributes knows (SQS's `QueueAttributeName`); those the emulator has no value for are left out. */
const QUEUE_ATTRIBUTES = [
  "ApproximateNumberOfMessages",
  "ApproximateNumberOfMessagesDelayed",
  "ApproximateNumberOfMessagesNotVisible",
  "ContentBasedDeduplication",
  "CreatedTimestamp",
  "DeduplicationScope",
  "DelaySeconds",
  "FifoQueue",
  "FifoThroughputLimit",
  "KmsDataKeyReusePeriodSeconds",
  "KmsMasterKeyId",
  "LastModifiedTimestamp",
  "MaximumMessageSize",
  "MessageRetentionPeriod",
  "Policy",
  "QueueArn",
  "ReceiveMessageWaitTimeSeconds",
  "RedriveAllowPolicy",
  "RedrivePolicy",
  "SqsManagedSseEnabled",
  "VisibilityTimeout",
] as const;

/**
 * Amazon SQS's API for the emulator's queues, as the real `@aws-sdk/client-sqs` speaks it: AWS JSON
 * 1.0, `POST /` with `X-Amz-Target: AmazonSQS.<Action>`, the queue named by `QueueUrl` in the body.
 * Actions: ReceiveMessage, DeleteMessage, DeleteMessageBatch, ChangeMessageVisibility,
 * GetQueueAttributes, GetQueueUrl, SendMessage; others answer UnsupportedOperation.
 *
 * Errors are what SQS sends in its query-compatible JSON mode: a status, a body
 * `{"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": ...}` and the header
 * `x-amzn-query-error: AWS.SimpleQueueService.NonExistentQueue;Sender`, from which the SDK picks
 * the exception class (`QueueDoesNotExist`, `ReceiptHandleIsInvalid`, ...).
 *
 * Latency, quotas and injected failures are Connect's only: SQS calls are answered at once (a long
 * poll when a message arrives or its wait ends), and counted in `calls.sqs`, not `calls.total`.
 */
export class SqsApi {
  /** Long polls in progress, ended by `close()`. */
  private readonly polls = new Set<AbortController>();

  constructor(
    private readonly queues: readonly SqsQueue[],
    private readonly stats: Stats,
    /** The emulator's base URL, known once it listens (queue URLs are built on it). */
    private readonly baseUrl: () => string,
    private readonly requireAuth: () => boolean,
  ) {}

  /** The URL of `queue` (`{emulator url}/{accountId}/{name}`). */
  urlOf(queue: SqsQueue): string {
    return `${this.baseUrl()}${queue.path}`;
  }

  handle(req: IncomingMessage, res: ServerResponse, target: string): void {
    if (this.requireAuth()) {
      const refusal = checkAuthorization(req.headers.authorization, "sqs");
      if (refusal) {
        req.resume();
        this.stats.unauthenticated++;
        sendAnswer(res, sqsError(403, `com.amazon.coral.service#${refusal.code}`, refusal.code.replace(/Exception$/, ""), refusal.message));
        return;
      }
    }
    const action = target.slice("AmazonSQS.".length);
    readBody(req, (raw) => {
      this.stats.sqsCall(action);
      const body = parseJsonBody(raw);
      if (!isObject(body)) {
        sendAnswer(res, sqsError(400, "com.amazon.coral.service#SerializationException", "SerializationException", "The request body is not a JSON object"));
        return;
      }
      const poll = new AbortController();
      // A receiver that goes away ends its long poll, so no message is received for nobody.
      res.once("close", () => poll.abort());
      this.polls.add(poll);
      this.answer(action, body, poll.signal).then(
        (answer) => {
          this.polls.delete(poll);
          sendAnswer(res, answer);
        },
        (error: unknown) => {
          this.polls.delete(poll);
          sendAnswer(res, sqsError(500, "com.amazonaws.sqs#InternalError", "InternalError", `Emulator error: ${error instanceof Error ? error.message : String(error)}`));
        },
      );
    });
  }

  /** Ends every long poll in progress; each answers with no message. */
  close(): void {
    for (const poll of this.polls) poll.abort();
    for (const queue of this.queues) queue.close();
  }

  // Private: one action.
  private async answer(action: string, body: Json, signal: AbortSignal): Promise<Answer> {
    if (action === "GetQueueUrl") return this.getQueueUrl(body);
    if (!(SUPPORTED as readonly string[]).includes(action)) return sqsError(400, "com.amazonaws.sqs#UnsupportedOperation", "AWS.SimpleQueueService.UnsupportedOperation", `The emulator does not implement ${action}`);
    if (typeof body.QueueUrl !== "string") return missingParameter("QueueUrl");
    const queue = this.queueAt(body.QueueUrl);
    if (!queue) return queueDoesNotExist();
    switch (action as (typeof SUPPORTED)[number]) {
      case "ReceiveMessage":
        return this.receiveMessage(queue, body, signal);
      case "DeleteMessage": {
        if (typeof body.ReceiptHandle !== "string") return missingParameter("ReceiptHandle");
        return queue.delete(body.ReceiptHandle) === "ok" ? ok({}) : receiptHandleIsInvalid(body.ReceiptHandle);
      }
      case "DeleteMessageBatch":
        return this.deleteMessageBatch(queue, body);
      case "ChangeMessageVisibility": {
        if (typeof body.ReceiptHandle !== "string") return missingParameter("ReceiptHandle");
        const seconds = integerIn(body.VisibilityTimeout, "VisibilityTimeout", 0, 43_200, undefined);
        if (typeof seconds !== "number") return seconds ?? missingParameter("VisibilityTimeout");
        const outcome = queue.changeVisibility(body.ReceiptHandle, seconds);
        if (outcome === "invalid") return receiptHandleIsInvalid(body.ReceiptHandle);
        if (outcome === "notInFlight") return sqsError(400, "com.amazonaws.sqs#MessageNotInflight", "AWS.SimpleQueueService.MessageNotInflight", "Message does not exist or is not available for visibility timeout change.");
        return ok({});
      }
      case "GetQueueAttributes":
        return this.getQueueAttributes(queue, body);
      case "SendMessage": {
        if (typeof body.MessageBody !== "string" || body.MessageBody === "") return missingParameter("MessageBody");
        const delay = integerIn(body.DelaySeconds, "DelaySeconds", 0, 900, 0);
        if (typeof delay !== "number") return delay!;
        return ok(queue.send(body.MessageBody, delay));
      }
    }
  }

  private async receiveMessage(queue: SqsQueue, body: Json, signal: AbortSignal): Promise<Answer> {
    const max = integerIn(body.MaxNumberOfMessages, "MaxNumberOfMessages", 1, 10, 1);
    if (typeof max !== "number") return max!;
    const wait = integerIn(body.WaitTimeSeconds, "WaitTimeSeconds", 0, 20, 0);
    if (typeof wait !== "number") return wait!;
    const visibility = integerIn(body.VisibilityTimeout, "VisibilityTimeout", 0, 43_200, undefined);
    if (visibility !== undefined && typeof visibility !== "number") return visibility;
    const names = [body.MessageSystemAttributeNames, body.AttributeNames].flatMap((list) => (isStringList(list) ? list : []));
    const messages = await queue.receive({ max, waitSeconds: wait, visibilitySeconds: visibility, attributeNames: names, signal });
    if (messages.length === 0) this.stats.sqs.emptyReceives++;
    return ok(messages.length > 0 ? { Messages: messages } : {});
  }

  private deleteMessageBatch(queue: SqsQueue, body: Json): Answer {
    const entries = body.Entries;
    if (!Array.isArray(entries) || entries.length === 0) return sqsError(400, "com.amazonaws.sqs#EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", "There should be at least one DeleteMessageBatchRequestEntry in the request.");
    if (entries.length > 10) return sqsError(400, "com.amazonaws.sqs#TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", `Maximum number of entries per request are 10. You have sent ${entries.length}.`);
    const ids = new Set<string>();
    for (const entry of entries) {
      const id = isObject(entry) ? entry.Id : undefined;
      if (typeof id !== "string" || !/^[A-Za-z0-9_-]{1,80}$/.test(id)) return sqsError(400, "com.amazonaws.sqs#InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId", "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.");
      if (ids.has(id)) return sqsError(400, "com.amazonaws.sqs#BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", `Id ${id} repeated.`);
      ids.add(id);
    }
    const Successful: { Id: string }[] = [];
    const Failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
    for (const entry of entries as Json[]) {
      const id = entry.Id as string;
      const handle = typeof entry.ReceiptHandle === "string" ? entry.ReceiptHandle : "";
      if (queue.delete(handle) === "ok") Successful.push({ Id: id });
      else Failed.push({ Id: id, SenderFault: true, Code: "ReceiptHandleIsInvalid", Message: `The input receipt handle "${handle}" is not a valid receipt handle.` });
    }
    return ok({ Successful, Failed });
  }

  private getQueueAttributes(queue: SqsQueue, body: Json): Answer {
    const names = body.AttributeNames === undefined ? [] : body.AttributeNames;
    if (!isStringList(names)) return invalidParameterValue("AttributeNames must be a list of attribute names.");
    const unknown = names.find((n) => n !== "All" && !(QUEUE_ATTRIBUTES as readonly string[]).includes(n));
    if (unknown) return sqsError(400, "com.amazonaws.sqs#InvalidAttributeName", "InvalidAttributeName", `Unknown Attribute ${unknown}.`);
    const depth = queue.depth();
    const values: Partial<Record<(typeof QUEUE_ATTRIBUTES)[number], string>> = {
      ApproximateNumberOfMessages: String(depth.visible),
      ApproximateNumberOfMessagesNotVisible: String(depth.inFlight),
      ApproximateNumberOfMessagesDelayed: String(depth.delayed),
      VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
      QueueArn: queue.arn,
      DelaySeconds: "0",
      MaximumMessageSize: "1048576",
      MessageRetentionPeriod: "345600",
      ReceiveMessageWaitTimeSeconds: "0",
      SqsManagedSseEnabled: "true",
      ...(queue.deadLetter && { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queue.deadLetter.queue.arn, maxReceiveCount: queue.deadLetter.maxReceiveCount }) }),
    };
    const Attributes: Record<string, string> = {};
    for (const name of QUEUE_ATTRIBUTES) {
      const value = values[name];
      if (value !== undefined && (names.includes("All") || names.includes(name))) Attributes[name] = value;
    }
    return ok(Object.keys(Attributes).length > 0 ? { Attributes } : {});
  }

  private getQueueUrl(body: Json): Answer {
    if (typeof body.QueueName !== "string") return missingParameter("QueueName");
    const owner = typeof body.QueueOwnerAWSAccountId === "string" ? body.QueueOwnerAWSAccountId : undefined;
    const queue = this.queues.find((q) => q.name === body.QueueName && (owner === undefined || q.accountId === owner));
    return queue ? ok({ QueueUrl: this.urlOf(queue) }) : queueDoesNotExist();
  }

  /** The queue a QueueUrl names, by its path (`/{accountId}/{name}`), whatever host the client used. */
  private queueAt(queueUrl: string): SqsQueue | undefined {
    let path: string;
    try {
      path = new URL(queueUrl).pathname;
    } catch {
      return undefined;
    }
    return this.queues.find((q) => q.path === path.replace(/\/$/, ""));
  }
}

// Private: answers in SQS's JSON shape.

const SUPPORTED = ["ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility", "GetQueueAttributes", "SendMessage"] as const;

function ok(value: unknown): Answer {
  return { status: 200, contentType: AMZ_JSON, body: JSON.stringify(value) };
}

/** An SQS error: `type` is the body's `__type`, `queryCode` the code of `x-amzn-query-error`. */
function sqsError(status: number, type: string, queryCode: string, message: string): Answer {
  return { status, contentType: AMZ_JSON, headers: { "x-amzn-query-error": `${queryCode};Sender` }, body: JSON.stringify({ __type: type, message }) };
}

const queueDoesNotExist = () => sqsError(400, "com.amazonaws.sqs#QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.");
const receiptHandleIsInvalid = (handle: string) => sqsError(404, "com.amazonaws.sqs#ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", `The input receipt handle "${handle}" is not a valid receipt handle.`);
const invalidParameterValue = (message: string) => sqsError(400, "com.amazon.coral.validate#ValidationException", "InvalidParameterValue", message);
const missingParameter = (name: string) => sqsError(400, "com.amazon.coral.validate#ValidationException", "MissingParameter", `The request must contain the parameter ${name}.`);

/** `value` as a whole number in [min, max], `fallback` when absent, or the error SQS answers. */
function integerIn(value: unknown, name: string, min: number, max: number, fallback: number | undefined): number | Answer | undefined {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    return invalidParameterValue(`Value ${JSON.stringify(value)} for parameter ${name} is invalid. Reason: Must be between ${min} and ${max}, if provided.`);
  }
  return value;
}
