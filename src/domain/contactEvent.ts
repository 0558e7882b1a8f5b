import type { ContactRef } from "./contactRef.js";

/**
 * One Amazon Connect contact event, as the gateway keeps it: the notification EventBridge delivers
 * (`detail-type: Amazon Connect Contact Event`), reduced to what subscribers filter and read. It is
 * a notification, not the contact: DescribeContact after it gives the full state.
 */
export interface ContactEvent {
  /** EventBridge's event id: the same id delivered twice is the same event (SQS is at-least-once). */
  readonly eventId: string;
  /** `detail.eventType`: INITIATED, QUEUED, CONNECTED_TO_AGENT, DISCONNECTED, … (new types pass through). */
  readonly eventType: string;
  /** The envelope's `time` (when Connect emitted it; whole seconds). */
  readonly timestamp: Date;
  /** The contact it announces, in the region and instance of its instance ARN. */
  readonly ref: ContactRef;
  /** The account of its instance ARN (absent in an event relayed by a replica of an earlier version). */
  readonly accountId?: string | undefined;
  readonly initialContactId?: string | undefined;
  readonly previousContactId?: string | undefined;
  /** VOICE, CHAT, TASK, EMAIL, … as Connect sends it. */
  readonly channel?: string | undefined;
  readonly initiationMethod?: string | undefined;
  /** The queue id of `detail.queueInfo.queueArn`, when the event names one. */
  readonly queueId?: string | undefined;
  /** The user id of `detail.agentInfo.agentArn`, when the event names one. */
  readonly agentId?: string | undefined;
}
