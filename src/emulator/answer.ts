import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";

/**
 * One HTTP answer of the emulator, built by an API's handler and written by `sendAnswer`. Connect's
 * errors carry their code in `x-amzn-errortype` (`errorType`); other protocols set `headers`.
 */
export interface Answer {
  status: number;
  body: Buffer | string;
  errorType?: string;
  /** Default `application/json` (Connect's REST-JSON). */
  contentType?: string;
  headers?: Record<string, string>;
}

/** A Connect error: status, `x-amzn-errortype` and a `{"Message": ...}` body, as restJson1 has it. */
export function connectError(status: number, errorType: string, message: string): Answer {
  return { status, errorType, body: JSON.stringify({ Message: message }) };
}

export const invalidParameter = (message: string): Answer => connectError(400, "InvalidParameterException", message);
export const notFound = (message: string): Answer => connectError(404, "ResourceNotFoundException", message);

/** Writes `answer` with `x-amzn-requestid`, as AWS does on every answer; a closed response is left alone. */
export function sendAnswer(res: ServerResponse, answer: Answer): void {
  if (res.destroyed || res.headersSent) return;
  const body = answer.body;
  const headers: Record<string, string | number> = {
    "content-type": answer.contentType ?? "application/json",
    "content-length": typeof body === "string" ? Buffer.byteLength(body) : body.length,
    "x-amzn-requestid": randomUUID(),
    ...answer.headers,
  };
  if (answer.errorType) headers["x-amzn-errortype"] = answer.errorType;
  res.writeHead(answer.status, headers);
  res.end(body);
}
