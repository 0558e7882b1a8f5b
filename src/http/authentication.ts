import { readFileSync } from "node:fs";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GraphQLError } from "graphql";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
import type { Logger } from "pino";
import { ConfigError, type Config } from "../config/config.js";
import { ErrorCode } from "../domain/errors.js";
import { FULL_ACCESS, INSTANCES_CLAIM, instancesGranted, SCOPE_READ, type Principal } from "../domain/principal.js";
import { refuseRequest } from "./refuseRequest.js";

/** Why a request was refused before any GraphQL ran: the HTTP status, the code and a message. */
export class AuthError extends Error {
  override readonly name = "AuthError";
  constructor(
    readonly status: 401 | 403 | 503,
    readonly code: ErrorCode,
    message: string,
    /** The `WWW-Authenticate` challenge (RFC 6750), when the status calls for one. */
    readonly challenge?: string,
  ) {
    super(message);
  }
}

export interface Authenticator {
  /** The principal of a request, from its `Authorization` header; throws `AuthError`. */
  authenticate(authorization: string | undefined): Promise<Principal>;
}

/** Signature algorithms accepted with a JWKS; HS256 only with `AUTH_JWT_SECRET`. */
const ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];

type AuthConfig = Pick<
  Config,
  "AUTH_MODE" | "AUTH_JWT_SECRET" | "AUTH_JWKS_URL" | "AUTH_JWKS_FILE" | "AUTH_ISSUER" | "AUTH_AUDIENCE" | "AUTH_CLOCK_TOLERANCE_SECONDS"
>;

/**
 * Verifies bearer tokens with `jose`: HS256 against `AUTH_JWT_SECRET`, RS/PS/ES/EdDSA against the
 * keys of `AUTH_JWKS_URL` (fetched and cached by jose) or `AUTH_JWKS_FILE` (read once, here). When
 * both a secret and a key set are configured, the token's `alg` picks one. `exp` is required;
 * `iss` and `aud` are checked when `AUTH_ISSUER` / `AUTH_AUDIENCE` are set. A valid token must carry
 * the `contacts:read` scope. Throws `ConfigError` for an unreadable key set (a start-up failure).
 */
export function createAuthenticator(config: AuthConfig): Authenticator {
  if (config.AUTH_MODE === "none") return { authenticate: async () => FULL_ACCESS };

  const secret = config.AUTH_JWT_SECRET ? new TextEncoder().encode(config.AUTH_JWT_SECRET) : undefined;
  const jwks = keySet(config);
  if (!secret && !jwks) throw new ConfigError("AUTH_MODE=jwt needs AUTH_JWT_SECRET, AUTH_JWKS_URL or AUTH_JWKS_FILE.");
  const getKey: JWTVerifyGetKey = async (header, token) => {
    if (header.alg === "HS256" && secret) return secret;
    if (jwks && header.alg !== "HS256") return jwks(header, token);
    throw new joseErrors.JOSEAlgNotAllowed(`"alg" (Algorithm) Header Parameter value not allowed`);
  };
  const algorithms = [...(secret ? ["HS256"] : []), ...(jwks ? ASYMMETRIC_ALGORITHMS : [])];

  return {
    async authenticate(authorization) {
      const token = bearerToken(authorization);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          algorithms,
          requiredClaims: ["exp"],
          clockTolerance: config.AUTH_CLOCK_TOLERANCE_SECONDS ?? 0,
          ...(config.AUTH_ISSUER && { issuer: config.AUTH_ISSUER }),
          ...(config.AUTH_AUDIENCE && { audience: config.AUTH_AUDIENCE }),
        }));
      } catch (error) {
        throw tokenError(error);
      }
      return principalOf(payload, config.AUTH_CLOCK_TOLERANCE_SECONDS ?? 0);
    },
  };
}

/** The Authorization header's token, or AuthError for a missing header or another scheme. */
function bearerToken(authorization: string | undefined): string {
  if (!authorization) {
    throw new AuthError(401, ErrorCode.UNAUTHENTICATED, "Missing bearer token: send `Authorization: Bearer <JWT>`.", 'Bearer realm="connect-graphql"');
  }
  const match = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i.exec(authorization);
  if (!match) {
    throw new AuthError(401, ErrorCode.UNAUTHENTICATED, "The Authorization header must be `Bearer <JWT>`.", invalidToken("malformed Authorization header"));
  }
  return match[1]!;
}

// Private: jose's errors as client-facing reasons; none echoes the token or its claims' values.
function tokenError(error: unknown): AuthError {
  const reason =
    error instanceof joseErrors.JWTExpired
      ? "the token has expired"
      : error instanceof joseErrors.JWTClaimValidationFailed
        ? `its "${error.claim}" claim is not accepted`
        : error instanceof joseErrors.JWSSignatureVerificationFailed
          ? "its signature does not verify"
          : error instanceof joseErrors.JWKSNoMatchingKey
            ? "no configured key matches it"
            : error instanceof joseErrors.JOSEAlgNotAllowed || error instanceof joseErrors.JOSENotSupported
              ? "its signing algorithm is not accepted"
              : error instanceof joseErrors.JWKSTimeout ||
                  // ERR_JWKS_INVALID: not a key set; ERR_JOSE_GENERIC (the base class, which jose throws
                  // only when the JWKS URL answers other than 200 or not JSON: a proxy's 502/503).
                  (error instanceof joseErrors.JOSEError && (error.code === "ERR_JWKS_INVALID" || error.code === "ERR_JOSE_GENERIC"))
                ? undefined
                : error instanceof joseErrors.JOSEError
                  ? "it is not a well-formed signed JWT"
                  : undefined;
  if (reason === undefined) {
    // The key set could not be fetched or read: not the caller's fault, so not a 401.
    return new AuthError(503, ErrorCode.UPSTREAM_ERROR, "The gateway could not load the keys that verify bearer tokens; retry later.");
  }
  return new AuthError(401, ErrorCode.UNAUTHENTICATED, `Invalid bearer token: ${reason}.`, invalidToken(reason));
}

function invalidToken(description: string): string {
  return `Bearer realm="connect-graphql", error="invalid_token", error_description="${description.replace(/"/g, "'")}"`;
}

// Private: the claims the gateway reads. A token without `contacts:read` is refused outright (403);
// a missing `connect_instances` claim means no instance at all, so every field is FORBIDDEN.
function principalOf(payload: JWTPayload, clockToleranceSeconds: number): Principal {
  const scope = payload.scope;
  const scopes = new Set(typeof scope === "string" ? scope.split(" ").filter(Boolean) : Array.isArray(scope) ? scope.filter((s): s is string => typeof s === "string") : []);
  if (!scopes.has(SCOPE_READ)) {
    throw new AuthError(
      403,
      ErrorCode.FORBIDDEN,
      `The bearer token lacks the "${SCOPE_READ}" scope.`,
      `Bearer realm="connect-graphql", error="insufficient_scope", scope="${SCOPE_READ}"`,
    );
  }
  const claim = payload[INSTANCES_CLAIM];
  const listed = Array.isArray(claim) ? claim.filter((s): s is string => typeof s === "string") : typeof claim === "string" ? [claim] : [];
  return {
    ...(typeof payload.sub === "string" && { subject: payload.sub }),
    ...(typeof payload.client_id === "string" ? { clientId: payload.client_id } : typeof payload.azp === "string" && { clientId: payload.azp }),
    // The same tolerance as the check at connection time, so a subscription is not cut off
    // earlier than a query with the same token would be refused.
    ...(typeof payload.exp === "number" && { expiresAt: (payload.exp + clockToleranceSeconds) * 1000 }),
    scopes,
    instances: instancesGranted(listed),
  };
}

// Private: the JWKS of AUTH_JWKS_URL or AUTH_JWKS_FILE, if configured.
function keySet(config: AuthConfig): JWTVerifyGetKey | undefined {
  if (config.AUTH_JWKS_URL) return createRemoteJWKSet(new URL(config.AUTH_JWKS_URL));
  if (!config.AUTH_JWKS_FILE) return undefined;
  let jwks: JSONWebKeySet;
  try {
    jwks = JSON.parse(readFileSync(config.AUTH_JWKS_FILE, "utf8")) as JSONWebKeySet;
    return createLocalJWKSet(jwks);
  } catch (error) {
    throw new ConfigError(`AUTH_JWKS_FILE=${config.AUTH_JWKS_FILE} is not a readable JSON Web Key Set: ${error instanceof Error ? error.message : String(error)}`);
  }
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the auth hook on GraphQL requests; `null` where no authentication ran. */
    principal: Principal | null;
  }
}

/**
 * Authenticates every request to the GraphQL route before its body is read, so an unauthenticated
 * caller costs no parsing, no validation and no upstream call. Refusals are GraphQL-shaped:
 * `{"errors":[{"message":…,"extensions":{"code":"UNAUTHENTICATED"}}]}` with 401 (or 403 for a token
 * without `contacts:read`). CORS preflights and the GraphiQL page (HTML, no operation) are not
 * authenticated: neither carries data. WebSocket upgrades are authenticated by the WebSocket
 * transport instead, from `connection_init` (browsers cannot set headers on an upgrade).
 */
export function registerAuth(app: FastifyInstance, authenticator: Authenticator, logger: Logger, paths: readonly string[] = ["/graphql"]): void {
  app.decorateRequest("principal", null);
  app.addHook("onRequest", async (request, reply) => {
    if (!paths.includes(request.routeOptions.url ?? "") || request.method === "OPTIONS" || isLandingPageRequest(request) || isWebSocketUpgrade(request)) return;
    try {
      request.principal = await authenticator.authenticate(request.headers.authorization);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      logger.info({ requestId: request.id, status: error.status, code: error.code }, "request refused by authentication");
      return sendAuthError(reply, error);
    }
  });
}

/** The principal the auth hook set, or `FULL_ACCESS` when authentication is off. */
export function requestPrincipal(request: FastifyRequest, authMode: Config["AUTH_MODE"]): Principal {
  if (authMode === "none") return FULL_ACCESS;
  if (request.principal) return request.principal;
  // Only reachable if a route skipped the hook: refuse rather than serve unauthenticated.
  throw new GraphQLError("Missing bearer token.", { extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } } });
}

function sendAuthError(reply: FastifyReply, error: AuthError): FastifyReply {
  if (error.challenge) void reply.header("www-authenticate", error.challenge);
  return refuseRequest(reply, error.status, error.message, error.code);
}

/**
 * Whether `request` is a connection upgrade: Node parsed it as one (`Connection: upgrade` with an
 * `Upgrade` header) and @fastify/websocket routed it from the server's `upgrade` event, so its
 * socket is no longer an HTTP connection's. Not the `Upgrade` header alone: any request can carry
 * that, and one that is not an upgrade is an ordinary request, to be authenticated as one.
 */
export function isUpgrade(request: FastifyRequest): boolean {
  // Set by Node's HTTP parser on an upgrade (not in its type declarations).
  return (request.raw as { upgrade?: boolean }).upgrade === true;
}

/**
 * Whether `request` asks to become a WebSocket, which the WebSocket transport authenticates (from
 * `connection_init`) instead of the hooks: a real upgrade (`isUpgrade`), by GET, to `websocket`.
 * The hooks that skip such requests (authentication, trusted documents, the response cache) did so
 * on the header alone, and a plain POST with `Upgrade: websocket` bypassed trusted documents.
 */
export function isWebSocketUpgrade(request: FastifyRequest): boolean {
  return isUpgrade(request) && request.method === "GET" && (request.headers.upgrade ?? "").toLowerCase() === "websocket";
}

function isLandingPageRequest(request: FastifyRequest): boolean {
  const query = request.query as Record<string, unknown> | undefined;
  return request.method === "GET" && !query?.query && !query?.extensions && (request.headers.accept ?? "").includes("text/html");
}
