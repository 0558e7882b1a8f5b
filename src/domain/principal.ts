import { idProblem, INSTANCE_ID_MAX } from "./contactRef.js";

/**
 * The caller as every layer sees it: who it is, its scopes, the instances it may read. Made by
 * `http/authentication.ts` from the bearer token, read by authorization and redaction.
 */

/**
 * Who is calling, and what they may read. Built once per HTTP request from the bearer token (or
 * `FULL_ACCESS` when `AUTH_MODE=none`) and carried in the GraphQL context.
 */
export interface Principal {
  /** The token's `sub`, if any. Never logged: some identity providers put an e-mail address there. */
  readonly subject?: string;
  /**
   * The token's client id (`client_id`, else `azp`), if any: names the calling application when the
   * token has no `sub` (some client-credentials tokens). Never logged either.
   */
  readonly clientId?: string;
  /** The token's scopes (`scope`, space-separated). */
  readonly scopes: ReadonlySet<string>;
  /** Instance ids the caller may read (the `connect_instances` claim); `"*"` for every instance. */
  readonly instances: "*" | ReadonlySet<string>;
  /**
   * When the token stops being valid (its `exp`, epoch ms); absent without a token. A subscription
   * outlives the request that opened it, so every event it delivers checks this again.
   */
  readonly expiresAt?: number;
}

/** Whether the caller's token has expired by `now` (epoch ms); never without a token. */
export function hasExpired(principal: Principal, now = Date.now()): boolean {
  return principal.expiresAt !== undefined && now >= principal.expiresAt;
}

/** Needed for any read. */
export const SCOPE_READ = "contacts:read";
/** Needed to see personal fields unmasked (see `redaction.ts`). */
export const SCOPE_PII = "contacts:pii";
/** The claim listing readable instance ids. */
export const INSTANCES_CLAIM = "connect_instances";

/** `AUTH_MODE=none`: no token, every instance, personal fields unmasked. */
export const FULL_ACCESS: Principal = Object.freeze({
  scopes: new Set([SCOPE_READ, SCOPE_PII]),
  instances: "*",
});

/** Whether the caller may read `instance` (an instance id, or an ARN naming the instance). */
export function canReadInstance(principal: Principal, instance: string): boolean {
  return principal.instances === "*" || principal.instances.has(instanceIdOf(instance));
}

/**
 * The instance id in an instance or contact ARN (`arn:…:instance/{id}[/…]`), or the value itself.
 * Instance ids are UUIDs, unique across regions and accounts, so the id alone identifies it.
 */
export function instanceIdOf(value: string): string {
  const match = /^arn:[^:]*:connect:[^:]*:[^:]*:instance\/([^/]+)/.exec(value);
  return match ? match[1]! : value;
}

/**
 * The instances a token's `connect_instances` entries grant: every instance for the literal `"*"`
 * alone; else the instance id of each entry that is an instance id or an ARN naming one. An entry
 * that names no valid instance id grants nothing: an IAM-style wildcard such as
 * `arn:aws:connect:…:instance/*` is not a wildcard here (it would grant every instance of every
 * account and region), and a malformed entry cannot match a request by accident.
 */
export function instancesGranted(entries: readonly string[]): "*" | ReadonlySet<string> {
  if (entries.includes("*")) return "*";
  const ids = new Set<string>();
  for (const entry of entries) {
    const id = instanceIdOf(entry);
    if (idProblem(id, INSTANCE_ID_MAX) === null) ids.add(id);
  }
  return ids;
}

export function canSeePii(principal: Principal): boolean {
  return principal.scopes.has(SCOPE_PII);
}

const accessKeys = new WeakMap<Principal, string>();

/**
 * What a GraphQL result may depend on of its caller, as a string: whether it sees `@pii` fields
 * unmasked, and the instances it may read. Two principals with the same key get the same result for
 * the same operation whoever their subject (nothing in a result names it), so the response cache and
 * shared subscription executions scope what they share by it. Memoized per principal (one per
 * request or connection).
 */
export function accessKey(principal: Principal): string {
  let key = accessKeys.get(principal);
  if (key === undefined) {
    key = JSON.stringify([canSeePii(principal), principal.instances === "*" ? "*" : [...principal.instances].sort()]);
    accessKeys.set(principal, key);
  }
  return key;
}
