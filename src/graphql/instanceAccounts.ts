import type { GraphQLError } from "graphql";
import { arnAccount } from "../domain/contactRef.js";
import { notInAccount } from "../domain/errors.js";

/** Where a read goes, and the account of the ARN that named it, if one did. */
export interface AccountPlace {
  readonly region: string;
  readonly instanceId: string;
  readonly accountId?: string | undefined;
}

/**
 * Most instances one gateway remembers the account of. Only Connect's answers teach it, so it holds
 * at most the instances the gateway's AWS identity can read (a handful); the bound is insurance.
 */
const MAX_INSTANCES = 1024;

/**
 * Holds ARN-named reads to the account their ARN names. The gateway sends Connect ids, never ARNs,
 * so Connect answers from the gateway's own account whatever account an ARN spelled; a resource is
 * of the ARN's account only if Connect's answer says so (every ARN in an answer carries its
 * account). `check` compares them after a read (cached or not), and learns the instance's account;
 * once an answer has told it, `refuse` turns away an ARN of another account before any read. An
 * instance lives in one account, so what an answer tells holds for the process's life.
 *
 * One per gateway, shared by all its requests (`ContextSources.accounts`). Keyed by region, then
 * instance id: a lookup allocates nothing.
 */
export class InstanceAccounts {
  readonly #byRegion = new Map<string, Map<string, string>>();
  #size = 0;

  /** The account an answer said the instance at `place` is in, if one did. */
  accountOf(place: AccountPlace): string | undefined {
    return this.#byRegion.get(place.region)?.get(place.instanceId);
  }

  /**
   * NOT_FOUND for `resource` when `place` names an account and an answer already said its instance is
   * in another: the read would only be refused after it was made. `undefined` otherwise.
   */
  refuse(place: AccountPlace, resource: () => string): GraphQLError | undefined {
    const { accountId } = place;
    if (accountId === undefined) return undefined;
    const known = this.accountOf(place);
    return known === undefined || known === accountId ? undefined : notInAccount(resource(), accountId);
  }

  /**
   * Learns the account of `arn`, the ARN of something Connect answered for the instance at `place`;
   * NOT_FOUND for `resource` when `place` names another account. An answer without an ARN (Connect
   * always sends one; some test doubles do not) tells nothing and passes.
   */
  check(place: AccountPlace, arn: unknown, resource: () => string): GraphQLError | undefined {
    const known = this.accountOf(place);
    const account = known !== undefined && place.accountId === undefined ? known : arnAccount(arn);
    if (account === undefined) return undefined;
    if (known === undefined) this.#learn(place, account);
    const { accountId } = place;
    return accountId === undefined || accountId === account ? undefined : notInAccount(resource(), accountId);
  }

  // Private: remembers the account of `place`'s instance, up to `MAX_INSTANCES` instances.
  #learn(place: AccountPlace, account: string): void {
    if (this.#size >= MAX_INSTANCES) return;
    let instances = this.#byRegion.get(place.region);
    if (!instances) this.#byRegion.set(place.region, (instances = new Map()));
    instances.set(place.instanceId, account);
    this.#size++;
  }
}
