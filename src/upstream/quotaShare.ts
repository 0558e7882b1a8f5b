import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import type { Principal } from "../domain/principal.js";

/**
 * Who a Connect call is made for, as the quota limiters and the concurrency pool share them out:
 * each share gets a fair part of a quota while several compete for it, and all of it alone (see
 * `QuotaLimiter`). A share key names no one: it appears in Redis keys, and may in logs and metrics.
 */

/** Calls made outside any GraphQL request: the event relay's refreshes of changed contacts, start-up checks. */
export const SYSTEM_SHARE = "system";

/** Every caller without an identity (`AUTH_MODE=none`, or a token with neither `sub` nor a client id): one share together. */
export const ANONYMOUS_SHARE = "anonymous";

/**
 * The quota share of `principal`: its token's subject, else its client id, hashed (SHA-256, the
 * first 64 bits in hex, prefixed `p:`) so no subject (some identity providers put an e-mail address
 * there) reaches Redis, a log line or a metric label; callers without either share `anonymous`.
 * Two replicas compute the same key for one principal, so the share holds across replicas.
 */
export function quotaShareOf(principal: Principal): string {
  const identity = principal.subject !== undefined ? `sub:${principal.subject}` : principal.clientId !== undefined ? `client:${principal.clientId}` : undefined;
  if (identity === undefined) return ANONYMOUS_SHARE;
  let share = shares.get(identity);
  if (share === undefined) {
    share = `p:${createHash("sha256").update(identity).digest("hex").slice(0, 16)}`;
    shares.set(identity, share);
  }
  return share;
}

// Private: recent callers' shares, so a caller's requests hash its identity once, not each time.
const shares = new LRUCache<string, string>({ max: 10_000 });
