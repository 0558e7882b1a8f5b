import { ReferenceType } from "@aws-sdk/client-connect";
import { badUserInput } from "../domain/errors.js";

/** Every reference type the SDK knows: what `Contact.references` lists when not told otherwise. */
export const ALL_REFERENCE_TYPES: readonly string[] = Object.values(ReferenceType).sort();

/** Reference types are upper-case words; one Connect adds later passes, anything else is refused. */
const REFERENCE_TYPE = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * The `referenceTypes` argument as ListContactReferences takes it: validated (a bad value costs no
 * call), de-duplicated and sorted, so the same set asked twice in one request is read once.
 */
export function referenceTypesArgument(value: readonly string[] | null | undefined): string[] {
  if (value == null) return [...ALL_REFERENCE_TYPES];
  if (value.length === 0) throw badUserInput("referenceTypes", "must name at least one type");
  value.forEach((type, i) => {
    if (!REFERENCE_TYPE.test(type)) throw badUserInput(`referenceTypes[${i}]`, `must be a reference type such as URL or ATTACHMENT (got ${JSON.stringify(type.slice(0, 40))})`);
  });
  return [...new Set(value)].sort();
}

/**
 * The most reference types one ListContactReferences call takes: Connect's API reference gives its
 * `ReferenceTypes` "Array Members: Maximum number of 6 items", and refuses more as invalid.
 */
export const REFERENCE_TYPES_PER_CALL = 6;

/**
 * `types` (as `referenceTypesArgument` made them) in the groups the calls take, in order, at most
 * `REFERENCE_TYPES_PER_CALL` each: the default list of every type is two calls' worth.
 */
export function referenceTypeGroups(types: readonly string[]): string[][] {
  const groups: string[][] = [];
  for (let i = 0; i < types.length; i += REFERENCE_TYPES_PER_CALL) groups.push(types.slice(i, i + REFERENCE_TYPES_PER_CALL));
  return groups;
}

/**
 * The type of a reference: the one member the union sets (`EmailMessagePlainText` →
 * `EMAIL_MESSAGE_PLAIN_TEXT`), or the wire name of a member the SDK does not know yet.
 */
export function referenceTypeOf(summary: object): string {
  const unknown = (summary as { $unknown?: [string, unknown] }).$unknown;
  const member = unknown?.[0] ?? Object.keys(summary).find((key) => (summary as Record<string, unknown>)[key] !== undefined) ?? "";
  return member.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}
