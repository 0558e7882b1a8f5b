import type { Logger } from "pino";
import type { Principal } from "../domain/principal.js";
import type { FetchContact, RelatedFetch } from "../upstream/fetchContact.js";
import { createOperationScope, type OperationScope } from "../upstream/operationScope.js";
import { createLoaders, type Loaders } from "./loaders.js";
import type { Redaction } from "./redaction.js";
import { upstreamGuard } from "./upstreamBudget.js";

/**
 * What every resolver gets for one GraphQL request. Made fresh per request by `createContext`, so
 * the loaders' memoization never outlives the request.
 */
export interface GatewayContext {
  readonly loaders: Loaders;
  /** The region of ids given without an ARN (`AWS_REGION`, or the emulator's). */
  readonly defaultRegion: string;
  /** Correlates the operation's log lines; taken from `x-request-id` or generated. */
  readonly requestId: string;
  readonly logger: Logger;
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
}

/** What stays the same for every request of one gateway. */
export interface ContextSources {
  /** How the contact loader reads: the contact source (cache, limiter, SDK). */
  readonly fetchContact: FetchContact;
  /** How the queue, user, attribute, reference and search loaders read. */
  readonly related: RelatedFetch;
  readonly defaultRegion: string;
  /** Upstream calls one loader batch keeps in flight at once (`CONNECT_MAX_CONCURRENCY`). */
  readonly concurrency: number;
  readonly maxContactIds: number;
  readonly maxContactHops: number;
  /** Most distinct contacts one operation may read (`MAX_UPSTREAM_CALLS`). */
  readonly maxUpstreamCalls: number;
  /** Observes each contact batch (metrics). */
  readonly onBatch?: ((size: number) => void) | undefined;
}

/** What differs per request. */
export interface RequestFacts {
  readonly requestId: string;
  readonly logger: Logger;
  readonly auth: Principal;
  /** The request asked to skip cached answers (`Cache-Control: no-cache`). */
  readonly noCache: boolean;
}

/**
 * The context of one GraphQL request: fresh loaders (so nothing is memoized across requests) whose
 * every contact read is first checked against the caller's instances and the operation's upstream
 * budget, an operation scope counting what the request cost upstream, and an empty redaction record.
 */
export function createContext(sources: ContextSources, request: RequestFacts): GatewayContext {
  const operationScope = createOperationScope();
  return {
    loaders: createLoaders(sources.fetchContact, {
      related: sources.related,
      fetchOptions: { noCache: request.noCache, operation: operationScope },
      concurrency: sources.concurrency,
      onBatch: sources.onBatch,
      beforeFetch: upstreamGuard(request.auth, sources.maxUpstreamCalls),
    }),
    defaultRegion: sources.defaultRegion,
    requestId: request.requestId,
    logger: request.logger,
    auth: request.auth,
    redaction: { masked: new Set<string>() },
    maxContactIds: sources.maxContactIds,
    maxContactHops: sources.maxContactHops,
    operationScope,
  };
}
