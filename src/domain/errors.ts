import { GraphQLError } from "graphql";

/**
 * Every `extensions.code` the gateway puts on an error. Clients switch on these; the messages are
 * for people and may change.
 */
export const ErrorCode = {
  /** Upstream says the resource does not exist (the field is `null`). */
  NOT_FOUND: "NOT_FOUND",
  /** The request's input is malformed or out of range; nothing was sent upstream. */
  BAD_USER_INPUT: "BAD_USER_INPUT",
  /** Missing or invalid credentials. */
  UNAUTHENTICATED: "UNAUTHENTICATED",
  /** The caller (or the gateway's AWS identity) may not read this. */
  FORBIDDEN: "FORBIDDEN",
  /** Connect's quota was exhausted, or waiting for it would take too long. */
  UPSTREAM_THROTTLED: "UPSTREAM_THROTTLED",
  /** Connect failed, timed out or answered something the gateway could not use. */
  UPSTREAM_ERROR: "UPSTREAM_ERROR",
  /** The operation needs more upstream calls than one operation may make. */
  UPSTREAM_BUDGET_EXCEEDED: "UPSTREAM_BUDGET_EXCEEDED",
  /** The operation breaks a static query limit (depth, cost, aliases, tokens, directives, contact
   *  hops); `extensions.limit` names the setting. Refused before it runs: no upstream call. */
  QUERY_LIMIT_EXCEEDED: "QUERY_LIMIT_EXCEEDED",
  /** The HTTP request itself is malformed (not JSON, wrong content type, batching off). */
  BAD_REQUEST: "BAD_REQUEST",
  /** The HTTP request body is larger than `BODY_LIMIT_BYTES` (HTTP 413). */
  PAYLOAD_TOO_LARGE: "PAYLOAD_TOO_LARGE",
  /** A subscription fell further behind than `SUBSCRIPTION_BUFFER_EVENTS`; it was ended (and its connection closed). */
  SUBSCRIBER_TOO_SLOW: "SUBSCRIBER_TOO_SLOW",
  /** A connection or principal asked for more subscriptions than the gateway allows (`extensions.limit` names the setting). */
  SUBSCRIPTION_LIMIT_EXCEEDED: "SUBSCRIPTION_LIMIT_EXCEEDED",
  /** Live contact events are not configured (no `CONTACT_EVENTS_QUEUE_URL`). */
  EVENTS_NOT_CONFIGURED: "EVENTS_NOT_CONFIGURED",
  /** Trusted documents are on (`TRUSTED_DOCUMENTS_FILE`) and the request sent a `query` without the
   *  `documentId` (or persisted-query `sha256Hash`) of a listed document (HTTP 400). Nothing was parsed. */
  TRUSTED_DOCUMENT_REQUIRED: "TRUSTED_DOCUMENT_REQUIRED",
  /** The request sent both a listed document's hash and a `query` that is not that document (HTTP 400). */
  TRUSTED_DOCUMENT_MISMATCH: "TRUSTED_DOCUMENT_MISMATCH",
  /** The `documentId` or persisted-query `sha256Hash` names no document the gateway knows (HTTP 404 with
   *  `TRUSTED_DOCUMENTS_FILE`; without it, Apollo's automatic persisted queries answer it, HTTP 200).
   *  Apollo's own code, so clients that handle it keep working. */
  PERSISTED_QUERY_NOT_FOUND: "PERSISTED_QUERY_NOT_FOUND",
  /** A bug in the gateway; details are in the logs, never in the response. */
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The one table from Connect's error types (the `x-amzn-errortype` header, which the SDK surfaces as
 * the exception's `name`) to GraphQL codes. Anything not listed is UPSTREAM_ERROR.
 */
const UPSTREAM_CODES: Readonly<Record<string, ErrorCode>> = {
  ResourceNotFoundException: ErrorCode.NOT_FOUND,
  InvalidParameterException: ErrorCode.BAD_USER_INPUT,
  InvalidRequestException: ErrorCode.BAD_USER_INPUT,
  AccessDeniedException: ErrorCode.FORBIDDEN,
  ThrottlingException: ErrorCode.UPSTREAM_THROTTLED,
  TooManyRequestsException: ErrorCode.UPSTREAM_THROTTLED,
  // The gateway's own quota limiter: the call would have waited longer than CONNECT_MAX_WAIT_MS.
  QuotaWaitExceeded: ErrorCode.UPSTREAM_THROTTLED,
};

/** The GraphQL code for an error thrown by the SDK (or by the gateway's own upstream layer). */
export function upstreamErrorCode(error: unknown): ErrorCode {
  if (error instanceof GraphQLError) return (error.extensions.code as ErrorCode) ?? ErrorCode.UPSTREAM_ERROR;
  const name = (error as { name?: unknown } | null)?.name;
  return (typeof name === "string" && UPSTREAM_CODES[name]) || ErrorCode.UPSTREAM_ERROR;
}

interface SdkErrorShape {
  name?: string;
  $metadata?: { httpStatusCode?: number; requestId?: string };
  $fault?: string;
}

/**
 * Turns whatever an upstream call threw into a GraphQLError with a code and a message written by the
 * gateway: never the SDK's stack, never its raw message (which may echo request details), never
 * credentials. `extensions.upstream` keeps what an operator needs to find the call in AWS's logs.
 */
export function toUpstreamGraphQLError(error: unknown, resource: string): GraphQLError {
  if (error instanceof GraphQLError) return error;
  const code = upstreamErrorCode(error);
  const sdk = (error ?? {}) as SdkErrorShape;
  const upstream = {
    errorType: typeof sdk.name === "string" ? sdk.name : "Error",
    ...(sdk.$metadata?.httpStatusCode !== undefined && { httpStatus: sdk.$metadata.httpStatusCode }),
    ...(sdk.$metadata?.requestId !== undefined && { requestId: sdk.$metadata.requestId }),
  };
  return new GraphQLError(upstreamMessage(code, resource, upstream.errorType), {
    extensions: { code, upstream },
  });
}

function upstreamMessage(code: ErrorCode, resource: string, errorType: string): string {
  switch (code) {
    case ErrorCode.NOT_FOUND:
      return `${resource} was not found.`;
    case ErrorCode.BAD_USER_INPUT:
      return `Amazon Connect rejected the request for ${resource} as invalid (${errorType}).`;
    case ErrorCode.FORBIDDEN:
      return `The gateway's AWS identity may not read ${resource} (${errorType}).`;
    case ErrorCode.UPSTREAM_THROTTLED:
      return errorType === "QuotaWaitExceeded"
        ? `Amazon Connect's request quota is booked up for longer than the gateway may wait; ${resource} was not read. Retry later.`
        : `Amazon Connect's request quota is exhausted; ${resource} could not be read. Retry later.`;
    default:
      return isTimeout(errorType)
        ? `Amazon Connect did not answer in time for ${resource}.`
        : `Amazon Connect failed to return ${resource} (${errorType}).`;
  }
}

function isTimeout(errorType: string): boolean {
  return errorType === "TimeoutError" || errorType === "RequestTimeout" || errorType === "AbortError";
}

/** A FORBIDDEN error that names the argument the caller may not use as it did; `message` says why. */
export function forbidden(argument: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.FORBIDDEN, argument } });
}

/** A BAD_USER_INPUT error that names the offending argument. */
export function badUserInput(argument: string, problem: string): GraphQLError {
  return new GraphQLError(`Argument "${argument}" ${problem}.`, {
    extensions: { code: ErrorCode.BAD_USER_INPUT, argument },
  });
}

/**
 * NOT_FOUND the gateway answers itself, with no upstream error to report (so no `extensions.upstream`):
 * `resource` (for people) is not in the account an ARN named, as Connect would answer for a resource
 * of another account.
 */
export function notInAccount(resource: string, accountId: string): GraphQLError {
  return new GraphQLError(`${resource} was not found in account ${accountId}.`, {
    extensions: { code: ErrorCode.NOT_FOUND },
  });
}
