/**
 * SigV4 as the emulator checks it: a request must carry an `Authorization` header of SigV4's shape,
 * scoped to the service it calls, as AWS refuses unsigned requests before anything else. The
 * signature itself is not verified, so any credentials work; clients use `EMULATOR_CREDENTIALS`.
 */

/** Static credentials for clients of the emulator (it checks that a SigV4 header is present, not the signature). */
export const EMULATOR_CREDENTIALS = { accessKeyId: "AKIAEMULATOR00000000", secretAccessKey: "emulator-secret-access-key-not-a-secret" } as const;

/** Why a request is refused (HTTP 403); each API writes it in its own protocol's error shape. */
export interface AuthRefusal {
  code: "MissingAuthenticationTokenException" | "IncompleteSignatureException" | "InvalidSignatureException";
  message: string;
}

/** The refusal for `header` on a request to `service` (`connect`, `sqs`), or undefined when it passes. */
export function checkAuthorization(header: string | undefined, service: string): AuthRefusal | undefined {
  if (!header) return { code: "MissingAuthenticationTokenException", message: "Missing Authentication Token" };
  if (!header.startsWith("AWS4-HMAC-SHA256 ") || !header.includes("Credential=") || !header.includes("Signature=")) {
    return { code: "IncompleteSignatureException", message: "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters (AWS4-HMAC-SHA256)." };
  }
  const scope = /Credential=[^/,]+\/\d{8}\/[^/,]+\/([^/,]+)\/aws4_request/.exec(header);
  if (!scope) return { code: "IncompleteSignatureException", message: "Authorization header has a malformed Credential scope." };
  if (scope[1] !== service) return { code: "InvalidSignatureException", message: `Credential should be scoped to correct service: '${service}', not '${scope[1]}'.` };
  return undefined;
}

/** The region of a SigV4 `Authorization` header's credential scope, if it has one. */
export function credentialRegion(header: string | undefined): string | undefined {
  const region = header ? /Credential=[^/,]+\/\d{8}\/([a-z0-9-]{1,32})\//.exec(header)?.[1] : undefined;
  return region !== undefined && /^[a-z]{2}(?:-[a-z]+)+-\d+$/.test(region) ? region : undefined;
}
