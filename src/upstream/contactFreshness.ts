import type { ContactModel } from "../domain/contactRef.js";
import type { FreshnessPolicy } from "./tieredCache.js";

/**
 * How long contacts are cached. Connect keeps changing a contact while it is in progress (queue,
 * agent, timestamps) and during after-contact work; once both are over it changes rarely (tags,
 * evaluations), so it is kept much longer.
 */
export interface ContactTtls {
  /** A finished contact: disconnected, after-contact work (if any) ended (`CACHE_TTL_SECONDS`). 0 turns the cache off. */
  ttlSeconds: number;
  /** A contact in progress or in after-contact work (`CACHE_ACTIVE_TTL_SECONDS`); 0 never caches it. */
  activeTtlSeconds: number;
  /** A contact id Connect answered ResourceNotFoundException for (`CACHE_NEGATIVE_TTL_SECONDS`); 0 never caches it. */
  negativeTtlSeconds: number;
}

/** Seconds `contact` may be served from cache: the finished TTL once it is over, else the active one. */
export function contactTtlSeconds(contact: ContactModel, ttls: ContactTtls): number {
  const agent = contact.agentInfo;
  const inAfterContactWork = agent?.afterContactWorkStartTimestamp !== undefined && agent.afterContactWorkEndTimestamp === undefined;
  return contact.disconnectTimestamp !== undefined && !inAfterContactWork ? ttls.ttlSeconds : ttls.activeTtlSeconds;
}

/** The contact cache's policy: `contactTtlSeconds`, the negative TTL, and off when `CACHE_TTL_SECONDS` is 0. */
export function contactFreshness(ttls: ContactTtls): FreshnessPolicy<ContactModel> {
  return {
    ttlSeconds: (contact) => contactTtlSeconds(contact, ttls),
    negativeTtlSeconds: ttls.negativeTtlSeconds,
    enabled: ttls.ttlSeconds > 0,
  };
}
