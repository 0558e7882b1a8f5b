import { GraphQLError } from "graphql";
import { ErrorCode } from "../domain/errors.js";
import type { Principal } from "../domain/principal.js";
import { assertInstanceReadable } from "./instanceAuthorization.js";
import type { UpstreamRead } from "./loaders.js";

/**
 * The loaders' `beforeRead` for one operation: the caller must be allowed the instance read (a
 * second line behind the root-field check), then the read is charged to the operation's budget.
 */
export function upstreamGuard(principal: Principal, maxUpstreamReads: number): (read: UpstreamRead) => void {
  const budget = createUpstreamBudget(maxUpstreamReads);
  return (read) => {
    assertInstanceReadable(principal, read.instanceId);
    budget.charge(read);
  };
}

/**
 * The upstream budget of one operation: at most `max` upstream reads, whatever the API: each
 * DescribeContact, DescribeQueue, DescribeUser and GetContactAttributes, each ListContactReferences
 * page and each SearchContacts page. The loaders charge each distinct read once (DataLoader
 * de-duplicates within the operation), before it goes out. Reads served from a cache are charged
 * too, so whether an operation fits does not depend on what happens to be cached. Past the budget,
 * each further read fails with UPSTREAM_BUDGET_EXCEEDED and no call goes out; what was already read
 * is returned. Use `charge` (through `upstreamGuard`) as the loaders' `beforeRead`.
 */
export function createUpstreamBudget(max: number): { charge(read: UpstreamRead): void; readonly used: number } {
  return new UpstreamBudget(max);
}

// Private: one operation's budget. A class rather than a literal with a `used` getter, whose accessor
// pair V8 would allocate in old space once per operation (see `DescribedRead` in loaders.ts).
class UpstreamBudget {
  #used = 0;

  constructor(private readonly max: number) {}

  get used(): number {
    return this.#used;
  }

  /** Charges one read; a field holding an arrow function, so it may be passed around unbound. */
  readonly charge = (read: UpstreamRead): void => {
    const max = this.max;
    if (this.#used >= max) {
      throw new GraphQLError(
        `${read.resource} was not read (${read.api}): this operation reached its limit of ${max} upstream reads (MAX_UPSTREAM_READS), which counts every Connect API, cache hits included. Split the query or select fewer relations and joins.`,
        { extensions: { code: ErrorCode.UPSTREAM_BUDGET_EXCEEDED, limit: "MAX_UPSTREAM_READS", max, api: read.api } },
      );
    }
    this.#used += 1;
  };
}
