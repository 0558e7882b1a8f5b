import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";
import {
  execute,
  getOperationAST,
  getVariableValues,
  getNullableType,
  GraphQLError,
  isListType,
  isObjectType,
  Kind,
  visit,
  type GraphQLField,
  type GraphQLFieldResolver,
  type DocumentNode,
  type ExecutionResult,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from "graphql";
import { inspect } from "graphql/jsutils/inspect.js";
import { LRUCache } from "lru-cache";
import type { Logger } from "pino";

export interface JitExecutorOptions {
  /** The schema every operation runs against (the gateway's, with its resolver wrappers). */
  readonly schema: GraphQLSchema;
  /** Where operations jit cannot compile are noted (debug) and jit failures reported (warn). */
  readonly logger: Logger;
  /** Documents whose compiled operations are kept, least recently used dropped first. Default 1,000. */
  readonly maxDocuments?: number;
  /**
   * Runs subscription operations against one event each (`rootValue`: the event, as graphql-js's
   * `execute` runs a subscription's event), and leaves queries and mutations to graphql-js: the
   * subscription transports' executor. Default false: queries and mutations, subscriptions to graphql-js.
   */
  readonly subscriptionEvents?: boolean;
  /**
   * Keeps each document's compiled operations for as long as the document itself is reachable,
   * instead of in an LRU of `maxDocuments`: for a caller that bounds its documents (the subscription
   * transports' cache of parsed documents, and the open subscriptions). Default false.
   */
  readonly weakDocuments?: boolean;
}

/** One operation to run, as graphql-js's `execute` takes it. */
export interface JitExecutionArgs {
  /** The parsed, validated document; compiled operations are kept per document object. */
  readonly document: DocumentNode;
  /** The operation the request named, if any. */
  readonly operationName?: string | null | undefined;
  readonly variableValues?: Readonly<Record<string, unknown>> | undefined;
  readonly contextValue: object;
  /** A subscription's event (`subscriptionEvents`); unset for queries and mutations. */
  readonly rootValue?: unknown;
}

export interface JitExecutor {
  /** Runs one operation: compiled by graphql-jit when it can be, otherwise by graphql-js. Never rejects because of jit. */
  execute(args: JitExecutionArgs): Promise<ExecutionResult>;
  /** Operations run by compiled code and by graphql-js since start (for tests and benchmarks). */
  readonly runs: { jit: number; graphqlJs: number };
}

/** What one (document, operation name) compiled to; `undefined`: graphql-js runs it. */
type Compiled =
  | {
      readonly query: CompiledQuery["query"];
      readonly operation: OperationDefinitionNode;
      /** Variables given as `@skip(if:)`/`@include(if:)`: jit reads a null one as false, graphql-js refuses it. */
      readonly conditionVariables: readonly string[];
    }
  | undefined;

/**
 * Executes queries with graphql-jit: each operation is compiled once per (document, operation
 * name), against `schema`, into a function that reads resolver-less fields inline, then kept in a
 * bounded LRU (Apollo hands the same document object for the same query text while its document
 * store holds it). The answer is graphql-js's, byte for byte: same data, same errors (graphql-js
 * `GraphQLError`s with the same message, path, locations, `originalError` and `extensions`), same
 * null-bubbling, the schema's own resolvers and scalars.
 *
 * graphql-js's `execute` runs instead (and so answers exactly as without jit):
 * - an operation jit cannot compile (noted once per document at debug) or that the document does not
 *   resolve to (graphql-js gives the error);
 * - subscriptions, unless the executor is the subscription transports' (`subscriptionEvents`; one
 *   sent over POST gets graphql-js's answer), which in turn leaves queries and mutations to it;
 * - a document with a field aliased `__proto__` (jit's object literal would drop it) or a variable
 *   so named (jit's coerced variables would lack it);
 * - variables jit refuses (graphql-js then refuses them in its own words, before any resolver runs,
 *   or, for what only jit refuses, answers), and a null given to `@skip(if:)`/`@include(if:)`
 *   (graphql-js refuses it; jit reads false);
 * - a request whose Apollo plugins hook every field (`willResolveField`, e.g. the subgraph's inline
 *   trace when a router asks for `ftv1`): Apollo calls those hooks from wrappers it puts on the
 *   schema's resolvers, which compiled code does not go through;
 * - a compiled run that throws (a jit bug: reported at warn; resolvers may run twice, and their
 *   reads are answered by the request's loaders).
 */
export function jitExecutor(options: JitExecutorOptions): JitExecutor {
  const { schema, logger } = options;
  const subscriptionEvents = options.subscriptionEvents ?? false;
  const documents: Pick<WeakMap<DocumentNode, Map<string, Compiled>>, "get" | "set"> = options.weakDocuments
    ? new WeakMap()
    : new LRUCache<DocumentNode, Map<string, Compiled>>({ max: options.maxDocuments ?? 1000 });
  const runs = { jit: 0, graphqlJs: 0 };

  const compile = (document: DocumentNode, operationName: string | undefined): Compiled => {
    const operation = getOperationAST(document, operationName);
    if (!operation || (operation.operation === "subscription") !== subscriptionEvents) return undefined;
    // jit writes each response key into an object literal, where `__proto__` sets the prototype
    // instead of a key: the field would vanish from the answer.
    if (hasProtoKey(document)) return undefined;
    try {
      const compiled = withSettledListItems(schema, () => compileQuery(schema, document, operationName, { disablingCapturingStackErrors: true }));
      if (isCompiledQuery(compiled)) return { query: compiled.query, operation, conditionVariables: conditionVariables(document) };
      logger.debug({ operationName: nameOf(operation), reasons: compiled.errors?.map((e) => e.message) }, "graphql-jit could not compile the operation; graphql-js runs it");
    } catch (error) {
      logger.debug({ operationName: nameOf(operation), err: error }, "graphql-jit could not compile the operation; graphql-js runs it");
    }
    return undefined;
  };

  const compiledFor = (document: DocumentNode, operationName: string | undefined): Compiled => {
    let operations = documents.get(document);
    if (!operations) documents.set(document, (operations = new Map()));
    const key = operationName ?? "";
    if (operations.has(key)) return operations.get(key);
    const compiled = compile(document, operationName);
    operations.set(key, compiled);
    return compiled;
  };

  const graphqlJs = (args: JitExecutionArgs): Promise<ExecutionResult> => {
    runs.graphqlJs += 1;
    return Promise.resolve(
      execute({
        schema,
        document: args.document,
        operationName: args.operationName,
        variableValues: args.variableValues,
        contextValue: args.contextValue,
        rootValue: args.rootValue,
      }),
    );
  };

  return {
    runs,
    async execute(args) {
      const operationName = args.operationName ?? undefined;
      const compiled = hooksEveryField(args.contextValue) ? undefined : compiledFor(args.document, operationName);
      if (!compiled) return graphqlJs(args);
      // jit coerces the variables by graphql-js's rules (graphql-jit compiles them; the refusals are
      // compared byte for byte in jitExecutor.test.ts), but words its errors differently, and Apollo
      // codes graphql-js's BAD_USER_INPUT: a refusal (a result without `data`, below) is answered by
      // graphql-js. Only a document passing variables to `@skip`/`@include` has them coerced by
      // graphql-js first: jit reads a null one as false, where graphql-js refuses it.
      const { operation } = compiled;
      if (compiled.conditionVariables.length > 0) {
        const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], args.variableValues ?? {});
        if (coerced.errors) return graphqlJs(args);
        if (compiled.conditionVariables.some((name) => coerced.coerced[name] == null)) return graphqlJs(args);
      }
      let result: ExecutionResult;
      try {
        result = await compiled.query(args.rootValue, args.contextValue, args.variableValues);
      } catch (error) {
        logger.warn({ operationName: nameOf(operation), err: error }, "graphql-jit failed to run a compiled operation; graphql-js runs it");
        return graphqlJs(args);
      }
      // No `data`: jit refused the variables; graphql-js answers, with its refusal or, where jit
      // refuses what graphql-js accepts (an input object's field left to its default), the result.
      if (!("data" in result)) return graphqlJs(args);
      runs.jit += 1;
      return result.errors ? { data: result.data, errors: result.errors.map(asGraphQLJsError) } : result;
    },
  };
}

/**
 * A graphql-jit error as graphql-js's `locatedError` makes it: a `GraphQLError` (jit's own error
 * objects lack `extensions` when the thrown error had none, which Apollo's plugins read) with the
 * thrown error's message and `extensions`, the field's path and locations. A thrown error already
 * located (one with a path) is kept as it is, and a thrown non-Error is worded as graphql-js words it.
 */
function asGraphQLJsError(error: GraphQLError): GraphQLError {
  const thrown: unknown = error.originalError;
  if (thrown instanceof GraphQLError && Array.isArray(thrown.path)) return thrown;
  if (thrown === undefined || thrown === null) {
    const own = new GraphQLError(error.message, { path: error.path });
    return withLocations(own, error.locations);
  }
  const original = asError(thrown);
  if (original instanceof GraphQLError && original.nodes) {
    return new GraphQLError(original.message, { nodes: original.nodes, source: original.source, positions: original.positions, path: error.path, originalError: original });
  }
  return withLocations(new GraphQLError(original.message, { path: error.path, originalError: original }), error.locations);
}

// Private: graphql-js computes locations from the field's nodes; jit computed the same from the same nodes.
function withLocations(error: GraphQLError, locations: GraphQLError["locations"]): GraphQLError {
  if (locations?.length) (error as { locations: GraphQLError["locations"] }).locations = locations;
  return error;
}

/**
 * Whether Apollo set up `willResolveField` hooks for this request: it marks the context with a
 * symbol its schema wrappers read (`apolloServerExecutionDispatcherWillResolveField`, not exported).
 */
function hooksEveryField(contextValue: object): boolean {
  for (const symbol of Object.getOwnPropertySymbols(contextValue)) {
    if (symbol.description === "apolloServerExecutionDispatcherWillResolveField") return true;
  }
  return false;
}

/**
 * Runs `compile` with every list field's resolver wrapped so that the items of the list it returns
 * never reject: an item promise that rejects resolves to the error instead. graphql-jit 0.8.9 puts
 * the null of a rejected item at the end of the list (`resultArray.push(null)`) rather than at its
 * index, so a failed last contact of `contacts(contactIds:)` or `_entities` vanished from the list; an
 * item that is an `Error` it nulls at its index with the error at the item's path, as graphql-js
 * does for either. The wrappers are captured by the compiled code only: the schema's resolvers are
 * swapped back before this returns (compilation is synchronous), so graphql-js never sees them.
 */
function withSettledListItems<T>(schema: GraphQLSchema, compile: () => T): T {
  const swapped: Array<[GraphQLField<unknown, unknown>, GraphQLFieldResolver<unknown, unknown>]> = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith("__")) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve = field.resolve;
      if (!resolve || !isListType(getNullableType(field.type))) continue;
      swapped.push([field, resolve]);
      field.resolve = settledItems(resolve);
    }
  }
  try {
    return compile();
  } finally {
    for (const [field, resolve] of swapped) field.resolve = resolve;
  }
}

// Private: `resolve`, with each item promise of the list it returns settled to its value or its error.
function settledItems(resolve: GraphQLFieldResolver<unknown, unknown>): GraphQLFieldResolver<unknown, unknown> {
  const settleList = (list: unknown) => (Array.isArray(list) && list.some(isPromise) ? list.map((item) => (isPromise(item) ? item.then(undefined, asError) : item)) : list);
  return (source, args, ctx, info) => {
    const value = resolve(source, args, ctx, info);
    return isPromise(value) ? value.then(settleList) : settleList(value);
  };
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === "function";
}

// Private: what graphql-js makes of a thrown value that is not an Error.
function asError(thrown: unknown): Error {
  return thrown instanceof Error ? thrown : new Error(`Unexpected error value: ${inspect(thrown)}`);
}

// Private: whether a field of the document answers under the key `__proto__` (an alias; no field
// has that name), or a variable is named so.
function hasProtoKey(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Field(field) {
      if ((field.alias ?? field.name).value === "__proto__") found = true;
    },
    // jit coerces variables into a plain object, where `__proto__` is not a key either: the
    // variable would read as not provided.
    VariableDefinition(definition) {
      if (definition.variable.name.value === "__proto__") found = true;
    },
  });
  return found;
}

// Private: the variables a document passes to `@skip(if:)` or `@include(if:)`.
function conditionVariables(document: DocumentNode): string[] {
  const names = new Set<string>();
  visit(document, {
    Directive(directive) {
      if (directive.name.value !== "skip" && directive.name.value !== "include") return;
      for (const argument of directive.arguments ?? []) {
        if (argument.value.kind === Kind.VARIABLE) names.add(argument.value.name.value);
      }
    },
  });
  return [...names];
}

function nameOf(operation: OperationDefinitionNode): string | null {
  return operation.name?.value.slice(0, 100) ?? null;
}

/**
 * Whether Apollo Server hands gateway executors its `response.http` as patched
 * (patches/@apollo+server+5.5.1.patch: `status` an accessor on a shared prototype) rather than as
 * the object literal with its own `status` accessor that keeps every request's objects alive past
 * V8's young-generation collections (bench/README.md, finding 12). `undefined` counts as patched.
 */
export function isPatchedApolloResponse(http: object | undefined): boolean {
  if (http === undefined) return true;
  return Object.getOwnPropertyDescriptor(http, "status")?.get === undefined;
}
