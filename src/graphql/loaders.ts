import type { Contact, Queue, ReferenceSummary, SearchContactsResponse, User } from "@aws-sdk/client-connect";
import DataLoader from "dataloader";
import { GraphQLError } from "graphql";
import pLimit from "p-limit";
import { contactKey, describeRef, toContactModel, type ContactModel, type ContactRef } from "../domain/contactRef.js";
import { ErrorCode, toUpstreamGraphQLError } from "../domain/errors.js";
import { resourceKey, type ResourceRef } from "../domain/resourceRef.js";
import type { FetchContact, FetchOptions, RelatedFetch, SearchPageRequest } from "../upstream/fetchContact.js";

export interface LoaderOptions {
  /** Upstream calls one batch keeps in flight at once. Default 10 (Connect's default rate). */
  concurrency?: number;
  /** Called once per key a batch dispatches, before the fetch; may throw to refuse it. */
  beforeFetch?: (ref: ContactRef) => void;
  /** Observes each dispatched batch (metrics). */
  onBatch?: (size: number) => void;
  /** Passed to every `fetchContact` call of this request. */
  fetchOptions?: FetchOptions;
  /** How the queue, user, attribute, reference and search loaders read; without it they fail. */
  related?: RelatedFetch | undefined;
}

/** What the references loader is asked for: a contact and the reference types to list. */
export interface ReferencesRequest {
  readonly ref: ContactRef;
  readonly types: readonly string[];
}

/** The per-request loaders. A new set is made for every GraphQL request, never shared. */
export interface Loaders {
  /**
   * DescribeContact, batched per tick and de-duplicated by (region, instance, contact) for the life
   * of one request: a contact named at several places or depths of a query is fetched once.
   */
  readonly contact: DataLoader<ContactRef, ContactModel, string>;
  /** DescribeQueue, one call per distinct (region, instance, queue) per request. */
  readonly queue: DataLoader<ResourceRef, Queue, string>;
  /** DescribeUser, one call per distinct (region, instance, user) per request. */
  readonly user: DataLoader<ResourceRef, User, string>;
  /** GetContactAttributes, one call per chain (keyed by its initial contact) per request. */
  readonly contactAttributes: DataLoader<ContactRef, Record<string, string>, string>;
  /** ListContactReferences, every page, once per (contact, reference types) per request. */
  readonly contactReferences: DataLoader<ReferencesRequest, ReferenceSummary[], string>;
  /** SearchContacts pages, once per distinct request (aliases of one search share it). */
  readonly search: DataLoader<SearchPageRequest, SearchContactsResponse, string>;
}

export function createLoaders(fetchContact: FetchContact, options: LoaderOptions = {}): Loaders {
  const concurrency = options.concurrency ?? 10;
  const related = options.related ?? unconfigured;
  // Private: a loader whose batch reads each key on its own (Connect has no batch reads), at most
  // `concurrency` at a time, one result or one coded error per key.
  const each = <K, V>(cacheKeyFn: (key: K) => string, read: (key: K) => Promise<V>, describe: (key: K) => string) =>
    new DataLoader<K, V, string>(
      (keys) => {
        const limit = limiter(keys.length, concurrency);
        return Promise.all(keys.map((key) => limit(() => read(key).catch((error: unknown) => toUpstreamGraphQLError(error, describe(key))))));
      },
      { cacheKeyFn },
    );
  return {
    contact: new DataLoader<ContactRef, ContactModel, string>(
      (refs) => loadContacts(refs, fetchContact, concurrency, options),
      { cacheKeyFn: contactKey },
    ),
    queue: each(resourceKey, (ref) => related.describeQueue(ref, options.fetchOptions), (ref) => `Queue ${ref.id} in instance ${ref.instanceId} (${ref.region})`),
    user: each(resourceKey, (ref) => related.describeUser(ref, options.fetchOptions), (ref) => `User ${ref.id} in instance ${ref.instanceId} (${ref.region})`),
    contactAttributes: each(contactKey, (ref) => related.getContactAttributes(ref, options.fetchOptions), (ref) => `The attributes of ${describeRef(ref)}`),
    contactReferences: each(
      (r) => `${contactKey(r.ref)}|${r.types.join(",")}`,
      (r) => allReferences(related, r, options.fetchOptions),
      (r) => `The references of ${describeRef(r.ref)}`,
    ),
    search: each(
      (r) => `${r.region}|${JSON.stringify(r.input)}`,
      (r) => related.searchContacts(r, options.fetchOptions),
      (r) => `The contact search in instance ${r.input.InstanceId} (${r.region})`,
    ),
  };
}

/** Pages of ListContactReferences one contact may take (Connect documents a single page). */
const MAX_REFERENCE_PAGES = 20;

// Private: every page of a contact's references, in order; stops on a repeated or missing token.
async function allReferences(related: RelatedFetch, { ref, types }: ReferencesRequest, options?: FetchOptions): Promise<ReferenceSummary[]> {
  const references: ReferenceSummary[] = [];
  const seen = new Set<string>();
  let token: string | undefined;
  for (let page = 0; page < MAX_REFERENCE_PAGES; page++) {
    const result = await related.listContactReferences(ref, types, token, options);
    references.push(...result.references);
    if (!result.nextToken || seen.has(result.nextToken)) break;
    seen.add(result.nextToken);
    token = result.nextToken;
  }
  return references;
}

// Private: what the related loaders do when the gateway was built without them.
const notConfigured = (): Promise<never> =>
  Promise.reject(new GraphQLError("This field is not available: the gateway was built without the related Connect APIs.", { extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } }));
const unconfigured: RelatedFetch = {
  describeQueue: notConfigured,
  describeUser: notConfigured,
  getContactAttributes: notConfigured,
  listContactReferences: notConfigured,
  searchContacts: notConfigured,
};

// Private: one result or one Error per ref, in order, so one failing contact never fails the
// others. Errors are GraphQL errors with codes; the field they land on becomes null.
async function loadContacts(
  refs: readonly ContactRef[],
  fetchContact: FetchContact,
  concurrency: number,
  options: LoaderOptions,
): Promise<Array<ContactModel | Error>> {
  options.onBatch?.(refs.length);
  const limit = limiter(refs.length, concurrency);
  return Promise.all(
    refs.map((ref) =>
      limit(async () => {
        try {
          options.beforeFetch?.(ref);
          return modelOf(await fetchContact(ref, options.fetchOptions), ref);
        } catch (error) {
          return toUpstreamGraphQLError(error, describeRef(ref));
        }
      }),
    ),
  );
}

// Private: a batch no larger than `concurrency` runs at once, without a queue (a throw still becomes
// a rejection, as with p-limit).
function limiter(size: number, concurrency: number): <T>(run: () => Promise<T>) => Promise<T> {
  return size > concurrency ? pLimit(concurrency) : async (run) => run();
}

// Private: the model resolvers read. The contact source's cache hands out each contact as its model
// (`ContactCacheOptions.keep`), made once per read and shared by every request while it lives: a
// cached contact costs no copy of its ~48 members per request (~4% of a cached query's CPU,
// bench/README.md). Anything else (a fetcher without that cache) is copied here. Models are never
// mutated.
function modelOf(contact: Contact, ref: ContactRef): ContactModel {
  const own = (contact as Partial<ContactModel>).$ref;
  if (own && own.contactId === ref.contactId && own.instanceId === ref.instanceId && own.region === ref.region) return contact as ContactModel;
  return toContactModel(contact, ref);
}
