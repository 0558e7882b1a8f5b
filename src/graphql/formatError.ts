import { GraphQLError, Kind, type ExecutionResult, type GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import { ErrorCode } from "../domain/errors.js";

/** The codes that reach clients as they are: the gateway's table and Apollo's request errors. */
const KNOWN_CODES = new Set<string>([
  ...Object.values(ErrorCode),
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_REQUEST",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
]);

/** What a client sees of an unexpected error: no message detail, no stack. */
const INTERNAL_MESSAGE = "Internal server error.";

function isKnownCode(code: unknown): boolean {
  return typeof code === "string" && KNOWN_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR;
}

/**
 * Apollo Server's `formatError`. Errors with a known code reach the client as they are. Apollo's
 * own refusals of a malformed request that carry an HTTP 4xx status but no code (an unsupported
 * persisted-query version, a `sha256Hash` that does not match the query) are the client's mistake:
 * BAD_REQUEST with Apollo's message, and nothing logged (any client could fill the error log with
 * them). Anything else is a bug or an unexpected failure: the client gets INTERNAL_SERVER_ERROR with
 * no message detail and no stack, and the log gets the rest. GraphQL validation and parse errors
 * carry Apollo's own codes and pass through.
 */
export function maskUnexpectedErrors(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    if (isKnownCode(formatted.extensions?.code)) return formatted;
    if (isUncodedClientError(error)) return { message: formatted.message, extensions: { code: ErrorCode.BAD_REQUEST } };
    logger.error({ err: error, path: formatted.path }, "unexpected error in operation");
    return {
      message: INTERNAL_MESSAGE,
      ...(formatted.locations && { locations: formatted.locations }),
      ...(formatted.path && { path: formatted.path }),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}

/**
 * The same policy for results made outside Apollo's request pipeline (subscriptions over WebSocket
 * and SSE: their refusal by the subscribe resolver and each event's result), so a subscriber gets
 * the codes and masking a `POST /graphql` caller gets. An error about the variables' values
 * (graphql-js reports it at a variable definition, with no code) is BAD_USER_INPUT, as Apollo codes
 * it; any other error without a known code is logged and sent as INTERNAL_SERVER_ERROR. A result
 * without errors is returned as it is (the common case costs one check).
 */
export function maskResultErrors(logger: Logger): (result: ExecutionResult) => ExecutionResult {
  const one = (error: GraphQLError): GraphQLError => {
    if (isKnownCode(error.extensions.code)) return error;
    if (error.extensions.code === undefined && error.nodes?.[0]?.kind === Kind.VARIABLE_DEFINITION) {
      return new GraphQLError(error.message, { nodes: error.nodes, extensions: { ...error.extensions, code: ErrorCode.BAD_USER_INPUT } });
    }
    logger.error({ err: error.originalError ?? error, path: error.path }, "unexpected error in operation");
    return new GraphQLError(INTERNAL_MESSAGE, { nodes: error.nodes, path: error.path, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } });
  };
  return (result) => (result.errors?.length ? { ...result, errors: result.errors.map(one) } : result);
}

// Private: a GraphQLError thrown with an HTTP 4xx status and no code of its own (Apollo's request
// checks), before Apollo filled in INTERNAL_SERVER_ERROR.
function isUncodedClientError(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.extensions.code !== undefined) return false;
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  return typeof status === "number" && status >= 400 && status < 500;
}
