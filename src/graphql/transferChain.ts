import type DataLoader from "dataloader";
import { GraphQLError } from "graphql";
import { relatedRef, type ContactModel, type ContactRef } from "../domain/contactRef.js";
import { ErrorCode } from "../domain/errors.js";

/**
 * The transfer history of `contact`: every contact from the initial one to `contact`, oldest first,
 * found by following `previousContactId` within the contact's region and instance.
 *
 * - Each earlier contact is read through `loader`, so a contact the same request already read (as a
 *   `previousContact`, an `initialContact`, another chain) costs nothing more. The walk is
 *   sequential: only a contact's own answer names the one before it.
 * - At most `maxHops` steps back (`MAX_CONTACT_HOPS`): a longer chain fails with
 *   UPSTREAM_BUDGET_EXCEEDED after `maxHops` reads rather than returning a history with a
 *   silent gap.
 * - A cycle in the data (a contact reached twice) ends the chain before the repeat: every contact
 *   appears once.
 * - A previous contact Connect no longer knows (not found: past its 24-month retention) ends the
 *   chain at the oldest contact that could be read. Any other failure fails the field.
 */
export async function transferChain(
  contact: ContactModel,
  loader: Pick<DataLoader<ContactRef, ContactModel, string>, "load">,
  maxHops: number,
): Promise<ContactModel[]> {
  const chain: ContactModel[] = [contact];
  const seen = new Set<string>([contact.id ?? contact.$ref.contactId]);
  let current = contact;
  for (let hops = 0; ; hops++) {
    const ref = relatedRef(current.$ref, current.previousContactId);
    if (!ref || seen.has(ref.contactId)) break;
    if (hops >= maxHops) {
      throw new GraphQLError(
        `The transfer chain of contact ${contact.$ref.contactId} is longer than ${maxHops} transfers (MAX_CONTACT_HOPS); query its older contacts from contact ${current.$ref.contactId} on.`,
        { extensions: { code: ErrorCode.UPSTREAM_BUDGET_EXCEEDED, limit: "MAX_CONTACT_HOPS", max: maxHops } },
      );
    }
    let previous: ContactModel;
    try {
      previous = await loader.load(ref);
    } catch (error) {
      if (error instanceof GraphQLError && error.extensions.code === ErrorCode.NOT_FOUND) break;
      throw error;
    }
    seen.add(ref.contactId);
    chain.push(previous);
    current = previous;
  }
  return chain.reverse();
}
