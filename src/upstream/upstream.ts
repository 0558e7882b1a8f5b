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
  describeContact(ref: ContactRef, options?: CallOptions): Promise<ContactAnswer>;
  /** DescribeQueue. */
  describeQueue(ref: ResourceRef, options?: CallOptions): Promise<QueueAnswer>;
  /** DescribeUser. */
  describeUser(ref: ResourceRef, options?: CallOptions): Promise<UserAnswer>;
  /** GetContactAttributes of the chain whose initial contact `ref` names; `{}` when it has none. */
  getContactAttributes(ref: ContactRef, options?: CallOptions): Promise<Record<string, string>>;
  /** One page of ListContactReferences. */
  listContactReferences(ref: ContactRef, types: readonly string[], nextToken: string | undefined, options?: CallOptions): Promise<ReferencesPage>;
  /** One page of SearchContacts in `region`. */
  searchContacts(region: string, input: SearchContactsRequest, options?: CallOptions): Promise<SearchContactsResponse>;
  /** Closes keep-alive connections. */
  destroy(): void;
}

/**
 * The JSON text of an answer, on the object it was parsed into: `ConnectUpstream` keeps the body
 * Connect sent for each read it parses itself (`{"Contact":{…}}`), so the contact cache stores those
 * bytes as they came instead of serializing the contact again.
 */
export const ANSWER_JSON: unique symbol = Symbol("answerJson");

/**
 * A member of an answer as its JSON was parsed: the SDK's member names, Connect's wire values
 * (timestamps in epoch seconds, 64-bit numbers as JSON numbers, members and enum values newer
 * than the SDK included), and the body's text.
 */
export interface AnswerJson {
  readonly [ANSWER_JSON]?: string;
  readonly [member: string]: unknown;
}

/**
 * What DescribeContact, DescribeQueue and DescribeUser resolve to: the resource as the SDK parses it
 * (an upstream that lets the SDK deserialize: `Date`s), or as its JSON was parsed (`ConnectUpstream`:
 * one parse per answer, no schema-driven deserializer). The gateway makes its models from either
 * (`graphqlModel`) and they come out the same.
 */
export type ContactAnswer = Contact | AnswerJson;
export type QueueAnswer = Queue | AnswerJson;
export type UserAnswer = User | AnswerJson;

/** One page of a contact's references. */
export interface ReferencesPage {
  references: ReferenceSummary[];
  nextToken?: string | undefined;
}
