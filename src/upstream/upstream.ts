import type { Contact, Queue, ReferenceSummary, SearchContactsRequest, SearchContactsResponse, User } from "@aws-sdk/client-connect";
import type { ContactRef } from "../domain/contactRef.js";
import type { ResourceRef } from "../domain/resourceRef.js";
import type { OperationScope } from "./operationScope.js";

/** One upstream quota: Connect counts per API, per account (here: per credentials) and per region. */
export interface QuotaScope {
  readonly api: string;
  readonly region: string;
  /** The AWS account id when the credentials carry it, else the access key id; hashed before use. */
  readonly identity: string;
}

/** Per-call options of an upstream read. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
  /**
   * Awaited before every attempt the SDK makes, retries included, so each request that reaches
   * Connect has been granted by the quota limiter. `attempt` counts from 1. May reject to stop the
   * call (the rejection is not retried).
   */
  beforeAttempt?: ((scope: QuotaScope, attempt: number) => Promise<void>) | undefined;
  /** The GraphQL request this call is made for: every attempt counts toward its log line. */
  operation?: OperationScope | undefined;
}

/**
 * The upstream API as the gateway uses it. The gateway depends on this interface, not on the SDK,
 * so tests can count or fail calls; production and the emulator both use `ConnectUpstream`.
 */
export interface Upstream {
  /** DescribeContact. Resolves the contact or rejects with the SDK's exception. */
  describeContact(ref: ContactRef, options?: CallOptions): Promise<Contact>;
  /** DescribeQueue. */
  describeQueue(ref: ResourceRef, options?: CallOptions): Promise<Queue>;
  /** DescribeUser. */
  describeUser(ref: ResourceRef, options?: CallOptions): Promise<User>;
  /** GetContactAttributes of the chain whose initial contact `ref` names; `{}` when it has none. */
  getContactAttributes(ref: ContactRef, options?: CallOptions): Promise<Record<string, string>>;
  /** One page of ListContactReferences. */
  listContactReferences(ref: ContactRef, types: readonly string[], nextToken: string | undefined, options?: CallOptions): Promise<ReferencesPage>;
  /** One page of SearchContacts in `region`. */
  searchContacts(region: string, input: SearchContactsRequest, options?: CallOptions): Promise<SearchContactsResponse>;
  /** Closes keep-alive connections. */
  destroy(): void;
}

/** One page of a contact's references. */
export interface ReferencesPage {
  references: ReferenceSummary[];
  nextToken?: string | undefined;
}
