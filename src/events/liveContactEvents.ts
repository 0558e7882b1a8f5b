import { randomUUID } from "node:crypto";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Logger } from "pino";
import type { ContactRef } from "../domain/contactRef.js";
import type { GatewayMetrics } from "../observability/metrics.js";
import type { RedisLink } from "../upstream/redisLink.js";
import { createRedisBus, LOCAL_BUS } from "./contactEventBus.js";
import { ContactEventConsumer, type ConsumerState } from "./contactEventConsumer.js";
import { ContactEventHub } from "./contactEventHub.js";
import { ContactEventRelay, type ContactStore } from "./contactEventRelay.js";
import { EventDeduplicator } from "./eventDeduplicator.js";

export interface LiveContactEventsOptions {
  /** The real SDK client (the emulator's endpoint in emulator mode). */
  sqs: SQSClient;
  /** `CONTACT_EVENTS_QUEUE_URL`. */
  queueUrl: string;
  store: ContactStore;
  /** Shares claims and fans events out to every replica; unset: this replica alone. */
  redis?: RedisLink | undefined;
  keyPrefix: string;
  /** `SUBSCRIPTION_BUFFER_EVENTS`. */
  bufferEvents: number;
  logger: Logger;
  metrics: GatewayMetrics;
  /** Observes every contact an event changed (on every replica). */
  onContactChanged?: ((ref: ContactRef) => void) | undefined;
  /** The regions the gateway may call (`CONNECT_REGIONS`): events of another are rejected. */
  regions?: ReadonlySet<string> | undefined;
}

/** Live contact events on this replica, assembled; see `createLiveContactEvents`. */
export interface LiveContactEvents {
  readonly hub: ContactEventHub;
  readonly relay: ContactEventRelay;
  readonly consumer: ContactEventConsumer;
  /** The consumer's state, for `/readyz`. */
  readonly state: ConsumerState;
  /** Hears other replicas, then starts consuming the queue. */
  start(): Promise<void>;
  /**
   * Graceful shutdown: stops receiving and finishes (and deletes) the messages taken, then ends
   * every subscription after what was already queued for it, and leaves the rest of the queue to
   * the other replicas.
   */
  stop(): Promise<void>;
}

/** How long an applied event id is remembered: far beyond any SQS redelivery or EventBridge retry seen in practice. */
const DEDUP_WINDOW_MS = 60 * 60 * 1000;
/** How long a claim protects an event being applied: SQS's default visibility timeout. */
const CLAIM_MS = 30_000;

/**
 * The event path of one replica: the queue's consumer (`ContactEventConsumer`) → the relay (dedup,
 * order, one DescribeContact, fan-out) → this replica's hub of subscribers; with Redis, the bus that
 * carries each event to the other replicas' relays and hubs.
 */
export function createLiveContactEvents(options: LiveContactEventsOptions): LiveContactEvents {
  const { redis, logger, metrics } = options;
  const hub = new ContactEventHub({ bufferEvents: options.bufferEvents });
  const bus = redis ? createRedisBus(redis, options.keyPrefix, randomUUID(), logger) : LOCAL_BUS;
  const relay = new ContactEventRelay({
    store: options.store,
    hub,
    bus,
    deduplicator: new EventDeduplicator({ redis, keyPrefix: options.keyPrefix, claimMs: CLAIM_MS, windowMs: DEDUP_WINDOW_MS }),
    logger,
    metrics,
    onContactChanged: options.onContactChanged,
  });
  const consumer = new ContactEventConsumer({ sqs: options.sqs, queueUrl: options.queueUrl, apply: (event, receives) => relay.apply(event, receives), logger, metrics, regions: options.regions });
  return {
    hub,
    relay,
    consumer,
    get state() {
      return consumer.state;
    },
    async start() {
      await bus.start((event) => relay.heard(event));
      consumer.start();
    },
    async stop() {
      await consumer.stop();
      await bus.close();
      await relay.settled();
      hub.endAll();
    },
  };
}
