import { OperationTypeNode, type GraphQLError } from "graphql";
import type { Logger } from "pino";
import { errorCodesOf } from "../graphql/operationLog.js";
import type { GatewayMetrics } from "../observability/metrics.js";

/** The transport a subscription came over. */
export type SubscriptionTransport = "ws" | "sse";

/** Where a subscription was asked for: what its log line names, and when the transport took it. */
export interface SubscriptionOrigin {
  readonly transport: SubscriptionTransport;
  /**
   * The id of the HTTP request that carried it: the SSE request's, or the WebSocket upgrade's (the
   * same for every subscription of one connection); the caller's `x-request-id` or a generated UUID.
   */
  readonly requestId: string;
  /** When the transport took the request (`process.hrtime.bigint()`): a refusal's `durationMs` runs from here. */
  readonly started: bigint;
}

/**
 * A refused subscription's operation name, twice: `sent` for its log line (the name the request
 * sent, or its document's one operation's), `label` for the `operation` metric label (only the name
 * of an operation its document holds, as on POST /graphql: a name the request merely sent, for an
 * operation its document does not hold or with no document parsed, would let any caller fill the
 * label's bounded set and push real operations into `other`; `null` counts as `anonymous`).
 */
export interface RefusedOperation {
  readonly sent: string | null;
  readonly label: string | null;
}

/** How a subscription that opened ended (`SubscriptionEnd` of `subscribePerEvent`). */
export interface EndedSubscription {
  readonly operationName: string | null;
  /** When it opened (`process.hrtime.bigint()`). */
  readonly started: bigint;
  /** Results sent. */
  readonly results: number;
  /** The code of the error the gateway ended it with; unset when the client or a shutdown ended it. */
  readonly errorCode?: string | undefined;
}

/**
 * The log line of every subscription, shaped like the operation log's (`operationLog`): ids, names,
 * counts and codes, never the document, its variables, the token, the caller or the results.
 *
 * `{"requestId":"…","transport":"ws","operationName":"Wallboard","operationType":"subscription",
 *   "durationMs":61234.5,"results":42,"outcome":"ok","msg":"subscription"}`
 *
 * - `ended`: one line when an open subscription ends, `outcome` `ok`, or `error` with the code the
 *   gateway ended it with in `errorCodes`.
 * - `refused`: one line, instead, for a subscription refused before it opens (a bound, an expired
 *   token, a trusted-document, parse or validation error, an unreadable instance, bad arguments):
 *   no `results`, `outcome` `refused`, its distinct codes in `errorCodes` (`UNKNOWN` for an error
 *   without one), which are also counted as an operation with outcome `error`
 *   (`graphql_operations_total`, `graphql_errors_total{code}`), as a refused POST operation's are:
 *   under the name of an operation its document holds, else `anonymous` (`RefusedOperation`).
 * - `refusedConnection`: a WebSocket connection refused before it asked for anything (no or a bad
 *   token, too many connections) writes the refused line with `operationName` and `operationType`
 *   `null` and is not counted: its socket was closed and no GraphQL error was sent, as with an HTTP
 *   request the authentication hook refuses.
 */
export class SubscriptionLog {
  constructor(
    private readonly logger: Logger,
    private readonly metrics: Pick<GatewayMetrics, "observeOperation">,
    /**
     * With trusted documents, refusals are counted under `anonymous`: the name a refused request
     * sent is its own choice (many are refused before their document is looked up), and must not
     * take one of the bounded `operation` label's values. The log line still carries it.
     */
    private readonly trustedDocuments = false,
  ) {}

  ended(origin: SubscriptionOrigin, end: EndedSubscription): void {
    this.logger.info(
      {
        requestId: origin.requestId,
        transport: origin.transport,
        operationName: end.operationName?.slice(0, 100) ?? null,
        operationType: "subscription",
        durationMs: millisecondsSince(end.started),
        results: end.results,
        outcome: end.errorCode === undefined ? "ok" : "error",
        ...(end.errorCode !== undefined && { errorCodes: [end.errorCode] }),
      },
      "subscription",
    );
  }

  /**
   * A subscription asked for and refused with `errors`, counted as an operation with outcome `error`.
   * `operationType` is the parsed operation's (a query or mutation sent to a subscription endpoint is
   * refused as one). Logged under `operation.sent`, counted under `operation.label`. Returns
   * `errors`, for the transport to send.
   */
  refused<T extends readonly GraphQLError[]>(origin: SubscriptionOrigin, operation: RefusedOperation, errors: T, operationType: OperationTypeNode = OperationTypeNode.SUBSCRIPTION): T {
    const errorCodes = errorCodesOf(errors);
    const durationMs = millisecondsSince(origin.started);
    this.metrics.observeOperation(this.trustedDocuments ? null : operation.label, "error", durationMs / 1000, errorCodes);
    this.writeRefusal(origin, operation.sent, operationType, durationMs, errorCodes);
    return errors;
  }

  /** A WebSocket connection refused (closed) with `code` before it asked for any subscription: logged, not counted. */
  refusedConnection(origin: SubscriptionOrigin, code: string): void {
    this.writeRefusal(origin, null, null, millisecondsSince(origin.started), [code]);
  }

  // Private: the refusal's line.
  private writeRefusal(origin: SubscriptionOrigin, operationName: string | null, operationType: OperationTypeNode | null, durationMs: number, errorCodes: readonly string[]): void {
    this.logger.info(
      {
        requestId: origin.requestId,
        transport: origin.transport,
        operationName: operationName?.slice(0, 100) ?? null,
        operationType,
        durationMs,
        outcome: "refused",
        errorCodes,
      },
      "subscription",
    );
  }
}

// Private: milliseconds since `started`, to a tenth, as the operation log writes them.
function millisecondsSince(started: bigint): number {
  return Math.round(Number(process.hrtime.bigint() - started) / 1e5) / 10;
}
