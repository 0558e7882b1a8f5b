import { setTimeout as sleep } from "node:timers/promises";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Logger } from "pino";
import type { GatewayMetrics } from "../observability/metrics.js";
import type { ApplyOutcome } from "./contactEventRelay.js";
import { parseContactEvent } from "./parseContactEvent.js";
import type { ContactEvent } from "../domain/contactEvent.js";

export interface ContactEventConsumerOptions {
  /** The real SDK client; its endpoint and credentials are the SDK's own (`AWS_ENDPOINT_URL_SQS`, the provider chain). */
  sqs: SQSClient;
  /** `CONTACT_EVENTS_QUEUE_URL`. */
  queueUrl: string;
  /**
   * Applies one event (`ContactEventRelay.apply`), taken from the queue for the `receives`th time;
   * rejects to leave its message for redelivery.
   */
  apply: (event: ContactEvent, receives: number) => Promise<ApplyOutcome>;
  logger: Logger;
  metrics?: Pick<GatewayMetrics, "observeEvent" | "observeEventReceiveError"> | undefined;
  /** Long-poll wait per receive, seconds (SQS's maximum, 20, by default). */
  waitTimeSeconds?: number;
  /** Longest back-off between failed receives, ms. Default 30,000. */
  maxBackoffMs?: number;
  /** The regions the gateway may call (`CONNECT_REGIONS`): an event of another is rejected. Default: Connect's regions. */
  regions?: ReadonlySet<string> | undefined;
}

/** Longest a delete or visibility change may take (SQS calls that are not long polls), ms. */
const SQS_CALL_TIMEOUT_MS = 10_000;

/** What the consumer reports on `/readyz` (as information: the gateway serves queries without it). */
export type ConsumerState = "starting" | "receiving" | "retrying" | "stopped";

/**
 * Consumes Amazon Connect's contact events from the SQS queue an EventBridge rule feeds. Replicas
 * are competing consumers of one queue: each message goes to one of them (until its visibility
 * timeout passes), which applies it for all.
 *
 * - Long polling, up to 10 messages a receive, one receive in flight per replica. Messages are
 *   applied one after another in the order received, so a contact's events are delivered in order.
 * - A message is deleted only after its event was applied (cache refreshed, published to every
 *   subscriber) or found a duplicate or stale; one whose apply failed is left for redelivery after
 *   its visibility timeout. Deletes of a batch go out together (DeleteMessageBatch).
 * - A message that is not JSON or not a contact event is logged by message id (never its body) and
 *   counted as rejected. With a dead-letter queue on the queue (a RedrivePolicy), it is left alone so
 *   SQS moves it there after `maxReceiveCount` receives, where operators can inspect it; without
 *   one it is deleted, so it cannot come back forever and crowd the queue.
 * - A failed receive (SQS down, no permission) is retried with exponential back-off up to
 *   `maxBackoffMs`, logged once when it starts and once when it ends; subscriptions stay open.
 * - `stop` stops receiving (the pending long poll is aborted), finishes and deletes the messages it
 *   holds, and leaves everything else to the other replicas.
 */
export class ContactEventConsumer {
  private controller = new AbortController();
  private loop: Promise<void> | undefined;
  private current: ConsumerState = "starting";
  private deadLetterQueue = false;

  constructor(private readonly options: ContactEventConsumerOptions) {}

  get state(): ConsumerState {
    return this.current;
  }

  /** Starts the receive loop in the background. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops receiving; resolves when the messages already taken are applied and deleted. */
  async stop(): Promise<void> {
    this.controller.abort();
    await this.loop;
    this.current = "stopped";
  }

  // Private: the loop, until stopped.
  private async run(): Promise<void> {
    const { logger } = this.options;
    this.deadLetterQueue = await this.hasDeadLetterQueue();
    let failures = 0;
    while (!this.controller.signal.aborted) {
      let messages: Message[];
      try {
        messages = await this.receive();
      } catch (error) {
        if (this.controller.signal.aborted) break;
        this.options.metrics?.observeEventReceiveError();
        if (failures === 0) logger.warn({ err: { name: (error as Error)?.name, message: (error as Error)?.message } }, "cannot receive contact events; retrying with back-off");
        this.current = "retrying";
        const backoff = Math.min(this.options.maxBackoffMs ?? 30_000, 250 * 2 ** Math.min(failures, 10));
        failures++;
        await sleep(backoff, undefined, { signal: this.controller.signal }).catch(() => {});
        continue;
      }
      if (failures > 0) logger.info({ failures }, "receiving contact events again");
      failures = 0;
      this.current = "receiving";
      const done: Message[] = [];
      for (const message of messages) if (await this.handleSafely(message)) done.push(message);
      await this.delete(done);
    }
  }

  // Private: `handle`, which never rejects: a message whose handling throws (a defect) is logged and
  // left for redelivery like a failed apply, so neither the batch's other messages (applied, to be
  // deleted) nor the loop itself are lost with it.
  private async handleSafely(message: Message): Promise<boolean> {
    try {
      return await this.handle(message);
    } catch (error) {
      this.options.metrics?.observeEvent("failed");
      this.options.logger.error(
        { messageId: message.MessageId, err: { name: (error as Error)?.name, message: (error as Error)?.message } },
        "could not handle a contact event message; it will be redelivered",
      );
      await this.retryLater(message);
      return false;
    }
  }

  // Private: one long poll, aborted by `stop` or, should the connection silently die, 10 s after its
  // WaitTimeSeconds. Its own controller, fed by a listener on the stop signal and a timer that are
  // both removed when it ends: `AbortSignal.any` over the process-long stop signal would leave it
  // holding every receive's combined signal (Node 20, nodejs/node#55351: ~60 bytes a receive, for
  // as long as the process runs).
  private async receive(): Promise<Message[]> {
    const stop = this.controller.signal;
    const poll = new AbortController();
    const onStop = () => poll.abort(stop.reason);
    stop.addEventListener("abort", onStop, { once: true });
    const timer = setTimeout(() => poll.abort(new DOMException("The receive timed out.", "TimeoutError")), ((this.options.waitTimeSeconds ?? 20) + 10) * 1000);
    try {
      if (stop.aborted) poll.abort(stop.reason);
      const output = await this.options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.options.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: this.options.waitTimeSeconds ?? 20,
          MessageSystemAttributeNames: ["ApproximateReceiveCount"],
        }),
        { abortSignal: poll.signal },
      );
      return output.Messages ?? [];
    } finally {
      clearTimeout(timer);
      stop.removeEventListener("abort", onStop);
    }
  }

  /** Applies one message; `true` when it is done with and may be deleted. */
  private async handle(message: Message): Promise<boolean> {
    const { logger, metrics } = this.options;
    metrics?.observeEvent("received");
    const parsed = parseContactEvent(message.Body ?? "", this.options.regions);
    if (!parsed.ok) {
      metrics?.observeEvent("rejected");
      logger.warn(
        { messageId: message.MessageId, reason: parsed.reason, receiveCount: message.Attributes?.ApproximateReceiveCount },
        this.deadLetterQueue ? "not a contact event: left for the dead-letter queue" : "not a contact event: deleted",
      );
      return !this.deadLetterQueue;
    }
    try {
      const outcome = await this.options.apply(parsed.event, Number(message.Attributes?.ApproximateReceiveCount ?? 1));
      if (outcome === "busy") {
        // Another copy is being applied right now (its replica may still fail): this one waits.
        metrics?.observeEvent("deferred");
        await this.retryLater(message);
        return false;
      }
      metrics?.observeEvent(outcome);
      return true;
    } catch (error) {
      metrics?.observeEvent("failed");
      logger.warn(
        { messageId: message.MessageId, eventId: parsed.event.eventId, err: { name: (error as Error)?.name } },
        "could not apply a contact event; it will be redelivered",
      );
      await this.retryLater(message);
      return false;
    }
  }

  // Private: makes a message left on the queue visible again after a back-off growing with its
  // receives (2, 4, 8 … 60 s) rather than after the queue's whole visibility timeout. Best effort:
  // if this fails, the visibility timeout brings it back all the same.
  private async retryLater(message: Message): Promise<void> {
    const receives = Number(message.Attributes?.ApproximateReceiveCount ?? 1);
    const seconds = Math.min(60, 2 ** Math.max(1, receives));
    await this.options.sqs
      .send(new ChangeMessageVisibilityCommand({ QueueUrl: this.options.queueUrl, ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: seconds }), {
        abortSignal: AbortSignal.timeout(SQS_CALL_TIMEOUT_MS),
      })
      .catch(() => {});
  }

  private async delete(messages: Message[]): Promise<void> {
    if (messages.length === 0) return;
    const entries = messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! }));
    // Not aborted by stop: what was applied must be deleted, or it is applied again elsewhere.
    for (let attempt = 1; attempt <= 3 && entries.length > 0; attempt++) {
      try {
        const output = await this.options.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: entries }), {
          abortSignal: AbortSignal.timeout(SQS_CALL_TIMEOUT_MS),
        });
        const failed = new Set((output.Failed ?? []).map((f) => f.Id));
        entries.splice(0, entries.length, ...entries.filter((e) => failed.has(e.Id)));
      } catch {
        // retried below; a message never deleted is redelivered and then found a duplicate
      }
    }
    if (entries.length > 0) this.options.logger.warn({ count: entries.length }, "could not delete applied contact events; their redelivered copies will be dropped as duplicates");
  }

  // Private: whether the queue sends what it cannot deliver to a dead-letter queue.
  private async hasDeadLetterQueue(): Promise<boolean> {
    try {
      const output = await this.options.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: this.options.queueUrl, AttributeNames: ["RedrivePolicy"] }),
        { abortSignal: this.controller.signal },
      );
      return Boolean(output.Attributes?.RedrivePolicy);
    } catch (error) {
      this.options.logger.warn(
        { err: { name: (error as Error)?.name } },
        "could not read the events queue's RedrivePolicy (sqs:GetQueueAttributes): messages that are not contact events will be deleted, not left for a dead-letter queue",
      );
      return false;
    }
  }
}
