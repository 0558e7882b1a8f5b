import {
  execute as graphqlJsExecute,
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
import { maskResultErrors } from "../graphql/formatError.js";
import { SharedExecutions } from "../graphql/sharedExecutions.js";
import { subscribePerEvent } from "../graphql/subscribePerEvent.js";
import type { GatewayMetrics } from "../observability/metrics.js";
import { SubscriptionLog, type RefusedOperation, type SubscriptionOrigin } from "./subscriptionLog.js";
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
  /** Where each subscription's line goes when it ends or is refused (`SubscriptionLog`). */
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
/**
 * How long a subscriber cut off for falling behind (SUBSCRIBER_TOO_SLOW) may take to read its last
 * result before its connection is closed, ms: one policy for both transports.
 */
export const CUT_OFF_GRACE_MS = 1000;

const DOCUMENTS = { max: 1000, maxSize: 32 * 1024 * 1024, bytesPerCharacter: 64 };

/** Who asks for a subscription, as its transport knows them. */
export interface Subscriber extends SubscriptionOrigin {
  readonly principal: Principal;
  /** Disconnects the subscriber's connection when it falls behind. */
  readonly onOverflow: (error: Error) => void;
}

/** A document text that cannot run: its errors, and the document if it parsed (its operations name the refusal). */
interface InvalidDocument {
  readonly errors: GraphQLError[];
  readonly parsed: DocumentNode | null;
}

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
 * it cannot differ: `SharedExecutions`), the bounds on connections per principal, and one log line
 * per subscription when it ends or is refused (`SubscriptionLog`; a refusal is counted as an
 * operation with outcome `error` too, wherever it is decided: `refuse` for the transports' own).
 */
export class SubscriptionServer {
  private readonly connections = new Map<string, number>();
  private readonly rules: readonly ValidationRule[];
  private readonly executions = new SharedExecutions();
  /** A number per parsed document, for share keys (which so do not hold each subscription's copy of the text). */
  private readonly documentIds = new WeakMap<DocumentNode, number>();
  private documentCount = 0;
  /** Subscriptions given a share key of their own (`variablesKey`). */
  private unshared = 0;
  /**
   * Each document text, parsed and validated once (or its errors): the schema and rules never change,
   * so a wallboard's thousand subscribers parse one document, and the executor compiles it once.
   */
  private readonly documents = new LRUCache<string, DocumentNode | InvalidDocument>({
    max: DOCUMENTS.max,
    maxSize: DOCUMENTS.maxSize,
    sizeCalculation: (_document, source) => Math.max(1, source.length * DOCUMENTS.bytesPerCharacter),
  });
  /** Each prepared subscription's share key and origin, by its context (the transports hand `subscribe` the prepared arguments). */
  private readonly prepared = new WeakMap<GatewayContext, { readonly key: string; readonly origin: SubscriptionOrigin }>();
  private readonly log: SubscriptionLog;
  /** Errors coded and masked as on `POST /graphql` (`maskResultErrors`). */
  private readonly format: (result: ExecutionResult) => ExecutionResult;
  /** Each event's execution, its errors formatted once per execution (a shared result included). */
  private readonly executeEvent: (args: ExecutionArgs) => Promise<ExecutionResult> | ExecutionResult;

  constructor(private readonly options: SubscriptionServerOptions) {
    this.rules = [...specifiedRules, ...options.validationRules];
    this.log = new SubscriptionLog(options.logger, options.metrics, options.trustedDocuments !== undefined);
    this.format = maskResultErrors(options.logger);
    const execute = options.executeEvent ?? graphqlJsExecute;
    this.executeEvent = (args) => {
      const result = execute(args);
      return result instanceof Promise ? result.then(this.format) : this.format(result);
    };
  }

  /**
   * Parses and validates `params` for `subscriber`: the execution arguments, or the errors to send
   * (nothing has run and nothing went upstream; the refusal is logged and counted).
   */
  prepare(params: OperationParams, subscriber: Subscriber): (ExecutionArgs & { contextValue: GatewayContext }) | GraphQLError[] {
    const operationName = typeof params.operationName === "string" ? params.operationName : undefined;
    // Refused before an operation of the document is found (no document, a parse error, a name of
    // none of its operations): logged under the name sent, counted as `anonymous` (`RefusedOperation`).
    const refuse = (errors: GraphQLError[], named: RefusedOperation = { sent: operationName ?? null, label: null }) => this.log.refused(subscriber, named, errors);
    // With trusted documents, the document comes from the manifest (before anything is parsed).
    const trusted = this.options.trustedDocuments?.resolve(params);
    if (trusted instanceof TrustedDocumentError) return refuse([trusted]);
    const source = trusted ?? params.query;
    if (typeof source !== "string" || source.length === 0) return refuse([badRequest("Send the subscription as `query`.")]);
    const document = this.documentOf(source);
    if (!isDocument(document)) {
      // Parsed but invalid: counted under the operation it names (or its one operation), if it has one.
      const label = (document.parsed && getOperationAST(document.parsed, operationName)?.name?.value) ?? null;
      return refuse(document.errors, { sent: operationName ?? label, label });
    }
    const operation = getOperationAST(document, operationName);
    if (!operation) return refuse([badRequest("The document names no operation to run (check `operationName`).")]);
    // The operation's own name: the one sent, if any, named it.
    const name = operation.name?.value ?? null;
    const named = { sent: name, label: name };
    if (operation.operation !== "subscription") {
      return this.log.refused(subscriber, named, [badRequest(`This endpoint serves subscriptions; send ${operation.operation} operations to POST /graphql.`)], operation.operation);
    }
    const variables = params.variables;
    if (variables !== undefined && variables !== null && (typeof variables !== "object" || Array.isArray(variables))) {
      return refuse([badRequest("`variables` must be an object.")], named);
    }
    const principal = subscriber.principal;
    const facts: RequestFacts = {
      requestId: subscriber.requestId,
      auth: principal,
      noCache: false,
      live: { hub: this.options.hub, onOverflow: subscriber.onOverflow },
    };
    const contextValue = createContext(this.options.sources, facts);
    // What its results depend on, newline-separated: the access (JSON), the operation name (a GraphQL
    // name), the variables (JSON: no raw newline), then the document (its text, by the number it was
    // parsed under: a text parsed again after the cache dropped it shares with its new subscribers only).
    const key = `${accessKey(principal)}\n${operationName ?? ""}\n${this.variablesKey(variables)}\n${this.documentIds.get(document)}`;
    const { transport, requestId, started } = subscriber;
    this.prepared.set(contextValue, { key, origin: { transport, requestId, started } });
    return {
      schema: this.options.schema,
      document,
      operationName,
      variableValues: (variables ?? undefined) as Record<string, unknown> | undefined,
      contextValue,
    };
  }

  /**
   * Logs and counts a subscription the transport refused itself (a bound, an expired token), before
   * `prepare`: `params` is not parsed, so its line names the operation name the client sent, if any,
   * and it is counted as `anonymous` (no document says that name is one of its operations).
   * Returns `errors`, to send.
   */
  refuse(origin: SubscriptionOrigin, params: OperationParams, errors: GraphQLError[]): GraphQLError[] {
    return this.log.refused(origin, { sent: typeof params.operationName === "string" ? params.operationName : null, label: null }, errors);
  }

  /** Logs a WebSocket connection the transport refused (closed with `code`'s close code) before it asked for any subscription. */
  refuseConnection(origin: SubscriptionOrigin, code: string): void {
    this.log.refusedConnection(origin, code);
  }

  /**
   * The variables as sent, as JSON, for the share key. Variables nested too deep for
   * `JSON.stringify` (a few thousand levels, which a 10 KB body holds) throw RangeError there: such a
   * subscription gets a key of its own (a number no JSON text is) and shares with no one. It is not
   * refused, as POST /graphql does not refuse it: variables the operation does not declare are
   * ignored, and a declared one that deep does not fit its type (BAD_USER_INPUT when it subscribes).
   */
  private variablesKey(variables: unknown): string {
    try {
      return JSON.stringify(variables ?? null);
    } catch {
      return `#${++this.unshared}`;
    }
  }

  // Private: the source's document (parsed once per text while the cache holds it), or why it cannot run.
  private documentOf(source: string): DocumentNode | InvalidDocument {
    const cached = this.documents.get(source);
    if (cached !== undefined) return cached;
    const document = this.parseAndValidate(source);
    this.documents.set(source, document);
    return document;
  }

  // Private: the source parsed within the token limit and validated with the limits, or why it cannot run.
  private parseAndValidate(source: string): DocumentNode | InvalidDocument {
    let document: DocumentNode;
    try {
      document = parse(source, this.options.parseOptions);
    } catch (error) {
      return { errors: [parseError(error)], parsed: null };
    }
    // Outside the `try`: a rule that throws is a defect, for the transport to report as one.
    const errors = validate(this.options.schema, document, this.rules);
    if (errors.length > 0) {
      return { errors: errors.map((error) => limitCode(error, this.options.maskSuggestions)), parsed: document };
    }
    this.documentIds.set(document, ++this.documentCount);
    return document;
  }

  /**
   * Runs a prepared subscription: each event executes with a context of its own
   * (`subscribePerEvent`), once for all the subscriptions prepared with the same share key. One log
   * line when it ends; when its subscribe resolver refuses it (FORBIDDEN for an instance the caller
   * may not read, BAD_USER_INPUT, EVENTS_NOT_CONFIGURED, variables that do not fit), that refusal's
   * line instead, and its codes counted.
   */
  async subscribe(args: ExecutionArgs & { contextValue: GatewayContext }): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
    const base = args.contextValue;
    const facts: RequestFacts = { requestId: base.requestId, auth: base.auth, noCache: false };
    const prepared = this.prepared.get(base);
    if (!prepared) throw new Error("SubscriptionServer.subscribe takes the arguments `prepare` returned.");
    const origin = prepared.origin;
    const metrics = this.options.metrics;
    const started = process.hrtime.bigint();
    const operationName = args.operationName ?? getOperationAST(args.document)?.name?.value ?? null;
    const result = await subscribePerEvent<ContactEventDelivery>(args, {
      contextFor: (delivery) => createContext(this.options.sources, facts, delivery.contact ? { ref: delivery.event.ref, contact: delivery.contact } : undefined),
      execute: this.executeEvent,
      share: { executions: this.executions, key: prepared.key, onResult: (shared) => metrics.observeSubscriptionResult(shared ? "shared" : "executed") },
      onEnd: ({ results, errorCode }) => this.log.ended(origin, { operationName, started, results, errorCode }),
    });
    if (Symbol.asyncIterator in result) return result;
    // Not a stream: the subscribe resolver (or variable coercion) refused it, and nothing opened.
    const refused = this.format(result);
    this.log.refused(origin, { sent: operationName, label: operationName }, refused.errors ?? []);
    return refused;
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

function isDocument(document: DocumentNode | InvalidDocument): document is DocumentNode {
  return "kind" in document;
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
