import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import type { ContactEvent } from "../domain/contactEvent.js";
import { contactKey, type ContactModel, type ContactRef } from "../domain/contactRef.js";
import { ErrorCode, upstreamErrorCode } from "../domain/errors.js";
import type { GatewayMetrics } from "../observability/metrics.js";
import type { ContactEventBus } from "./contactEventBus.js";
import type { ContactEventHub } from "./contactEventHub.js";
import type { EventDeduplicator } from "./eventDeduplicator.js";

/** What the relay needs of the contact source: the cache tiers and one way upstream. */
export interface ContactStore {
  /** One DescribeContact that skips cached answers; the answer replaces the contact in every tier. */
  refresh(ref: ContactRef): Promise<ContactModel>;
  /** Drops this replica's copy only (another replica has just stored a newer one in the shared tier). */
  evictLocal(ref: ContactRef): void;
  /** Reads through the cache: this replica's tier, then the shared one, then Connect. */
  read(ref: ContactRef): Promise<ContactModel>;
}

/** What became of one event given to `apply`. */
/**
 * What became of one event given to `apply`: `busy` means another copy is being applied right now;
 * its message must stay on the queue (redelivered, it is then either a duplicate or applied).
 */
export type ApplyOutcome = "applied" | "duplicate" | "stale" | "busy";

/**
 * The receive of a message from which Connect refusing its contact's read as invalid is final (the
 * event is delivered without its contact, and its message deleted): the first receives are retried,
 * 2 and 4 s apart, in case the refusal was a passing fault.
 */
export const REFUSED_FINAL_AFTER_RECEIVES = 3;

export interface ContactEventRelayOptions {
  store: ContactStore;
  hub: ContactEventHub;
  bus: ContactEventBus;
  deduplicator: EventDeduplicator;
  logger: Logger;
  metrics?: Pick<GatewayMetrics, "observeEventAge"> | undefined;
  /** Observes every contact that changed (the response cache drops what named it). */
  onContactChanged?: ((ref: ContactRef) => void) | undefined;
}

/**
 * Turns each contact event into fresh state and deliveries, on every replica:
 *
 * - `apply` (the replica that took the event from the queue): claims the event id (a duplicate
 *   stops here), drops it when older than the last event applied for its contact (SQS does not keep
 *   order), reads the contact once (one DescribeContact per event, which also replaces it in every
 *   cache tier, so a query right after the event sees the new state), tells the other replicas, then
 *   hands event and contact to this replica's subscribers. Throws when the contact could not be read
 *   (throttled, Connect failing): the message stays on the queue and is applied when redelivered.
 * - `heard` (every other replica, through the bus): drops its own copy of the contact, reads it from
 *   the shared tier (no DescribeContact), and delivers to its subscribers.
 *
 * However many subscribers an event has, they share that one read: each is handed the contact it
 * announced, and the GraphQL layer primes the event's loaders with it.
 */
export class ContactEventRelay {
  /** The newest event time applied per contact (by this replica). */
  private readonly lastApplied = new LRUCache<string, number>({ max: 100_000 });
  /** Other replicas' events, delivered one after another in the order heard. */
  private remote: Promise<void> = Promise.resolve();

  constructor(private readonly options: ContactEventRelayOptions) {}

  /**
   * Applies `event`, taken from the queue for the `receives`th time (SQS's ApproximateReceiveCount):
   * from its `REFUSED_FINAL_AFTER_RECEIVES`th receive on, Connect refusing its read as invalid is
   * final (see `readAfter`).
   */
  async apply(event: ContactEvent, receives = 1): Promise<ApplyOutcome> {
    const { deduplicator } = this.options;
    const claim = await deduplicator.claim(event.eventId);
    if (claim === "applied") return "duplicate";
    if (claim === "busy") return "busy";
    try {
      const key = contactKey(event.ref);
      if (event.timestamp.getTime() < (this.lastApplied.get(key) ?? -Infinity)) {
        await deduplicator.applied(event.eventId);
        return "stale";
      }
      const contact = await this.readAfter(event, (ref) => this.options.store.refresh(ref), receives >= REFUSED_FINAL_AFTER_RECEIVES);
      // A newer event of the contact was delivered while this one was read (another replica's,
      // heard meanwhile): this one is stale now, and delivering it would step the contact back.
      if (event.timestamp.getTime() < (this.lastApplied.get(key) ?? -Infinity)) {
        await deduplicator.applied(event.eventId);
        return "stale";
      }
      this.lastApplied.set(key, event.timestamp.getTime());
      this.options.onContactChanged?.(event.ref);
      await this.options.bus.publish(event);
      this.deliver(event, contact);
      await deduplicator.applied(event.eventId);
      return "applied";
    } catch (error) {
      await deduplicator.release(event.eventId);
      throw error;
    }
  }

  /**
   * Another replica applied `event`: this replica's copy of the contact, and every response naming
   * it, are dropped at once; then the contact is read (the shared tier) and delivered here, after
   * the events heard before it. Only the read and the delivery wait their turn: a read of an earlier
   * event that goes slowly (to Connect, when the shared tier lacks the contact) must not keep this
   * replica answering the old state of another contact meanwhile.
   */
  heard(event: ContactEvent): void {
    this.invalidate(event.ref);
    this.remote = this.remote.then(async () => {
      // Again: a read of an earlier event for the same contact may have stored the state before this
      // one in this replica's tier while this event waited.
      this.invalidate(event.ref);
      // Older than what this replica delivered for the contact by now (the events heard before it,
      // and those it applied itself meanwhile): dropped, as in `apply`.
      const key = contactKey(event.ref);
      if (event.timestamp.getTime() < (this.lastApplied.get(key) ?? -Infinity)) return;
      this.lastApplied.set(key, event.timestamp.getTime());
      try {
        // The consuming replica delivered it, so a refusal is final here at once.
        this.deliver(event, await this.readAfter(event, (ref) => this.options.store.read(ref), true));
      } catch (error) {
        // The consuming replica read it a moment ago; the shared tier or Connect failing now only
        // costs this replica's subscribers this event.
        this.options.logger.warn({ eventId: event.eventId, err: { name: (error as Error)?.name } }, "could not read the contact of another replica's event");
      }
    });
  }

  // Private: whatever this replica holds or answers about the contact is stale now, even if it
  // cannot read the contact afterwards.
  private invalidate(ref: ContactRef): void {
    this.options.store.evictLocal(ref);
    this.options.onContactChanged?.(ref);
  }

  /** Resolves once every event heard so far has been delivered (shutdown and tests). */
  settled(): Promise<void> {
    return this.remote;
  }

  // Private: the contact after `event`; `null` when Connect's answer is final: it does not exist or
  // may not be read; with `refusalIsFinal`, also when it refuses the request as invalid
  // (InvalidRequest/InvalidParameter: the event names ids Connect will not accept, which a retry
  // would meet again for as long as the queue keeps the message). Subscribers still get the
  // notification, and the message is done with. Anything else is thrown, to be read again on
  // redelivery: throttling, timeouts, Connect's own failures, and a refusal on the first receives
  // (a 400 can be a passing fault of Connect's too).
  private async readAfter(event: ContactEvent, read: (ref: ContactRef) => Promise<ContactModel>, refusalIsFinal: boolean): Promise<ContactModel | null> {
    try {
      return await read(event.ref);
    } catch (error) {
      const code = upstreamErrorCode(error);
      if (code === ErrorCode.NOT_FOUND || code === ErrorCode.FORBIDDEN || (refusalIsFinal && code === ErrorCode.BAD_USER_INPUT)) return null;
      throw error;
    }
  }

  private deliver(event: ContactEvent, contact: ContactModel | null): void {
    this.options.metrics?.observeEventAge((Date.now() - event.timestamp.getTime()) / 1000);
    this.options.hub.deliver({ event, contact });
  }
}
