/**
 * Walks the SDK's runtime schemas (`Contact$` and the others `@aws-sdk/client-connect` ships). They
 * are tuple trees: `[kind, namespace, name, traits, memberNames, memberSchemas]` for structures (3)
 * and unions (4), `[1, ns, name, traits, member]` for lists, `[2, ns, name, traits, key, value]` for
 * maps, `[0, ns, name, traits, code]` for a named simple type (a sensitive string, say); plain
 * numbers for simple types (0 string, 1 number, 2 boolean, 4–7 timestamps, 64 | x a list of them,
 * 128 | x a map of them); thunks anywhere, and a member's schema with member traits is wrapped as
 * `[schema, traits]`. The gateway builds its models from them (`graphqlModel`); the schema's
 * coverage spec and the benchmark's richness check walk them with `sdkMemberPaths`.
 */

/**
 * The schema itself: thunks called, member traits unwrapped. A simple type is its number (a named
 * one too: its code); anything else is its tuple.
 */
export function resolveSdkSchema(schema: unknown): number | readonly unknown[] {
  let value = schema;
  while (typeof value === "function") value = (value as () => unknown)();
  if (Array.isArray(value) && value.length === 2 && (typeof value[0] === "function" || Array.isArray(value[0]) || typeof value[0] === "number")) {
    return resolveSdkSchema(value[0]);
  }
  if (Array.isArray(value) && value[0] === 0) return value[4] as number;
  if (typeof value === "number" || Array.isArray(value)) return value;
  return 0;
}

/** One member path of a shape: `["AgentInfo", "Id"]` under `Contact$`, and the member's schema. */
export interface SdkMemberPath {
  readonly path: readonly string[];
  readonly member: string;
  readonly schema: number | readonly unknown[];
}

/**
 * Every member path of `root`, following nested structures, lists and maps (a path inside a list or
 * a map goes on with the element's or the value's members); a recursive structure (expressions,
 * segment attribute values) is followed until it repeats on its own path.
 */
export function sdkMemberPaths(root: unknown): SdkMemberPath[] {
  const out: SdkMemberPath[] = [];
  const visit = (s: unknown, path: readonly string[], ancestors: readonly string[]) => {
    const r = resolveSdkSchema(s);
    if (typeof r === "number") return;
    const [kind, , name] = r as [number, string, string];
    if (kind === 1) return visit(r[4], path, ancestors);
    if (kind === 2) return visit(r[5], path, ancestors);
    if (ancestors.includes(name)) return;
    const names = r[4] as string[];
    const schemas = r[5] as unknown[];
    names.forEach((member, i) => {
      out.push({ path: [...path, member], member, schema: resolveSdkSchema(schemas[i]) });
      visit(schemas[i], [...path, member], [...ancestors, name]);
    });
  };
  visit(root, [], []);
  return out;
}
