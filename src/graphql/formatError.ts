import { GraphQLError, type GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import { ErrorCode } from "../domain/errors.js";

/**
 * Errors with a known code reach the client as they are. Apollo's own refusals of a malformed
 * request that carry an HTTP 4xx status but no code (an unsupported persisted-query version, a
 * `sha256Hash` that does not match the query) are the client's mistake: BAD_REQUEST with Apollo's
 * message, and nothing logged (any client could fill the error log with them). Anything else is a
 * bug or an unexpected failure: the client gets INTERNAL_SERVER_ERROR with no message detail and no
 * stack, and the log gets the rest. GraphQL validation and parse errors carry Apollo's own codes
 * and pass through.
 */
export function maskUnexpectedErrors(logger: Logger) {
  const known = new Set<string>([
    ...Object.values(ErrorCode),
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "BAD_REQUEST",
    "PERSISTED_QUERY_NOT_FOUND",
    "PERSISTED_QUERY_NOT_SUPPORTED",
    "OPERATION_RESOLUTION_FAILURE",
  ]);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (typeof code === "string" && known.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR) return formatted;
    if (isUncodedClientError(error)) return { message: formatted.message, extensions: { code: ErrorCode.BAD_REQUEST } };
    logger.error({ err: error, path: formatted.path }, "unexpected error in operation");
    return {
      message: "Internal server error.",
      ...(formatted.locations && { locations: formatted.locations }),
      ...(formatted.path && { path: formatted.path }),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}

// Private: a GraphQLError thrown with an HTTP 4xx status and no code of its own (Apollo's request
// checks), before Apollo filled in INTERNAL_SERVER_ERROR.
function isUncodedClientError(error: unknown): boolean {
  if (!(error instanceof GraphQLError) || error.extensions.code !== undefined) return false;
  const status = (error.extensions.http as { status?: unknown } | undefined)?.status;
  return typeof status === "number" && status >= 400 && status < 500;
}
