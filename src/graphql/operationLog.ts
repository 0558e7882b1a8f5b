import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from "@apollo/server";
import { getOperationAST, type GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import type { GatewayContext } from "./context.js";
import type { GatewayMetrics, OperationOutcome } from "../observability/metrics.js";

/**
 * One structured log line and one metrics observation per GraphQL operation:
 *
 * `{"level":30,"requestId":"…","operationName":"ContactWithTransferChain","operationType":"query",
 *   "durationMs":12.3,"upstreamCalls":4,"outcome":"ok","msg":"operation"}`
 *
 * plus `errorCodes` when the response has errors, and, with the operation response cache on
 * (`responseCache`), `responseCache` when it looked at the request: `miss` (not found: executed),
 * `bypass` (`Cache-Control: no-cache`: executed, and responses naming what it re-read dropped), `hit`
 * (answered from the cache without executing, `upstreamCalls` 0: written by `logCachedOperation`).
 * (A no-cache request records its reads with the response cache off too, for the other replicas:
 * that is not the response cache looking at it.) The request id is the one Fastify took from
 * `x-request-id` (or generated and echoed in that header). Nothing from the query text, its
 * variables or the response data is logged: those hold contact data, and operation names, ids,
 * counts and error codes are enough to find an operation. `upstreamCalls` counts the calls that
 * reached Connect (cache hits excluded); in an HTTP batch of several operations it is the batch's
 * running total.
 */
export function operationLog(options: { logger: Logger; metrics: GatewayMetrics; responseCache?: boolean }): ApolloServerPlugin<GatewayContext> {
  const { logger, metrics, responseCache = false } = options;
  return {
    async requestDidStart() {
      const started = process.hrtime.bigint();
      return {
        async willSendResponse(rc) {
          const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
          const { outcome, errorCodes } = summarize(rc);
          const operationName = nameOf(rc);
          metrics.observeOperation(documentNameOf(rc), outcome, durationMs / 1000, errorCodes);
          logger.info(
            {
              requestId: rc.contextValue.requestId,
              operationName: operationName?.slice(0, 100) ?? null,
              operationType: rc.operation?.operation ?? null,
              durationMs: Math.round(durationMs * 10) / 10,
              upstreamCalls: rc.contextValue.operationScope?.upstreamCalls ?? 0,
              outcome,
              ...(errorCodes.length > 0 && { errorCodes }),
              ...(responseCache && rc.contextValue.entities && { responseCache: rc.contextValue.entities.lookup }),
            },
            "operation",
          );
        },
      };
    },
  };
}

/** An operation answered from the response cache, as the operation log and the metrics record it. */
export interface CachedOperation {
  readonly requestId: string;
  readonly operationName: string | null;
  readonly operationType: string | null;
  /** From the request's arrival at the response cache to the stored response being sent. */
  readonly durationMs: number;
}

/**
 * The log line and metrics observation of an operation the response cache answered: the same line
 * as an executed one, with `upstreamCalls` 0 and `responseCache: "hit"`. Only responses without
 * errors are stored, so the outcome is `ok`.
 */
export function logCachedOperation(logger: Logger, metrics: Pick<GatewayMetrics, "observeOperation">, operation: CachedOperation): void {
  metrics.observeOperation(operation.operationName, "ok", operation.durationMs / 1000);
  logger.info(
    {
      requestId: operation.requestId,
      operationName: operation.operationName?.slice(0, 100) ?? null,
      operationType: operation.operationType,
      durationMs: Math.round(operation.durationMs * 10) / 10,
      upstreamCalls: 0,
      outcome: "ok",
      responseCache: "hit",
    },
    "operation",
  );
}

// Private: the operation's name, also when it failed validation (Apollo resolves it only afterwards).
function nameOf(rc: GraphQLRequestContextWillSendResponse<GatewayContext>): string | null {
  return rc.operationName ?? rc.request.operationName ?? (rc.document && getOperationAST(rc.document)?.name?.value) ?? null;
}

// Private: the operation's name as a metric label: only the name of an operation the document
// holds (with trusted documents, a name from the manifest), never a name the request merely sent
// (for an operation it does not hold, or with no document: "Unknown operation", a document id not
// found), which would let any caller fill the label's bounded set and push real operations into
// `other`. The log line keeps the name sent.
function documentNameOf(rc: GraphQLRequestContextWillSendResponse<GatewayContext>): string | null {
  if (rc.operation) return rc.operationName ?? null;
  return (rc.document && getOperationAST(rc.document, rc.request.operationName)?.name?.value) ?? null;
}

// Private: what most operations come to, shared (nothing changes it).
const OK: { outcome: OperationOutcome; errorCodes: string[] } = { outcome: "ok", errorCodes: [] };

// Private: the outcome and the distinct error codes of the response about to be sent.
function summarize(rc: GraphQLRequestContextWillSendResponse<GatewayContext>): { outcome: OperationOutcome; errorCodes: string[] } {
  const body = rc.response.body;
  const result = body.kind === "single" ? body.singleResult : body.initialResult;
  const errors: readonly GraphQLFormattedError[] | undefined = result.errors;
  if (!errors?.length) return OK;
  const outcome: OperationOutcome = result.data != null ? "partial" : "error";
  return { outcome, errorCodes: errorCodesOf(errors) };
}

/**
 * The distinct `extensions.code`s of `errors`, as the operation log, its span and the subscription
 * log line record them: `UNKNOWN` for an error without one.
 */
export function errorCodesOf(errors: ReadonlyArray<{ readonly extensions?: { readonly [key: string]: unknown } | undefined }>): string[] {
  return [...new Set(errors.map((e) => String(e.extensions?.code ?? "UNKNOWN")))];
}
