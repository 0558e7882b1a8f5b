import type { ApolloServerPlugin, GraphQLRequestContextWillSendResponse } from "@apollo/server";
import { getOperationAST, type GraphQLFormattedError } from "graphql";
import type { OperationFacts, Tracing } from "../observability/tracing.js";
import type { GatewayContext } from "./context.js";
import { errorCodesOf } from "./operationLog.js";

/**
 * The span of each GraphQL operation over HTTP, as an Apollo plugin (registered only when tracing is
 * on): started as the request starts, a child of the caller's span when the request carries a W3C
 * `traceparent` (so the gateway's spans join the front end's trace), ended as the response is sent
 * with `graphql.operation.name`, `graphql.operation.type`, `gateway.outcome` (`ok`, `partial`:
 * data with errors, `error`: no data), `gateway.upstream_calls` and `gateway.error_codes`: the
 * same facts as the operation's log line, and nothing from the query text, its variables or the
 * response data.
 *
 * The span's context reaches the reads through the request's `OperationScope.trace`, so each
 * upstream call's span (and each read the cache answers) is its child without any context manager.
 * The operations of one HTTP batch share one context, loaders and scope: each has its own span,
 * and the reads, which they share, are children of the first one's.
 */
export function tracingPlugin(tracing: Pick<Tracing, "startOperation">): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart({ request, contextValue }) {
      const operation = tracing.startOperation(request.http?.headers);
      const scope = contextValue.operationScope;
      if (scope && !scope.trace) scope.trace = operation.trace;
      return {
        async willSendResponse(rc) {
          operation.end(factsOf(rc));
        },
      };
    },
  };
}

// Private: what the span records, read like the operation log reads it (src/graphql/operationLog.ts).
function factsOf(rc: GraphQLRequestContextWillSendResponse<GatewayContext>): OperationFacts {
  const body = rc.response.body;
  const result = body.kind === "single" ? body.singleResult : body.initialResult;
  const errors: readonly GraphQLFormattedError[] = result.errors ?? [];
  return {
    name: rc.operationName ?? rc.request.operationName ?? (rc.document && getOperationAST(rc.document)?.name?.value) ?? null,
    type: rc.operation?.operation ?? null,
    outcome: errors.length === 0 ? "ok" : result.data != null ? "partial" : "error",
    errorCodes: errorCodesOf(errors),
    upstreamCalls: rc.contextValue.operationScope?.upstreamCalls ?? 0,
  };
}
