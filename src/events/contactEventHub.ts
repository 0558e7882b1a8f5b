import { GraphQLError } from "graphql";
import type { ContactEvent } from "../domain/contactEvent.js";
import { arnAccount, type ContactModel } from "../domain/contactRef.js";
import { ErrorCode } from "../domain/errors.js";
import { SubscriberQueue } from "./subscriberQueue.js";

/** One event as subscribers receive it: the notification and the contact as it was read after it. */
export interface ContactEventDelivery {
  readonly event: ContactEvent;
  /** The contact read once for this event (DescribeContact or the shared cache); `null` when Connect has none. */
  readonly contact: ContactModel | null;
}

/**
 * Which events one subscription wants: its instance, and optionally (all combined with AND) some
 * contacts, channels, queues, agents or event types. An absent list matches everything.
 */
export interface ContactEventFilter {
  readonly instanceId: string;
  /**
   * The account of the instance ARN subscribed to, if one was: only events of that account match (the
   * account of the event's instance ARN, else of the contact read after it; neither known: no match).
   */
  readonly accountId?: string | undefined;
  readonly contactIds?: ReadonlySet<string> | undefined;
  readonly channels?: ReadonlySet<string> | undefined;
  readonly queueIds?: ReadonlySet<string> | undefined;
  readonly agentIds?: ReadonlySet<string> | undefined;
  readonly eventTypes?: ReadonlySet<string> | undefined;
}

export interface ContactEventHubOptions {
  /** Events one subscriber may fall behind by before it is cut off (`SUBSCRIPTION_BUFFER_EVENTS`). */
  bufferEvents: number;
}

/**
 * This replica's subscribers, and the delivery of each event to those whose filter it matches. Every
 * subscriber gets its own bounded queue (`SubscriberQueue`): delivering never waits for a slow
 * subscriber, and one that falls `bufferEvents` behind is cut off with SUBSCRIBER_TOO_SLOW.
 */
export class ContactEventHub {
  private readonly subscribers = new Map<SubscriberQueue<ContactEventDelivery>, ContactEventFilter>();

  constructor(private readonly options: ContactEventHubOptions) {}

  /** Subscriptions open on this replica. */
  get size(): number {
    return this.subscribers.size;
  }

  /**
   * A new subscription: its events as an async iterator. `onOverflow` runs when it is cut off for
   * falling behind (the transport closes the connection, since a stalled client would not read the
   * error either).
   */
  subscribe(filter: ContactEventFilter, onOverflow: (error: Error) => void = () => {}): SubscriberQueue<ContactEventDelivery> {
    const queue: SubscriberQueue<ContactEventDelivery> = new SubscriberQueue<ContactEventDelivery>(
      this.options.bufferEvents,
      () => this.subscribers.delete(queue),
      onOverflow,
      () =>
        new GraphQLError(
          `This subscription fell more than ${this.options.bufferEvents} events behind (SUBSCRIPTION_BUFFER_EVENTS) and was ended; subscribe again.`,
          { extensions: { code: ErrorCode.SUBSCRIBER_TOO_SLOW, limit: "SUBSCRIPTION_BUFFER_EVENTS" } },
        ),
    );
    this.subscribers.set(queue, filter);
    return queue;
  }

  /** Hands `delivery` to every subscriber whose filter it matches; returns how many. */
  deliver(delivery: ContactEventDelivery): number {
    let count = 0;
    for (const [queue, filter] of this.subscribers) {
      if (!matches(filter, delivery)) continue;
      queue.push(delivery);
      count++;
    }
    return count;
  }

  /** Ends every subscription (shutdown): each finishes after the events already queued for it. */
  endAll(): void {
    for (const queue of [...this.subscribers.keys()]) queue.end();
  }
}

// Private: whether one event is for one subscription. The queue and agent come from the event when
// it names them, else from the contact as read (a DISCONNECTED event may not repeat them).
function matches(filter: ContactEventFilter, { event, contact }: ContactEventDelivery): boolean {
  if (event.ref.instanceId !== filter.instanceId) return false;
  if (filter.accountId !== undefined && filter.accountId !== (event.accountId ?? arnAccount(contact?.arn))) return false;
  if (filter.eventTypes && !filter.eventTypes.has(event.eventType)) return false;
  if (filter.contactIds && !filter.contactIds.has(event.ref.contactId)) return false;
  if (filter.channels && !filter.channels.has(event.channel ?? contact?.channel ?? "")) return false;
  if (filter.queueIds && !filter.queueIds.has(event.queueId ?? contact?.queueInfo?.id ?? "")) return false;
  if (filter.agentIds && !filter.agentIds.has(event.agentId ?? contact?.agentInfo?.id ?? "")) return false;
  return true;
}
