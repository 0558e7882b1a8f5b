import type { SearchContactsRequest, SearchContactsResponse } from "@aws-sdk/client-connect";
import type { ContactModel, ContactRef } from "../domain/contactRef.js";
import type { ResourceModel, ResourceRef } from "../domain/resourceRef.js";
import type { OperationScope } from "./operationScope.js";
import type { ReferencesPage } from "./upstream.js";

/**
 * What the GraphQL layer's loaders read through: the contact source and the related source
 * implement these, tests may hand in anything that does.
 */

/** Per-request choices a loader passes down with every read. */
export interface FetchOptions {
  /** Skip cached contacts and read Connect (the HTTP request said `Cache-Control: no-cache`). */
  noCache?: boolean;
  /** The request the read is for; the upstream calls it causes are counted there. */
  operation?: OperationScope | undefined;
}

/** How a loader reads one contact: the cache and limiter stack in production, anything in tests. */
export type FetchContact = (ref: ContactRef, options?: FetchOptions) => Promise<ContactModel>;

/**
 * The contact at once when reading it needs no load: what `FetchContact` would resolve to, from a
 * fresh copy this process holds, or `undefined` when it holds none (then `FetchContact` reads it).
 * Never answers a `noCache` read. It lets a resolver return a cached contact as a value rather than
 * a promise, so its fields execute without waiting for a batch or a tick.
 */
export type CachedContact = (ref: ContactRef, options?: FetchOptions) => ContactModel | undefined;

/**
 * How loaders read the APIs besides DescribeContact: quota-limited (and, for queues and users,
 * cached) in production (`createRelatedSource`), anything in tests.
 */
export interface RelatedFetch {
  describeQueue(ref: ResourceRef, options?: FetchOptions): Promise<ResourceModel>;
  describeUser(ref: ResourceRef, options?: FetchOptions): Promise<ResourceModel>;
  /** GetContactAttributes; `ref` names the chain's initial contact. */
  getContactAttributes(ref: ContactRef, options?: FetchOptions): Promise<Record<string, string>>;
  /** One page of ListContactReferences. */
  listContactReferences(ref: ContactRef, types: readonly string[], nextToken: string | undefined, options?: FetchOptions): Promise<ReferencesPage>;
  /** One page of SearchContacts. */
  searchContacts(request: SearchPageRequest, options?: FetchOptions): Promise<SearchContactsResponse>;
}

/** One SearchContacts call: the request and the region whose endpoint and quota serve it. */
export interface SearchPageRequest {
  readonly region: string;
  readonly input: SearchContactsRequest;
}
