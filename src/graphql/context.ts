import type { ContactModel, ContactRef, Regions } from "../domain/contactRef.js";
import type { Principal } from "../domain/principal.js";
import type { ContactEventHub } from "../events/contactEventHub.js";
import type { CachedContact, FetchContact, RelatedFetch } from "../upstream/fetchContact.js";
import { createOperationScope, type OperationScope } from "../upstream/operationScope.js";
import { quotaShareOf } from "../upstream/quotaShare.js";
import type { InstanceAccounts } from "./instanceAccounts.js";
import { createLoaders, type Loaders } from "./loaders.js";
import type { Redaction } from "./redaction.js";
import { recordReads, type ResponseEntities } from "./responseEntities.js";
import { upstreamGuard } from "./upstreamBudget.js";

/**
 * What every resolver gets for one GraphQL request. Made fresh per request by `createContext`, so
 * the loaders' memoization never outlives the request.
 */
export interface GatewayContext {
  readonly loaders: Loaders;
  /**
   * The region of ids given without an ARN (`AWS_REGION`, or the emulator's), and the regions an
   * ARN may name (`CONNECT_REGIONS`).
   */
  readonly regions: Regions;
  /**
   * Correlates the operation's log lines (a `requestId` field in each); taken from `x-request-id` or
   * generated. The context carries no logger of its own: a child logger per request cost more than
   * the one line most operations write (the operation log, which writes the id itself).
   */
  readonly requestId: string;
  /** The caller: its scopes and readable instances (`FULL_ACCESS` when `AUTH_MODE=none`). */
  readonly auth: Principal;
  /** Which personal fields this operation masked (for `extensions.redacted`). */
  readonly redaction: Redaction;
  /** Most ids one `contacts(contactIds:)` field may name (`MAX_CONTACT_IDS`). */
  readonly maxContactIds: number;
  /** Most transfers `Contact.transferChain` follows back (`MAX_CONTACT_HOPS`). */
  readonly maxContactHops: number;
  /** What this request cost upstream (its log line's `upstreamCalls`); the loaders pass it down with every read. */
  readonly operationScope: OperationScope;
  /** Live contact events: set for subscriptions (WebSocket, SSE) when events are configured. */
  readonly live?: LiveContext | undefined;
  /**
   * What the operation read: for the response cache (set for HTTP requests it may store), and for
   * no-cache requests, whose re-reads every replica hears of (`NoCacheRereads`).
   */
  readonly entities?: ResponseEntities | undefined;
}

/** What a subscription needs besides a query's context. */
export interface LiveContext {
  /** This replica's subscribers (`undefined`: no events queue is configured). */
  readonly hub: ContactEventHub | undefined;
  /** Called when a subscription of this connection is cut off for falling behind (closes the connection). */
  readonly onOverflow: (error: Error) => void;
}

/** What stays the same for every request of one gateway. */
export interface ContextSources {
  /** How the contact loader reads: the contact source (cache, limiter, SDK). */
  readonly fetchContact: FetchContact;
  /** A contact the contact source holds fresh, at once (`ContactSource.cachedContact`); unset: every read is a load. */
  readonly cachedContact?: CachedContact | undefined;
  /** How the queue, user, attribute, reference and search loaders read. */
  readonly related: RelatedFetch;
  readonly regions: Regions;
  /** Upstream calls one loader batch keeps in flight at once (`CONNECT_MAX_CONCURRENCY`). */
  readonly concurrency: number;
  readonly maxContactIds: number;
  readonly maxContactHops: number;
  /** Most upstream reads one operation may make, every Connect API and cache hits counted (`MAX_UPSTREAM_READS`). */
  readonly maxUpstreamReads: number;
  /** Observes each contact batch (metrics). */
  readonly onBatch?: ((size: number) => void) | undefined;
  /**
   * The account of each instance, as Connect's answers told it, which ARN-named reads are held to:
   * one for the gateway, so what one request learned spares the next a read. Unset: each request's own.
   */
  readonly accounts?: InstanceAccounts | undefined;
}

/** What differs per request. */
export interface RequestFacts {
  readonly requestId: string;
  readonly auth: Principal;
  /** The request asked to skip cached answers (`Cache-Control: no-cache`). */
  readonly noCache: boolean;
  /** For subscriptions: where events come from, and what to do with a subscriber that falls behind. */
  readonly live?: LiveContext | undefined;
  /** Records every contact, queue and user the operation reads (the response cache's, or a no-cache request's). */
  readonly entities?: ResponseEntities | undefined;
}

/** A contact the request already has (read once for a contact event): its loader serves it without a read. */
export interface PrimedContact {
  readonly ref: ContactRef;
  readonly contact: ContactModel;
}

/**
 * The context of one GraphQL request: fresh loaders (so nothing is memoized across requests) whose
 * every upstream read is first checked against the caller's instances and the operation's upstream
 * budget, an operation scope counting what the request cost upstream, and an empty redaction record.
 * A subscription makes one per event, `primed` with the contact read for that event, so its
 * `contact` field costs no read however many subscribers select it, and nothing is memoized from
 * one event to the next.
 */
export function createContext(sources: ContextSources, request: RequestFacts, primed?: PrimedContact): GatewayContext {
  // Every upstream read of the request is made for the caller's quota share (its hashed subject).
  const operationScope = createOperationScope(quotaShareOf(request.auth));
  const { fetchContact, cachedContact, related } = request.entities ? recordReads(sources, request.entities) : sources;
  const loaders = createLoaders(fetchContact, {
    cachedContact,
    related,
    fetchOptions: { noCache: request.noCache, operation: operationScope },
    concurrency: sources.concurrency,
    onBatch: sources.onBatch,
    accounts: sources.accounts,
    beforeRead: upstreamGuard(request.auth, sources.maxUpstreamReads),
  });
  if (primed) loaders.contact.prime(primed.ref, primed.contact);
  return {
    loaders,
    regions: sources.regions,
    requestId: request.requestId,
    auth: request.auth,
    redaction: { masked: new Set<string>() },
    maxContactIds: sources.maxContactIds,
    maxContactHops: sources.maxContactHops,
    operationScope,
    live: request.live,
    entities: request.entities,
  };
}
