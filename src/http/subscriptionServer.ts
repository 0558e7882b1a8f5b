import { randomUUID } from "node:crypto";
import {
  getOperationAST,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
  type ParseOptions,
  type ValidationRule,
} from "graphql";
import { LRUCache } from "lru-cache";
import type { Logger } from "pino";
import { ErrorCode } from "../domain/errors.js";
import { accessKey, type Principal } from "../domain/principal.js";
import type { ContactEventDelivery, ContactEventHub } from "../events/contactEventHub.js";
import { createContext, type ContextSources, type GatewayContext, type RequestFacts } from "../graphql/context.js";
import { SharedExecutions } from "../graphql/sharedExecutions.js";
import { subscribePerEvent } from "../graphql/subscribePerEvent.js";
import type { GatewayMetrics } from "../observability/metrics.js";
import { TrustedDocumentError, type TrustedDocuments } from "./trustedDocuments.js";

export interface SubscriptionServerOptions {
  schema: GraphQLSchema;
  /** The query limits' rules (`createQueryLimits`): subscription documents pass the same limits. */
  validationRules: readonly ValidationRule[];
  parseOptions: ParseOptions;
  /** Masks field suggestions in validation errors when introspection is off (`QueryLimits.maskSuggestions`). Default: none masked. */
  maskSuggestions?: ((message: string) => string) | undefined;
  sources: ContextSources;
  /** This replica's subscribers; `undefined` when no events queue is configured. */
  hub: ContactEventHub | undefined;
  metrics: GatewayMetrics;
  /** Where each subscription's line goes when it ends (`subscribe`). */
  logger: Logger;
  /** Most subscriptions one WebSocket connection may hold (`SUBSCRIPTIONS_PER_CONNECTION`). */
  maxSubscriptionsPerConnection: number;
  /** Most open connections (WebSocket or SSE) per principal (`SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL`). */
  maxConnectionsPerPrincipal: number;
  /** Trusted documents (`TRUSTED_DOCUMENTS_FILE`): only their subscriptions run. Default: any document. */
  trustedDocuments?: TrustedDocuments | undefined;
  /**
   * Runs one event's execution (the event as `rootValue`): the gateway's graphql-jit executor for
   * subscriptions (`GRAPHQL_JIT`). Default graphql-js's `execute`.
   */
  executeEvent?: ((args: ExecutionArgs) => Promise<ExecutionResult>) | undefined;
}

/**
 * Distinct subscription documents kept parsed and validated, and the memory they may be charged:
 * 64 bytes per character of text, what a text and its syntax tree held on V8's heap (measured: 61–68
 * for documents of 200 to 4,000 characters), so clients sending many distinct documents cannot
 * grow it past `maxSize`. Each document's compiled operation (graphql-jit) goes with it, or with the
 * last open subscription of it.
 */
const DOCUMENTS = { max: 1000, maxSize: 32 * 1024 * 1024, bytesPerCharacter: 64 };

/** One operation sent to a subscription endpoint, as graphql-ws and graphql-sse hand it over. */
export interface OperationParams {
  readonly query?: unknown;
  readonly variables?: unknown;
  readonly operationName?: unknown;
  /** A persisted document's id: graphql-ws passes it on from the subscribe payload; graphql-sse drops it. */
  readonly documentId?: unknown;
  /** Apollo's persisted-query extension (`persistedQuery.sha256Hash`) names a trusted document too. */
  readonly extensions?: unknown;
}

/**
 * What both subscription transports (WebSocket, SSE) share, so they behave alike: documents parsed
 * within `MAX_TOKENS` and validated with the same limits as queries, only subscriptions accepted
 * (queries and mutations go to `POST /graphql`, where the operation log, metrics and cache see them),
 * one context per subscription and one per event (shared by the subscriptions whose results for
 * it cannot differ: `SharedExecutions`), and the bounds on connections per principal.
 */
export class SubscriptionServer {
  private readonly connections = new Map<string, number>();
  private readonly rules: readonly ValidationRule[];
  private readonly executions = new SharedExecutions();
  /** A number per parsed document, for share keys (which so do not hold each subscription's copy of the text). */
  private readonly documentIds = new WeakMap<DocumentNode, number>();
  private documentCount = 0;
  /**
   * Each document text, parsed and validated once (or its errors): the schema and rules never change,
   * so a wallboard's thousand subscribers parse one document, and the executor compiles it once.
   */
  private readonly documents = new LRUCache<string, DocumentNode | GraphQLError[]>({
    max: DOCUMENTS.max,
    maxSize: DOCUMENTS.maxSize,
    sizeCalculation: (_document, source) => Math.max(1, source.length * DOCUMENTS.bytesPerCharacter),
  });
  /** Each prepared subscription's share key, by its context (the transports hand `subscribe` the prepared arguments). */
  private readonly shareKeys = new WeakMap<GatewayContext, string>();

  constructor(private readonly options: SubscriptionServerOptions) {
    this.rules = [...specifiedRules, ...options.validationRules];
  }

  /**
   * Parses and validates `params` for `principal`: the execution arguments, or the errors to send
   * (nothing has run and nothing went upstream). `onOverflow` disconnects the subscriber's
   * connection when it falls behind.
   */
  prepare(params: OperationParams, principal: Principal, onOverflow: (error: Error) => void): (ExecutionArgs & { contextValue: GatewayContext }) | GraphQLError[] {
    // With trusted documents, the document comes from the manifest (before anything is parsed).
    const trusted = this.options.trustedDocuments?.resolve(params);
    if (trusted instanceof TrustedDocumentError) return [trusted];
    const source = trusted ?? params.query;
    if (typeof source !== "string" || source.length === 0) return [badRequest("Send the subscription as `query`.")];
    const document = this.documentOf(source);
    if (Array.isArray(document)) return document;
    const operationName = typeof params.operationName === "string" ? params.operationName : undefined;
    const operation = getOperationAST(document, operationName);
    if (!operation) return [badRequest("The document names no operation to run (check `operationName`).")];
    if (operation.operation !== "subscription") {
      return [badRequest(`This endpoint serves subscriptions; send ${operation.operation} operations to POST /graphql.`)];
    }
    const variables = params.variables;
    if (variables !== undefined && variables !== null && (typeof variables !== "object" || Array.isArray(variables))) {
      return [badRequest("`variables` must be an object.")];
    }
    const requestId = randomUUID();
    const facts: RequestFacts = {
      requestId,
      auth: principal,
      noCache: false,
      live: { hub: this.options.hub, onOverflow },
    };
    const contextValue = createContext(this.options.sources, facts);
    // What its results depend on, newline-separated: the access (JSON), the operation name (a GraphQL
    // name), the variables (JSON: no raw newline), then the document (its text, by the number it was
    // parsed under: a text parsed again after the cache dropped it shares with its new subscribers only).
    this.shareKeys.set(contextValue, `${accessKey(principal)}\n${operationName ?? ""}\n${JSON.stringify(variables ?? null)}\n${this.documentIds.get(document)}`);
    return {
      schema: this.options.schema,
      document,
      operationName,
      variableValues: (variables ?? undefined) as Record<string, unknown> | undefined,
      contextValue,
    };
  }

  // Private: the source's document (parsed once per text while the cache holds it), or the errors to send.
  private documentOf(source: string): DocumentNode | GraphQLError[] {
    const cached = this.documents.get(source);
    if (cached !== undefined) return cached;
    const document = this.parseAndValidate(source);
    this.documents.set(source, document);
    return document;
  }

  // Private: the source parsed within the token limit and validated with the limits, or the errors to send.
  private parseAndValidate(source: string): DocumentNode | GraphQLError[] {
    let document: DocumentNode;
    try {
      document = parse(source, this.options.parseOptions);
    } catch (error) {
      return [parseError(error)];
    }
    // Outside the `try`: a rule that throws is a defect, for the transport to report as one.
    const errors = validate(this.options.schema, document, this.rules);
    if (errors.length > 0) return errors.map((error) => limitCode(error, this.options.maskSuggestions));
    this.documentIds.set(document, ++this.documentCount);
    return document;
  }

  /**
   * Runs a prepared subscription: each event executes with a context of its own
   * (`subscribePerEvent`), once for all the subscriptions prepared with the same share key.
   */
  subscribe(args: ExecutionArgs & { contextValue: GatewayContext }): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const base = args.contextValue;
    const facts: RequestFacts = { requestId: base.requestId, auth: base.auth, noCache: false };
    const key = this.shareKeys.get(base);
    const { metrics, logger } = this.options;
    const started = process.hrtime.bigint();
    const operationName = args.operationName ?? getOperationAST(args.document)?.name?.value ?? null;
    return subscribePerEvent<ContactEventDelivery>(args, {
      contextFor: (delivery) => createContext(this.options.sources, facts, delivery.contact ? { ref: delivery.event.ref, contact: delivery.contact } : undefined),
      execute: this.options.executeEvent,
      share: key === undefined ? undefined : { executions: this.executions, key, onResult: (shared) => metrics.observeSubscriptionResult(shared ? "shared" : "executed") },
      // One line per subscription, when it ends, shaped like the operation log's (ids, counts and
      // codes; nothing of the document, its variables or the results).
      onEnd: ({ results, errorCode }) =>
        logger.info(
          {
            requestId: base.requestId,
            operationName: operationName?.slice(0, 100) ?? null,
            operationType: "subscription",
            durationMs: Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10,
            results,
            outcome: errorCode === undefined ? "ok" : "error",
            ...(errorCode !== undefined && { errorCodes: [errorCode] }),
          },
          "subscription",
        ),
    });
  }

  /**
   * Counts a new connection of `principal` (from `address` when it has no subject): `false` when it
   * already holds `maxConnectionsPerPrincipal`. Pair every `true` with `disconnect`.
   */
  connect(principal: Principal, address: string): string | undefined {
    const key = principal.subject !== undefined ? `sub:${principal.subject}` : `ip:${address}`;
    const open = this.connections.get(key) ?? 0;
    if (open >= this.options.maxConnectionsPerPrincipal) return undefined;
    this.connections.set(key, open + 1);
    return key;
  }

  disconnect(key: string): void {
    const open = (this.connections.get(key) ?? 1) - 1;
    if (open <= 0) this.connections.delete(key);
    else this.connections.set(key, open);
  }

  /** Most subscriptions one WebSocket connection may hold. */
  get maxSubscriptionsPerConnection(): number {
    return this.options.maxSubscriptionsPerConnection;
  }

  /** The error sent when a principal opens one connection too many. */
  tooManyConnections(): GraphQLError {
    return new GraphQLError(
      `Too many open subscription connections for this caller (at most ${this.options.maxConnectionsPerPrincipal}, SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL).`,
      { extensions: { code: ErrorCode.SUBSCRIPTION_LIMIT_EXCEEDED, limit: "SUBSCRIPTION_CONNECTIONS_PER_PRINCIPAL" } },
    );
  }
}

function badRequest(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.BAD_REQUEST } });
}

// Private: the parser's token limit is a limit error, like on POST /graphql.
function parseError(error: unknown): GraphQLError {
  const message = error instanceof Error ? error.message : "Syntax error.";
  if (/contains more tha[nt] \d+ tokens/.test(message)) {
    return new GraphQLError(message.replace(/^Syntax Error: /, ""), { extensions: { code: ErrorCode.QUERY_LIMIT_EXCEEDED, limit: "MAX_TOKENS" } });
  }
  return new GraphQLError(message, { extensions: { code: "GRAPHQL_PARSE_FAILED" } });
}

// Private: validation errors keep graphql-js's message (field suggestions masked as on POST /graphql); the limits' own errors keep their code.
function limitCode(error: GraphQLError, maskSuggestions: ((message: string) => string) | undefined): GraphQLError {
  if (typeof error.extensions.code === "string") return error;
  const message = maskSuggestions ? maskSuggestions(error.message) : error.message;
  return new GraphQLError(message, { nodes: error.nodes, extensions: { ...error.extensions, code: "GRAPHQL_VALIDATION_FAILED" } });
}
