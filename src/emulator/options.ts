import type { Dataset } from "./dataset.js";
import type { FailureOptions } from "./failureInjector.js";
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
  /** The data set. Default `buildDataset(seed)`. */
  dataset?: Dataset;
  /** Seed of the data set built when `dataset` is not given. Default 1 (the data set `DEMO` describes). */
  seed?: number;
  /** Page size of ListContactReferences (small, so pagination is exercised). Default 3. */
  referencesPageSize?: number;
  /**
   * Whether DescribeContact answers carry the contact's `Attributes`. Default true. `false`
   * emulates a Connect whose DescribeContact leaves them out, so GetContactAttributes is the only
   * source of a contact's attributes.
   */
  describeContactAttributes?: boolean;
}
