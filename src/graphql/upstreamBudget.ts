import { GraphQLError } from "graphql";
import { describeRef, type ContactRef } from "../domain/contactRef.js";
import { ErrorCode } from "../domain/errors.js";
import type { Principal } from "../domain/principal.js";
import { assertInstanceReadable } from "./instanceAuthorization.js";

/**
 * The contact loader's `beforeFetch` for one operation: the caller must be allowed the contact's
 * instance (a second line behind the root-field check), then the contact is charged to the budget.
 */
export function upstreamGuard(principal: Principal, maxUpstreamCalls: number): (ref: ContactRef) => void {
  const budget = createUpstreamBudget(maxUpstreamCalls);
  return (ref) => {
    assertInstanceReadable(principal, ref.instanceId);
    budget.charge(ref);
  };
}

/**
 * The upstream budget of one operation: at most `max` distinct contacts read (DataLoader already
 * de-duplicates, so each key is charged once). Contacts served from the cache are charged too, so
 * whether an operation fits does not depend on what happens to be cached. Past the budget, each
 * further contact field fails with UPSTREAM_BUDGET_EXCEEDED and no call goes out; the contacts
 * already read are returned. Use `charge` as the loaders' `beforeFetch`.
 */
export function createUpstreamBudget(max: number): { charge(ref: ContactRef): void; readonly used: number } {
  let used = 0;
  return {
    charge(ref) {
      if (used >= max) {
        throw new GraphQLError(
          `${describeRef(ref)} was not read: this operation reached its limit of ${max} distinct contacts (MAX_UPSTREAM_CALLS). Split the query or ask for fewer relations.`,
          { extensions: { code: ErrorCode.UPSTREAM_BUDGET_EXCEEDED, limit: "MAX_UPSTREAM_CALLS", max } },
        );
      }
      used += 1;
    },
    get used() {
      return used;
    },
  };
}
