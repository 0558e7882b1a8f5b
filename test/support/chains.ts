import type { Contact } from "@aws-sdk/client-connect";
import { findContact, type Dataset } from "../../src/emulator/dataset.js";

/**
 * The transfer chain the emulator's data set holds behind contact `id` of `instanceId`, walking
 * `PreviousContactId`: the contact itself first, its initial contact last. The walk stops at a
 * previous contact the data set does not hold and at a contact already visited (a cycle), so it
 * always ends; an unknown `id` gives `[]`.
 */
export function chainBack(dataset: Dataset, instanceId: string, id: string): Contact[] {
  const chain: Contact[] = [];
  const seen = new Set<string>();
  for (let c = findContact(dataset, instanceId, id); c && !seen.has(c.Id!); c = c.PreviousContactId ? findContact(dataset, instanceId, c.PreviousContactId) : undefined) {
    seen.add(c.Id!);
    chain.push(c);
  }
  return chain;
}

/** The same chain in the order `Contact.transferChain` answers it: the initial contact first, contact `id` last. */
export function transferChainOf(dataset: Dataset, instanceId: string, id: string): Contact[] {
  return chainBack(dataset, instanceId, id).reverse();
}
