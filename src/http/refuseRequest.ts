import type { FastifyReply } from "fastify";
import { ErrorCode } from "../domain/errors.js";

/**
 * A refusal of an HTTP request itself (its method, its `Accept`, its body), before any operation
 * runs: `status` with a GraphQL-shaped body, `{"errors":[{"message","extensions":{"code"}}]}`, so
 * a client reads every refusal the same way whatever refused it. `message` is the gateway's own:
 * never text from the request.
 */
export function refuseRequest(reply: FastifyReply, status: number, message: string, code: ErrorCode = ErrorCode.BAD_REQUEST): FastifyReply {
  return reply.code(status).type("application/json; charset=utf-8").send({ errors: [{ message, extensions: { code } }] });
}
