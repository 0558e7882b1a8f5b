import type { ReferenceSummary, SearchContactsResponse } from "@aws-sdk/client-connect";
import DataLoader from "dataloader";
import { GraphQLError } from "graphql";
import pLimit from "p-limit";
import { contactKey, describeRef, toContactModel, type ContactModel, type ContactRef } from "../domain/contactRef.js";
import type { RelatedApi } from "../domain/apiQuotas.js";
import { ErrorCode, toUpstreamGraphQLError } from "../domain/errors.js";
import { resourceKey, type ResourceModel, type ResourceRef } from "../domain/resourceRef.js";
import type { CachedContact, FetchContact, FetchOptions, RelatedFetch, SearchPageRequest } from "../upstream/fetchContact.js";
import { InstanceAccounts } from "./instanceAccounts.js";
import { referenceTypeGroups } from "./referenceTypes.js";

export interface LoaderOptions {
  /** Upstream calls one batch keeps in flight at once. Default 10 (Connect's default rate). */
  concurrency?: number;
  /**
   * Called before every upstream read the loaders make, whatever the API: once per key a batch
   * dispatches, and once per page of ListContactReferences. May throw to refuse the read: the
   * error becomes that key's, and nothing goes upstream. Reads served from a cache are announced
   * too (the loaders cannot tell), so a budget kept here does not depend on the cache.
   */
  beforeRead?: (read: UpstreamRead) => void;
  /** Observes each dispatched batch (metrics). */
  onBatch?: (size: number) => void;
  /** Passed to every `fetchContact` call of this request. */
  fetchOptions?: FetchOptions;
  /** How the queue, user, attribute, reference and search loaders read; without it they fail. */
  related?: RelatedFetch | undefined;
  /** Contacts held fresh in process, served by `readContact` without a batch; unset: every read is batched. */
  cachedContact?: CachedContact | undefined;
  /** The accounts of instances, as answers told them (the gateway's, shared by its requests); unset: these loaders' own. */
  accounts?: InstanceAccounts | undefined;
}

/** The Connect APIs the loaders read through. */
export type UpstreamApi = "DescribeContact" | RelatedApi;

/** One upstream read a loader is about to make (`LoaderOptions.beforeRead`). */
export interface UpstreamRead {
  readonly api: UpstreamApi;
  readonly region: string;
  readonly instanceId: string;
  /**
   * What is read, for people: "Contact c-1 in instance i-1 (us-east-1)". Made on demand by a
   * prototype getter (`DescribedRead`), so a spread or `JSON.stringify` of a read leaves it out.
   */
  readonly resource: string;
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
  /**
   * The contact for a resolver to return. A contact the request has not read yet is announced to
   * `beforeRead` at once, in the order resolvers ask (the order a batch would announce them in, so
   * what the budget refuses never depends on what is cached); then, when `cachedContact` holds it
   * fresh, it is returned as a value, not a promise, and `contact` sees it as loaded (a second
   * read is `contact.load(ref)`, resolving to that object); otherwise it is `contact.load(ref)`. A
   * value lets graphql execute the contact's fields without waiting for a batch or a tick, which is
   * most of a cached query's cost.
   *
   * A ref named by an ARN carries its account (`ContactRef.accountId`): the contact is read by its
   * key alone, as any other (one read per contact per request, the caches keyed as ever), and then
   * answered only if its own `arn` is of that account; otherwise NOT_FOUND, as Connect answers for a
   * contact of another account. Once an answer has told the instance's account (`accounts`), an ARN
   * of another account is NOT_FOUND at once, with no read announced or made. Either way a refusal is
   * a rejected promise, never a throw, so it fails only its own field or list item.
   */
  readContact(ref: ContactRef): ContactModel | Promise<ContactModel>;
  /** DescribeQueue, one call per distinct (region, instance, queue) per request. */
  readonly queue: DataLoader<ResourceRef, ResourceModel, string>;
  /** DescribeUser, one call per distinct (region, instance, user) per request. */
  readonly user: DataLoader<ResourceRef, ResourceModel, string>;
  /**
   * `queue.load` or `user.load`, held to the account of the ARN that named the resource
   * (`ResourceRef.accountId`) as `readContact` holds contacts: NOT_FOUND unless the answer's own ARN
   * (`queueArn`, `arn`) is of that account, and at once when an answer already told the instance's
   * account and it is another.
   */
  readResource(kind: "queue" | "user", ref: ResourceRef): Promise<ResourceModel>;
  /** The accounts of the instances answers came from, which ARN-named reads are held to. */
  readonly accounts: InstanceAccounts;
  /** GetContactAttributes, one call per chain (keyed by its initial contact) per request. */
  readonly contactAttributes: DataLoader<ContactRef, Record<string, string>, string>;
  /** ListContactReferences, every page, once per (contact, reference types) per request. */
  readonly contactReferences: DataLoader<ReferencesRequest, ReferenceSummary[], string>;
  /** SearchContacts pages, once per distinct request (aliases of one search share it). */
  readonly search: DataLoader<SearchPageRequest, SearchContactsResponse, string>;
}

export function createLoaders(fetchContact: FetchContact, options: LoaderOptions = {}): Loaders {
  return new RequestLoaders(fetchContact, options);
}

/**
 * One request's loaders. The contact loader is made with them (every operation reads contacts); the
 * others on first use, as most operations never read a queue, a user, attributes, references or a
 * search, and a DataLoader costs a few allocations per request. A class with getters on its
 * prototype, not an object literal with getters (see `DescribedRead`).
 */
class RequestLoaders implements Loaders {
  readonly contact: DataLoader<ContactRef, ContactModel, string>;
  readonly accounts: InstanceAccounts;
  readonly #fetchOptions: FetchOptions | undefined;
  readonly #related: RelatedFetch;
  readonly #beforeRead: (read: UpstreamRead) => void;
  readonly #concurrency: number;
  readonly #cachedContact: CachedContact | undefined;
  /** Contacts `readContact` served from the cache as values, by key. */
  readonly #read = new Map<string, ContactModel>();
  /** What the contact loader loaded or was primed with, by key. */
  readonly #loaded = new Map<string, Promise<ContactModel>>();
  /** Contacts `readContact` announced and left to the batch, which must not announce them again. */
  readonly #announced = new Set<string>();
  #queue: DataLoader<ResourceRef, ResourceModel, string> | undefined;
  #user: DataLoader<ResourceRef, ResourceModel, string> | undefined;
  #contactAttributes: DataLoader<ContactRef, Record<string, string>, string> | undefined;
  #contactReferences: DataLoader<ReferencesRequest, ReferenceSummary[], string> | undefined;
  #search: DataLoader<SearchPageRequest, SearchContactsResponse, string> | undefined;

  constructor(fetchContact: FetchContact, options: LoaderOptions) {
    const concurrency = (this.#concurrency = options.concurrency ?? 10);
    const fetchOptions = (this.#fetchOptions = options.fetchOptions);
    const beforeRead = (this.#beforeRead = options.beforeRead ?? (() => {}));
    this.#related = options.related ?? unconfigured;
    this.#cachedContact = options.cachedContact;
    const accounts = (this.accounts = options.accounts ?? new InstanceAccounts());
    const onBatch = options.onBatch;
    const announced = this.#announced;
    this.contact = new DataLoader<ContactRef, ContactModel, string>(
      (refs) => {
        onBatch?.(refs.length);
        const limit = limiter(refs.length, concurrency);
        return Promise.all(
          refs.map((ref) =>
            readInSlot(
              limit,
              () => {
                // `readContact` announced it already, when a resolver asked for it.
                if (!announced.delete(contactKey(ref))) beforeRead(contactRead(ref));
              },
              async () => {
                const model = modelOf(await fetchContact(ref, fetchOptions), ref);
                // Every answer tells its instance's account, which ARN-named reads are then held to.
                accounts.check(ref, model.arn, noName);
                return model;
              },
              () => describeRef(ref),
            ),
          ),
        );
      },
      { cacheKeyFn: contactKey, cacheMap: contactMemo(this.#read, this.#loaded) },
    );
  }

  readContact(ref: ContactRef): ContactModel | Promise<ContactModel> {
    const { accountId } = ref;
    if (accountId === undefined) return this.#readContact(ref);
    // Read by its key alone, then held to the account: the ref without it is what is loaded and kept.
    const place: ContactRef = { region: ref.region, instanceId: ref.instanceId, contactId: ref.contactId };
    const named = { region: ref.region, instanceId: ref.instanceId, accountId };
    const describe = () => describeRef(place);
    const refused = this.accounts.refuse(named, describe);
    if (refused) return Promise.reject(refused);
    const read = this.#readContact(place);
    const inAccount = (model: ContactModel) => {
      const wrong = this.accounts.check(named, model.arn, describe);
      if (wrong) throw wrong;
      return model;
    };
    if (read instanceof Promise) return read.then(inAccount);
    const wrong = this.accounts.check(named, read.arn, describe);
    return wrong ? Promise.reject(wrong) : read;
  }

  readResource(kind: "queue" | "user", ref: ResourceRef): Promise<ResourceModel> {
    const loader = kind === "queue" ? this.queue : this.user;
    const { accountId } = ref;
    if (accountId === undefined) return loader.load(ref);
    const place: ResourceRef = { region: ref.region, instanceId: ref.instanceId, id: ref.id };
    const named = { region: ref.region, instanceId: ref.instanceId, accountId };
    const describe = () => describeResource(kind === "queue" ? "Queue" : "User")(place);
    const refused = this.accounts.refuse(named, describe);
    if (refused) return Promise.reject(refused);
    return loader.load(place).then((model) => {
      const wrong = this.accounts.check(named, kind === "queue" ? model.queueArn : model.arn, describe);
      if (wrong) throw wrong;
      return model;
    });
  }

  // Private: `readContact` of a ref without an account.
  #readContact(ref: ContactRef): ContactModel | Promise<ContactModel> {
    const key = contactKey(ref);
    if (this.#read.has(key) || this.#loaded.has(key)) return this.contact.load(ref);
    // Charged once and refused with the same coded error as in a batch; a refused contact is
    // remembered refused, and the cache is not asked for it.
    try {
      this.#beforeRead(contactRead(ref));
    } catch (error) {
      this.contact.prime(ref, toUpstreamGraphQLError(error, describeRef(ref)));
      return this.contact.load(ref);
    }
    const cached = this.#cachedContact?.(ref, this.#fetchOptions);
    if (cached === undefined) {
      this.#announced.add(key);
      return this.contact.load(ref);
    }
    const model = modelOf(cached, ref);
    this.#read.set(key, model);
    return model;
  }

  get queue(): DataLoader<ResourceRef, ResourceModel, string> {
    return (this.#queue ??= this.#each(resourceKey, (ref) => this.#related.describeQueue(ref, this.#fetchOptions), describeResource("Queue"), (ref) => ({ api: "DescribeQueue", ...placeOf(ref) })));
  }

  get user(): DataLoader<ResourceRef, ResourceModel, string> {
    return (this.#user ??= this.#each(resourceKey, (ref) => this.#related.describeUser(ref, this.#fetchOptions), describeResource("User"), (ref) => ({ api: "DescribeUser", ...placeOf(ref) })));
  }

  get contactAttributes(): DataLoader<ContactRef, Record<string, string>, string> {
    return (this.#contactAttributes ??= this.#each(
      contactKey,
      (ref) => this.#related.getContactAttributes(ref, this.#fetchOptions),
      (ref) => `The attributes of ${describeRef(ref)}`,
      (ref) => ({ api: "GetContactAttributes", ...placeOf(ref) }),
    ));
  }

  get contactReferences(): DataLoader<ReferencesRequest, ReferenceSummary[], string> {
    // Every page is a read of its own, announced by `allReferences` before it goes out.
    return (this.#contactReferences ??= this.#each(
      (r) => `${contactKey(r.ref)}|${r.types.join(",")}`,
      (r) =>
        allReferences(this.#related, r, this.#fetchOptions, (page) =>
          this.#beforeRead({ api: "ListContactReferences", ...placeOf(r.ref), resource: `Page ${page} of the references of ${describeRef(r.ref)}` }),
        ),
      (r) => `The references of ${describeRef(r.ref)}`,
    ));
  }

  get search(): DataLoader<SearchPageRequest, SearchContactsResponse, string> {
    return (this.#search ??= this.#each(
      (r) => `${r.region}|${JSON.stringify(r.input)}`,
      (r) => this.#related.searchContacts(r, this.#fetchOptions),
      (r) => `The contact search in instance ${r.input.InstanceId} (${r.region})`,
      (r) => ({ api: "SearchContacts", region: r.region, instanceId: r.input.InstanceId ?? "" }),
    ));
  }

  // Private: a loader whose batch reads each key on its own (Connect has no batch reads), at most
  // `concurrency` at a time, one result or one coded error per key. With `readOf`, each key is one
  // read, announced to `beforeRead` before it takes a slot (so a refused read waits for nothing);
  // without, `read` announces its own reads (one per page).
  #each<K, V>(
    cacheKeyFn: (key: K) => string,
    read: (key: K) => Promise<V>,
    describe: (key: K) => string,
    readOf?: (key: K) => Omit<UpstreamRead, "resource">,
  ): DataLoader<K, V, string> {
    const beforeRead = this.#beforeRead;
    const concurrency = this.#concurrency;
    return new DataLoader<K, V, string>(
      (keys) => {
        const limit = limiter(keys.length, concurrency);
        return Promise.all(keys.map((key) => readInSlot(limit, () => readOf && beforeRead(new DescribedRead(readOf(key), () => describe(key))), () => read(key), () => describe(key))));
      },
      { cacheKeyFn },
    );
  }
}

// Private: the read a contact load announces.
const contactRead = (ref: ContactRef): UpstreamRead => new DescribedRead({ api: "DescribeContact", region: ref.region, instanceId: ref.instanceId }, () => describeRef(ref));

/**
 * An `UpstreamRead` naming its resource (for people, in errors only) when something reads it: every
 * load announces its read, and naming the resource eagerly cost ~1% of a cached query. A class, not
 * an object literal with a getter: V8 allocates the accessor pair of every evaluation of such a
 * literal in old space, where, dead or not, it keeps the getter's closure and all it reaches (the
 * load, its request) alive through every young-generation collection until a full one
 * (bench/README.md, finding 12).
 */
class DescribedRead implements UpstreamRead {
  readonly api: UpstreamApi;
  readonly region: string;
  readonly instanceId: string;
  readonly #describe: () => string;

  constructor(read: Omit<UpstreamRead, "resource">, describe: () => string) {
    this.api = read.api;
    this.region = read.region;
    this.instanceId = read.instanceId;
    this.#describe = describe;
  }

  get resource(): string {
    return this.#describe();
  }
}

// Private: what `InstanceAccounts.check` names when it only learns (a ref without an account is never refused).
const noName = () => "";

// Private: how errors and reads name a queue or a user.
const describeResource = (kind: "Queue" | "User") => (ref: ResourceRef) => `${kind} ${ref.id} in instance ${ref.instanceId} (${ref.region})`;

// Private: where a read goes (its region and instance).
const placeOf = (ref: { readonly region: string; readonly instanceId: string }) => ({ region: ref.region, instanceId: ref.instanceId });

// Private: one key's result or coded error, so one failing key never fails the others (the field
// it lands on becomes null). `announce` may refuse the read before it takes a slot.
function readInSlot<T>(limit: Limit, announce: () => void, read: () => Promise<T>, resource: () => string): Promise<T | GraphQLError> {
  try {
    announce();
  } catch (error) {
    return Promise.resolve(toUpstreamGraphQLError(error, resource()));
  }
  return limit(async () => read()).catch((error: unknown) => toUpstreamGraphQLError(error, resource()));
}

/** Pages of ListContactReferences one group of types may take (Connect documents a single page). */
const MAX_REFERENCE_PAGES = 20;

// Private: every page of a contact's references, in order: Connect takes at most six types a call,
// so the types are read in groups (`referenceTypeGroups`), one after the other, each group's pages
// in order; a group stops on a repeated or missing token. `beforePage` is told of each page (1, 2,
// …, counted across the groups) before it is read, and may throw to refuse it.
async function allReferences(
  related: RelatedFetch,
  { ref, types }: ReferencesRequest,
  options: FetchOptions | undefined,
  beforePage: (page: number) => void,
): Promise<ReferenceSummary[]> {
  const references: ReferenceSummary[] = [];
  let pages = 0;
  for (const group of referenceTypeGroups(types)) {
    const seen = new Set<string>();
    let token: string | undefined;
    for (let page = 0; page < MAX_REFERENCE_PAGES; page++) {
      beforePage(++pages);
      const result = await related.listContactReferences(ref, group, token, options);
      references.push(...result.references);
      if (!result.nextToken || seen.has(result.nextToken)) break;
      seen.add(result.nextToken);
      token = result.nextToken;
    }
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

// Private: a batch no larger than `concurrency` runs at once, without a queue (a throw still becomes
// a rejection, as with p-limit).
type Limit = <T>(run: () => Promise<T>) => Promise<T>;
function limiter(size: number, concurrency: number): Limit {
  return size > concurrency ? pLimit(concurrency) : async (run) => run();
}

// Private: the model resolvers read. The contact source's cache holds each contact as the
// resolvers' model (`createContactSource`), made once per answer and shared by every request while it
// lives: a cached contact costs no copy per request (bench/README.md). A fetcher without that cache
// (a test's) may hand back the answer itself, which is shaped here. Models are never mutated.
function modelOf(contact: ContactModel, ref: ContactRef): ContactModel {
  return contact.$ref ? contact : toContactModel(contact, ref);
}

/**
 * The contact loader's memo (DataLoader's `cacheMap`) over both of a request's records: what it
 * loaded or was primed with (`loaded`), and what `readContact` served as values (`read`), which it
 * sees as loaded, wrapped in a resolved promise only when a `load` asks for one: most contacts of a
 * cached query are only ever read as values, and a promise per contact was a cost for nothing.
 */
function contactMemo(read: Map<string, ContactModel>, loaded: Map<string, Promise<ContactModel>>): DataLoader.CacheMap<string, Promise<ContactModel>> {
  return {
    get(key) {
      const promise = loaded.get(key);
      if (promise !== undefined) return promise;
      const value = read.get(key);
      if (value === undefined) return undefined;
      const resolved = Promise.resolve(value);
      loaded.set(key, resolved);
      return resolved;
    },
    set(key, promise) {
      loaded.set(key, promise);
    },
    delete(key) {
      read.delete(key);
      loaded.delete(key);
    },
    clear() {
      read.clear();
      loaded.clear();
    },
  };
}
