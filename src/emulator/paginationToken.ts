/**
 * Pagination tokens as the emulator writes them: an offset bound to the request that produced it,
 * so a token replayed with other parameters is refused (InvalidParameterException), as Connect does.
 */

/** The token for the page at `offset` of the request whose fingerprint is `binding`. */
export function encodePageToken(offset: number, binding: string): string {
  return Buffer.from(JSON.stringify([offset, binding])).toString("base64url");
}

/** The offset a token names, or undefined when it is malformed or bound to another request. */
export function decodePageToken(token: string, binding: string): number | undefined {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (!Array.isArray(decoded) || decoded[1] !== binding || typeof decoded[0] !== "number" || decoded[0] < 0) return undefined;
  return decoded[0];
}

/** FNV-1a of a request's parameters, to bind a pagination token to the request that produced it. */
export function requestFingerprint(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}
