/**
 * How rich a contact is: the share of the member paths of the SDK's `Contact` shape (from
 * `@aws-sdk/client-connect`'s runtime schema `Contact$`, walked as test/graphql/schemaCoverage.test.ts
 * walks it) that hold a value in a contact as Connect's wire JSON carries it. A path inside a list
 * or a map counts as populated when any element or value holds it.
 */
import { Contact$ } from "@aws-sdk/client-connect";
import { sdkMemberPaths } from "../src/domain/sdkMemberPaths.js";

/** One member path: `Contact.AgentInfo.Id` is `["AgentInfo", "Id"]`. */
export type MemberPath = readonly string[];

/**
 * Every member path of `Contact$`, following nested structures, lists and maps; a recursive
 * structure (expressions) is followed until it repeats on its own path.
 */
export function contactMemberPaths(): MemberPath[] {
  return sdkMemberPaths(Contact$).map((p) => p.path);
}

let cached: MemberPath[] | undefined;

/**
 * The member paths of `Contact$` populated in `contact` (the `Contact` of a DescribeContact
 * answer, parsed), over all of them. Maps are walked through their values.
 */
export function coverage(contact: unknown): { populated: number; paths: number; missing: string[] } {
  const paths = (cached ??= contactMemberPaths());
  const missing: string[] = [];
  for (const path of paths) if (!holdsThroughMaps(contact, path)) missing.push(path.join("."));
  return { populated: paths.length - missing.length, paths: paths.length, missing };
}

// Private: like `holds`, but when a member is absent from an object that is a map (no member of the
// shape's own names), looks inside each of its values.
function holdsThroughMaps(value: unknown, path: readonly string[], i = 0): boolean {
  if (value === undefined || value === null) return false;
  if (Array.isArray(value)) return value.some((v) => holdsThroughMaps(v, path, i));
  if (i === path.length) return typeof value !== "object" || Object.keys(value as object).length > 0;
  if (typeof value !== "object") return false;
  const o = value as Record<string, unknown>;
  if (Object.hasOwn(o, path[i]!)) return holdsThroughMaps(o[path[i]!], path, i + 1);
  return i > 0 && isMapLike(o) && Object.values(o).some((v) => holdsThroughMaps(v, path, i));
}

function isMapLike(o: Record<string, unknown>): boolean {
  // Structures' members are PascalCase; a map's keys are data (ids, names, anything).
  return Object.keys(o).some((k) => !/^[A-Z]/.test(k));
}
