import { resolveSdkSchema } from "./sdkMemberPaths.js";

/**
 * Turns one of Connect's answers into the model resolvers read: the GraphQL shape of schema.graphql,
 * whose fields graphql-js's default resolver (and graphql-jit's inlined reads) take straight off the
 * object, with no resolver function per field.
 *
 * `graphqlModel(Contact$)` compiles, once per SDK shape, a converter from the SDK's own runtime
 * schema (the tuple tree `@aws-sdk/client-connect` ships: `Contact$`, `Queue$`, `User$`, …), so the
 * model follows every member the SDK knows, and the rules are the ones schema.graphql applies to the
 * SDK (checked member by member by test/graphql/schemaCoverage.test.ts):
 * - member `QueueInfo` is field `queueInfo` (first letter lower-cased), at every depth;
 * - timestamps are ISO 8601 strings in UTC to the millisecond (`2026-11-29T05:40:01.123Z`, what
 *   `Date#toISOString` makes and the `DateTime` scalar serves), from Connect's epoch seconds exactly
 *   as the SDK reads them (`Math.round(seconds × 1000)`), from ISO strings, or from `Date`s (an
 *   answer the SDK parsed). Rendered once per answer here rather than once per response: a `Date`
 *   in a result makes `JSON.stringify` call its `toJSON` every time (a 45-field response with 20
 *   timestamps took 33 µs to stringify with `Date`s, 6 µs with strings);
 * - maps are `{ key, value }` entry lists in the order upstream sent them (`tags`, `attributes`, …);
 * - lists element by element; strings (unknown enum values included), numbers (64-bit ones as JSON
 *   numbers, as the SDK reads them) and booleans as they are;
 * - members the SDK does not know yet are kept under the same naming rule, untouched: nothing reads
 *   them until the schema has a field for them, and the cached answer keeps them regardless;
 * - absent and `null` members are left out (the field resolves to null).
 *
 * Accepts both the answer's JSON (what `ConnectUpstream` keeps) and an SDK-parsed object (what a
 * test's upstream returns), so every source of a contact yields the same model.
 */
export type ToModel = (answer: unknown) => unknown;

/** The converter for `sdkSchema` (e.g. `Contact$`), compiled on first use and memoized per shape. */
export function graphqlModel(sdkSchema: unknown): ToModel {
  return compile(sdkSchema);
}

/** The GraphQL field name of an SDK member: `QueueInfo` → `queueInfo`. */
export function fieldNameOf(member: string): string {
  return member.charAt(0).toLowerCase() + member.slice(1);
}

// The SDK's simple-type codes (@smithy/core's schema sentinels).
const TIMESTAMP_CODES = new Set([4, 5, 6, 7]);
const LIST_MODIFIER = 64;
const MAP_MODIFIER = 128;

const compiled = new WeakMap<object, ToModel>();
const EPOCH_STRING = /^-?\d+(\.\d+)?$/;

// Private: a (possibly recursive) schema to its converter. A structure is registered before its
// members are compiled, so a shape that contains itself (expressions, segment attribute values)
// reuses the converter being built.
function compile(schema: unknown): ToModel {
  const resolved = resolveSdkSchema(schema);
  if (typeof resolved === "number") return simple(resolved);
  const known = compiled.get(resolved);
  if (known) return known;
  let impl: ToModel = identity;
  const convert: ToModel = (value) => impl(value);
  compiled.set(resolved, convert);
  const kind = resolved[0];
  if (kind === 1) impl = list(compile(resolved[4]));
  else if (kind === 2) impl = map(compile(resolved[5]));
  else if (kind === 3 || kind === 4) impl = structure(resolved);
  return convert;
}

function simple(code: number): ToModel {
  if (code & MAP_MODIFIER) return map(simple(code & ~MAP_MODIFIER));
  if (code & LIST_MODIFIER) return list(simple(code & ~LIST_MODIFIER));
  return TIMESTAMP_CODES.has(code) ? toTimestamp : identity;
}

function identity(value: unknown): unknown {
  return value;
}

// Private: a timestamp as its ISO string; anything that is not a valid time is left as it came, for
// the `DateTime` scalar to refuse when it is selected.
function toTimestamp(value: unknown): unknown {
  let date: Date;
  if (typeof value === "number") date = new Date(Math.round(value * 1000));
  // Epoch seconds sent as a string, as the SDK also accepts; else an ISO date-time.
  else if (typeof value === "string") date = EPOCH_STRING.test(value) ? new Date(Math.round(Number(value) * 1000)) : new Date(value);
  else if (value instanceof Date) date = value;
  else return value;
  return Number.isNaN(date.getTime()) ? value : date.toISOString();
}

function list(item: ToModel): ToModel {
  return (value) => (Array.isArray(value) ? value.map((v) => (v === null ? null : item(v))) : value);
}

function map(entry: ToModel): ToModel {
  return (value) => {
    if (value === null || typeof value !== "object") return value;
    const out: Array<{ key: string; value: unknown }> = [];
    for (const key of Object.keys(value)) {
      const v = (value as Record<string, unknown>)[key];
      out.push({ key, value: v === null || v === undefined ? v : entry(v) });
    }
    return out;
  };
}

interface Member {
  readonly wire: string;
  readonly field: string;
  readonly convert: ToModel;
}

function structure(schema: readonly unknown[]): ToModel {
  const names = schema[4] as readonly string[];
  const schemas = schema[5] as readonly unknown[];
  const members: Member[] = [];
  const wireNames = new Set<string>();
  // Compiled lazily: member schemas are thunks that may name shapes defined later in the SDK.
  let ready = false;
  const prepare = () => {
    names.forEach((name, i) => {
      const wire = jsonNameOf(schemas[i]) ?? name;
      wireNames.add(wire);
      members.push({ wire, field: fieldNameOf(name), convert: compile(schemas[i]) });
    });
    ready = true;
  };
  return (value) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
    if (!ready) prepare();
    const source = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const m of members) {
      const v = source[m.wire];
      if (v !== undefined && v !== null) out[m.field] = m.convert(v);
    }
    for (const key in source) {
      // `__proto__` (an own property after JSON.parse) would replace the model's prototype.
      if (!wireNames.has(key) && key !== "__proto__" && source[key] !== undefined && source[key] !== null) out[fieldNameOf(key)] = source[key];
    }
    return out;
  };
}

// Private: a member's `jsonName` trait (its name on the wire), when it has one.
function jsonNameOf(memberSchema: unknown): string | undefined {
  if (Array.isArray(memberSchema) && memberSchema.length === 2) {
    const traits = memberSchema[1];
    if (traits && typeof traits === "object" && typeof (traits as { jsonName?: unknown }).jsonName === "string") return (traits as { jsonName: string }).jsonName;
  }
  return undefined;
}
