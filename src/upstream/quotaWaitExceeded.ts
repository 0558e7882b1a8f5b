/**
 * A call refused because it would have waited longer than `CONNECT_MAX_WAIT_MS`: for its API's
 * quota (`QuotaLimiter`) or for a concurrency slot (`ConcurrencyPool`). It never reached Connect.
 * Its name is the one the error table (`domain/errors.ts`) maps to UPSTREAM_THROTTLED.
 */
export class QuotaWaitExceededError extends Error {
  override readonly name = "QuotaWaitExceeded";
}

/**
 * Observes one wait of a call for the API `api`: the seconds it waited (or, refused, would have had
 * to), and whether it was granted (the gateway's `connect_limiter_wait_seconds`).
 */
export type WaitObserver = (api: string, seconds: number, outcome: "acquired" | "rejected") => void;
