import { createSourceEventStream, execute as graphqlJsExecute, GraphQLError, type ExecutionArgs, type ExecutionResult } from "graphql";
import { ErrorCode } from "../domain/errors.js";
import { hasExpired } from "../domain/principal.js";
import type { GatewayContext } from "./context.js";
import { REDACTED_EXTENSION } from "./redaction.js";
import type { SharedExecutions } from "./sharedExecutions.js";

/** How each event of a subscription executes. */
export interface PerEventOptions<E> {
  /** The event's own context. */
  readonly contextFor: (event: E) => GatewayContext;
  /** Runs the operation for one event (`rootValue`). Default graphql-js's `execute`. */
  readonly execute?: ((args: ExecutionArgs) => Promise<ExecutionResult> | ExecutionResult) | undefined;
  /** Shares each event's execution with the subscriptions of the same key. Unset: every event executes for this subscription. */
  readonly share?: EventShare | undefined;
  /** Called once when the subscription ends, however it ends (see `SubscriptionEnd`). */
  readonly onEnd?: ((end: SubscriptionEnd) => void) | undefined;
}

/** How a subscription ended. */
export interface SubscriptionEnd {
  /** Results sent (events delivered, and the last error result if any). */
  readonly results: number;
  /** The code of the error it ended with (SUBSCRIBER_TOO_SLOW, UNAUTHENTICATED, …); unset when the client or the server ended it. */
  readonly errorCode?: string | undefined;
}

/** How a subscription shares its events' executions (see `SharedExecutions`). */
export interface EventShare {
  readonly executions: SharedExecutions;
  /** Everything the subscription's results depend on (document, operation, variables, access). */
  readonly key: string;
  /** Observes each result: `true` when it was executed for another subscription and shared. */
  readonly onResult?: ((shared: boolean) => void) | undefined;
}

/**
 * graphql-js's `subscribe`, except that each event executes with a context of its own.
 *
 * A transport makes the context once per subscription (graphql-ws and graphql-sse both do, and
 * graphql-js executes every event with it), so its per-request loaders would serve the first
 * event's contacts to every later event. Here each event gets `contextFor(event)`: fresh loaders
 * (primed with the contact read for that event), a fresh redaction record for the event's
 * `extensions.redacted`, the same caller; it runs through `execute` (the gateway's graphql-jit
 * executor, or graphql-js's `execute`) with the event as root value. Before each event the caller's
 * token is checked again: an expired one ends the subscription with UNAUTHENTICATED. With `share`,
 * an event is executed once for every subscription of the same `share.key` (`SharedExecutions`),
 * each token still checked for its own subscription. An error of the event stream itself (a
 * subscriber cut off for falling behind) is sent as the last result. Ending the returned iterator
 * ends the event stream at once, even while it waits for an event.
 */
export async function subscribePerEvent<E>(
  args: ExecutionArgs & { contextValue: GatewayContext },
  { contextFor, execute = graphqlJsExecute, share, onEnd }: PerEventOptions<E>,
): Promise<AsyncIterableIterator<ExecutionResult> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!isAsyncIterable<E>(stream)) return stream as ExecutionResult;
  const events = stream[Symbol.asyncIterator]();
  share?.executions.join(share.key);
  let finished = false;
  let sent = 0;
  let errorCode: string | undefined;
  const finish = async (): Promise<IteratorResult<ExecutionResult>> => {
    if (!finished) {
      finished = true;
      share?.executions.leave(share.key);
      onEnd?.({ results: sent, errorCode });
      await events.return?.();
    }
    return { value: undefined, done: true };
  };
  // The result that ends the subscription with `error`, counted and its code kept for `onEnd`.
  const lastResult = (error: GraphQLError): IteratorResult<ExecutionResult> => {
    sent++;
    errorCode = String(error.extensions.code ?? ErrorCode.INTERNAL_SERVER_ERROR);
    return { value: { errors: [error] }, done: false };
  };
  const results: AsyncIterableIterator<ExecutionResult> = {
    async next() {
      if (finished) return { value: undefined, done: true };
      let event: IteratorResult<E>;
      try {
        event = await events.next();
      } catch (error) {
        const ended = lastResult(asGraphQLError(error));
        await finish();
        return ended;
      }
      if (event.done) return finish();
      if (hasExpired(args.contextValue.auth)) {
        const ended = lastResult(new GraphQLError("The bearer token has expired; subscribe again with a new token.", { extensions: { code: ErrorCode.UNAUTHENTICATED } }));
        await finish();
        return ended;
      }
      try {
        const rootValue = event.value;
        const run = async (): Promise<ExecutionResult> => {
          const contextValue = contextFor(rootValue);
          const result = await execute({ ...args, rootValue, contextValue });
          const masked = contextValue.redaction.masked;
          if (masked.size > 0) result.extensions = { ...result.extensions, [REDACTED_EXTENSION]: [...masked].sort() };
          return result;
        };
        const sharable = share !== undefined && typeof rootValue === "object" && rootValue !== null;
        const { result, shared } = sharable ? share.executions.run(rootValue, share.key, run) : { result: run(), shared: false };
        const value = await result;
        share?.onResult?.(shared);
        sent++;
        return { value, done: false };
      } catch (error) {
        // A transport that sees `next` reject does not call `return`: end the event stream here.
        errorCode = ErrorCode.INTERNAL_SERVER_ERROR;
        await finish();
        throw error;
      }
    },
    return: finish,
    async throw(error) {
      await finish();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return results;
    },
  };
  return results;
}

function isAsyncIterable<T>(value: unknown): value is AsyncIterable<T> {
  return typeof (value as AsyncIterable<T> | null)?.[Symbol.asyncIterator] === "function";
}

function asGraphQLError(error: unknown): GraphQLError {
  if (error instanceof GraphQLError) return error;
  return new GraphQLError("The event stream failed.", { extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } });
}
