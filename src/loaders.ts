import type { Contact } from "@aws-sdk/client-connect";
import DataLoader from "dataloader";
import pLimit from "p-limit";
import { contactKey, toContactModel, type ContactModel, type ContactRef } from "./contactRef.js";
import { describeRef, toUpstreamGraphQLError } from "./errors.js";

/** Per-request choices a loader passes down with every read. */
export interface FetchOptions {
  /** Skip cached contacts and read Connect (the HTTP request said `Cache-Control: no-cache`). */
  noCache?: boolean;
}

/** How a loader reads one contact: the cache and limiter stack in production, anything in tests. */
export type FetchContact = (ref: ContactRef, options?: FetchOptions) => Promise<Contact>;

export interface LoaderOptions {
  /** Upstream calls one batch keeps in flight at once. Default 10 (Connect's default rate). */
  concurrency?: number;
  /** Called once per key a batch dispatches, before the fetch; may throw to refuse it. */
  beforeFetch?: (ref: ContactRef) => void;
  /** Observes each dispatched batch (metrics). */
  onBatch?: (size: number) => void;
  /** Passed to every `fetchContact` call of this request. */
  fetchOptions?: FetchOptions;
}

/** The per-request loaders. A new set is made for every GraphQL request, never shared. */
export interface Loaders {
  /**
   * DescribeContact, batched per tick and de-duplicated by (region, instance, contact) for the life
   * of one request: a contact named at several places or depths of a query is fetched once.
   */
  readonly contact: DataLoader<ContactRef, ContactModel, string>;
}

export function createLoaders(fetchContact: FetchContact, options: LoaderOptions = {}): Loaders {
  const concurrency = options.concurrency ?? 10;
  return {
    contact: new DataLoader<ContactRef, ContactModel, string>(
      (refs) => loadContacts(refs, fetchContact, concurrency, options),
      { cacheKeyFn: contactKey },
    ),
  };
}

// Private: one result or one Error per ref, in order, so one failing contact never fails the
// others. Errors are GraphQL errors with codes; the field they land on becomes null.
async function loadContacts(
  refs: readonly ContactRef[],
  fetchContact: FetchContact,
  concurrency: number,
  options: LoaderOptions,
): Promise<Array<ContactModel | Error>> {
  options.onBatch?.(refs.length);
  const limit = pLimit(concurrency);
  return Promise.all(
    refs.map((ref) =>
      limit(async () => {
        try {
          options.beforeFetch?.(ref);
          return toContactModel(await fetchContact(ref, options.fetchOptions), ref);
        } catch (error) {
          return toUpstreamGraphQLError(error, describeRef(ref));
        }
      }),
    ),
  );
}
