import type { IncomingMessage } from "node:http";

/** The largest request body the emulator reads (Connect's and SQS's own limits are about this size). */
export const MAX_BODY_BYTES = 1 << 20;

/** Reads a request body up to MAX_BODY_BYTES; `undefined` when it is larger (the rest is drained). */
export function readBody(req: IncomingMessage, done: (body: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk);
  });
  req.on("end", () => done(tooLarge ? undefined : Buffer.concat(chunks)));
}

/** A body parsed as JSON: an empty body is `{}`, unparsable or too large is `undefined`. */
export function parseJsonBody(body: Buffer | undefined): unknown {
  if (body === undefined) return undefined;
  try {
    return body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
  } catch {
    return undefined;
  }
}
