import type { Dataset } from "./dataset.js";
import type { FailureOptions } from "./failureInjector.js";
import type { LiveTrafficOptions } from "./liveTraffic.js";
import type { QuotaOption } from "./quotas.js";

/** The options that can change while the emulator runs (`setOptions`, `POST /_emulator/config`). */
export interface RuntimeOptions {
  /** Added to every Connect API answer, ms. Default 0. */
  latencyMs?: number;
  /** Per-API token buckets of Connect's APIs; over quota answers 429 ThrottlingException. Default: none. */
  quota?: QuotaOption | undefined;
  /** Injected failures of Connect's APIs. Default: none. */
  failures?: FailureOptions | false | undefined;
  /** Refuse requests without a SigV4 `Authorization` header (403), as AWS does. Default true. */
  requireAuth?: boolean;
}

/** The run-time options in force. */
export type CurrentOptions = Readonly<Required<Pick<RuntimeOptions, "latencyMs" | "requireAuth">> & Pick<RuntimeOptions, "quota" | "failures">>;

export interface EmulatorOptions extends RuntimeOptions {
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /**
   * The data set. Default `buildDataset(seed)`. Contact events change it in place, so emulators that
   * emit events should not share one.
   */
  dataset?: Dataset;
  /** Seed of the data set built when `dataset` is not given. Default 1 (the data set `DEMO` describes). */
  seed?: number;
  /**
   * The regions whose endpoints serve the data set's instances (each request's region is its SigV4
   * credential scope's). Default: the data set's region alone. An instance lives in one region of
   * one account, so a request to another region's endpoint, or naming an ARN of another region or
   * account, is answered ResourceNotFoundException, as Connect answers it; specs that read one
   * instance through several regions list them.
   */
  regions?: readonly string[];
  /** Page size of ListContactReferences (small, so pagination is exercised). Default 3. */
  referencesPageSize?: number;
  /**
   * Whether DescribeContact answers carry the contact's `Attributes`. Default true. `false`
   * emulates a Connect whose DescribeContact leaves them out, so GetContactAttributes is the only
   * source of a contact's attributes.
   */
  describeContactAttributes?: boolean;
  /** Contact events, their SQS queue and live traffic. Defaults: see `EventsOptions` (live traffic off). */
  events?: EventsOptions;
}

/** The contact events and their SQS queue (`Emulator.events`). */
export interface EventsOptions {
  /**
   * Live traffic: contacts played through their life, `contactsPerMinute` of them (see
   * `LiveTrafficOptions`). Default off (`contactsPerMinute: 0`), so tests see only the events they emit.
   */
  live?: LiveTrafficOptions;
  /** Name of the queue. Default `connect-contact-events`. */
  queueName?: string;
  /** Account id in the queue's URL and ARN. Default `000000000000`. */
  accountId?: string;
  /** Seconds a received message stays invisible unless the receive says otherwise. Default 30 (SQS's default). */
  visibilityTimeoutSeconds?: number;
  /**
   * A dead-letter queue (`{queueName}-dlq`): a message received `maxReceiveCount` times and not
   * deleted moves there on its next receive (SQS's RedrivePolicy). Default none.
   */
  deadLetter?: { maxReceiveCount: number };
  /** Seed of the new contacts and of live traffic. Default the data set's seed. */
  seed?: number;
}
