import type { FastifyError, FastifyReply } from "fastify";
import type { Logger } from "pino";
import type { Config } from "../config/config.js";
import { ErrorCode } from "../domain/errors.js";
import { refuseRequest } from "./refuseRequest.js";

/**
 * Errors Fastify raises before Apollo sees the request (body too large, malformed JSON, unknown
 * content type) answered in GraphQL's shape, `{"errors":[{"message","extensions":{"code"}}]}`,
 * with their HTTP status: 413 PAYLOAD_TOO_LARGE, 400/415 BAD_REQUEST. Messages are the gateway's
 * own: a JSON parser's message can quote the body, which may hold personal data. Anything 5xx is
 * INTERNAL_SERVER_ERROR with no detail.
 */
export function httpErrorHandler(config: Pick<Config, "BODY_LIMIT_BYTES">, logger: Logger) {
  return (error: FastifyError, request: { id: string }, reply: FastifyReply) => {
    const status = typeof error.statusCode === "number" && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    let code: ErrorCode = ErrorCode.BAD_REQUEST;
    let message: string;
    if (status === 413) {
      code = ErrorCode.PAYLOAD_TOO_LARGE;
      message = `The request body is larger than ${config.BODY_LIMIT_BYTES} bytes (BODY_LIMIT_BYTES).`;
    } else if (status === 415) {
      message = "Unsupported Content-Type: send the operation as application/json (or application/graphql-response+json).";
    } else if (error.code === "FST_ERR_CTP_INVALID_JSON_BODY" || error instanceof SyntaxError) {
      message = "The request body is not valid JSON.";
    } else if (error.code === "FST_ERR_CTP_EMPTY_JSON_BODY") {
      message = "The request body is empty; send a JSON object with a `query`.";
    } else if (status < 500) {
      message = `Bad request (${error.code ?? "HTTP " + status}).`;
    } else {
      code = ErrorCode.INTERNAL_SERVER_ERROR;
      message = "Internal server error.";
      logger.error({ err: error, requestId: request.id }, "unexpected error in HTTP layer");
    }
    void refuseRequest(reply, status, message, code);
  };
}
