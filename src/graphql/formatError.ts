import type { GraphQLFormattedError } from "graphql";
import type { Logger } from "pino";
import { ErrorCode } from "../domain/errors.js";

/**
 * Errors with a known code reach the client as they are. Anything else is a bug or an unexpected
 * failure: the client gets INTERNAL_SERVER_ERROR with no message detail and no stack, and the log
 * gets the rest. GraphQL validation and parse errors carry Apollo's own codes and pass through.
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
    logger.error({ err: error, path: formatted.path }, "unexpected error in operation");
    return {
      message: "Internal server error.",
      ...(formatted.locations && { locations: formatted.locations }),
      ...(formatted.path && { path: formatted.path }),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}
