import type { ContactEventEnvelope, ContactEventInput } from "./contactEvents.js";
import type { LiveTrafficOptions } from "./liveTraffic.js";

/** Messages on a queue: receivable now, and received but not yet deleted nor visible again. */
export interface QueueDepth {
  visible: number;
  inFlight: number;
}

/**
 * The emulator's contact events (`Emulator.events`): Amazon Connect contact events delivered to an
 * SQS queue the emulator serves on its own port, as an EventBridge rule with an SQS target would.
 */
export interface EmulatorEvents {
  /** The queue's URL: `{emulator url}/{accountId}/{queueName}` (give it to `@aws-sdk/client-sqs`, endpoint `emulator.url`). */
  readonly queueUrl: string;
  /** The dead-letter queue's URL (`...-dlq`), when `deadLetter` is set. */
  readonly deadLetterQueueUrl: string | undefined;
  /**
   * Applies the event's state change to its contact, then queues the event; returns the event as
   * queued. Throws `ContactEventError` for an unknown instance, contact, queue or agent.
   */
  emit(input: ContactEventInput): ContactEventEnvelope;
  /** Queues `body` as it is (anything, not JSON even), as a stray or malformed delivery would arrive. */
  sendRaw(body: string): { MessageId: string };
  /** The queue's messages now. */
  depth(): QueueDepth;
  /** The dead-letter queue's messages now, when there is one. */
  deadLetterDepth(): QueueDepth | undefined;
  /** The live traffic in force (`contactsPerMinute` 0: off). */
  readonly live: Required<LiveTrafficOptions>;
  /** Changes the live traffic at run time (`{ contactsPerMinute: 0 }` stops new contacts). */
  setLive(options: Partial<LiveTrafficOptions>): void;
}
