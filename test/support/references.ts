import type { ReferenceSummary } from "@aws-sdk/client-connect";

/**
 * The groups `Contact.references` reads every reference type in by default, as its contract says:
 * the types sorted, at most six a call (ListContactReferences' limit).
 */
export const DEFAULT_REFERENCE_TYPE_GROUPS = [
  ["ATTACHMENT", "CONTACT_ANALYSIS", "DATE", "EMAIL", "EMAIL_MESSAGE", "EMAIL_MESSAGE_PLAIN_TEXT"],
  ["EMAIL_MESSAGE_PLAIN_TEXT_REDACTED", "EMAIL_MESSAGE_REDACTED", "NUMBER", "STRING", "URL"],
] as const;

/** A reference's type: its union member's name in upper snake case (`EmailMessage` → `EMAIL_MESSAGE`). */
export function referenceTypeOf(reference: ReferenceSummary): string {
  return Object.keys(reference)[0]!.replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

/**
 * The ListContactReferences calls that list `references` by every type: per group, one call per
 * page of `pageSize` (the emulator's: 3), and one for a group with none.
 */
export function defaultReferenceCalls(references: readonly ReferenceSummary[], pageSize = 3): number {
  return DEFAULT_REFERENCE_TYPE_GROUPS.reduce((calls, group) => {
    const listed = references.filter((r) => (group as readonly string[]).includes(referenceTypeOf(r))).length;
    return calls + Math.max(1, Math.ceil(listed / pageSize));
  }, 0);
}
