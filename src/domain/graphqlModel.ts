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
 * - members the SDK does not know yet are kept under the same naming rule, untouched, after the
 *   known ones (in the SDK's order) in the order they came: nothing reads them until the schema has
 *   a field for them, and the cached answer keeps them regardless; `__proto__` is never copied;
 * - absent and `null` members are left out (the field resolves to null);
 * - shapes that contain themselves (routing expressions, segment attribute values) at every depth.
 *
 * Accepts both the answer's JSON (what `ConnectUpstream` keeps) and an SDK-parsed object (what a
 * test's upstream returns), so every source of a contact yields the same model: plain data, whose
 * members are own enumerable properties (see `structure`, which generates each shape's code).
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

const EPOCH_STRING = /^-?\d+(\.\d+)?$/;

// Private: `graphqlModel`'s converters, one per shape, each compiled on its first call (member
// schemas are thunks that may name shapes the SDK defines later, so nothing is resolved before).
const compiled = new WeakMap<object, ToModel>();

function compile(schema: unknown): ToModel {
  const resolved = resolveSdkSchema(schema);
  if (typeof resolved === "number") return simple(resolved);
  const known = compiled.get(resolved);
  if (known) return known;
  let impl: ToModel = (value) => (impl = converterOf(resolved))(value);
  const convert: ToModel = (value) => impl(value);
  compiled.set(resolved, convert);
  return convert;
}

// Private: the converter of a resolved schema, made (at a converter's first call) with the
// converters of everything it contains. While a shape's converter is being made, a shape inside it
// that contains it again (expressions, segment attribute values) gets a stand-in that calls it.
const converters = new WeakMap<object, ToModel>();

function converterOf(schema: number | readonly unknown[]): ToModel {
  if (typeof schema === "number") return simple(schema);
  const known = converters.get(schema);
  if (known) return known;
  let made: ToModel | undefined;
  converters.set(schema, (value) => made!(value));
  const kind = schema[0];
  if (kind === 1) made = list(converterOf(resolveSdkSchema(schema[4])));
  else if (kind === 2) made = map(converterOf(resolveSdkSchema(schema[5])));
  else if (kind === 3 || kind === 4) made = structure(schema);
  else made = identity;
  converters.set(schema, made);
  return made;
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
  let time: number;
  if (typeof value === "number") time = Math.round(value * 1000);
  // Epoch seconds sent as a string, as the SDK also accepts; else an ISO date-time.
  else if (typeof value === "string") time = EPOCH_STRING.test(value) ? Math.round(Number(value) * 1000) : new Date(value).getTime();
  else if (value instanceof Date) time = value.getTime();
  else return value;
  // What `new Date(time)` holds: NaN beyond ±8.64e15 ms.
  return Math.abs(time) <= MAX_TIME ? isoString(time) : value;
}

const MAX_TIME = 8.64e15;
const DAY_MS = 86_400_000;
// 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the years `toISOString` writes in 4 digits.
const FIRST_4_DIGIT_YEAR = -62_167_219_200_000;
const LAST_4_DIGIT_YEAR = 253_402_300_799_999;

/**
 * `new Date(time).toISOString()` for a time value (whole milliseconds, within ±8.64e15), computed
 * here for years 0–9999: `toISOString` is a C++ call that took ~470 ns (~18 µs for a rich contact's
 * 38 timestamps), this ~60 ns. The civil date from the day number as in Howard Hinnant's
 * `civil_from_days`.
 */
function isoString(time: number): string {
  if (time < FIRST_4_DIGIT_YEAR || time > LAST_4_DIGIT_YEAR) return new Date(time).toISOString();
  // Small integers from here on (`| 0` truncates what is not negative): days since 0000-03-01, the
  // 400-year era (negative before it), and the day and year within the era.
  const days = Math.floor(time / DAY_MS);
  const ms = (time - days * DAY_MS) | 0;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = ((dayOfEra - ((dayOfEra / 1460) | 0) + ((dayOfEra / 36_524) | 0) - ((dayOfEra / 146_096) | 0)) / 365) | 0;
  const dayOfYear = dayOfEra - (365 * yearOfEra + ((yearOfEra / 4) | 0) - ((yearOfEra / 100) | 0));
  const monthFromMarch = ((5 * dayOfYear + 2) / 153) | 0;
  const day = dayOfYear - (((153 * monthFromMarch + 2) / 5) | 0) + 1;
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hours = (ms / 3_600_000) | 0;
  const minutes = ((ms / 60_000) | 0) % 60;
  const seconds = ((ms / 1000) | 0) % 60;
  const millis = ms % 1000;
  // One flat string (a concatenation would keep a tree of its pieces).
  return String.fromCharCode(
    48 + ((year / 1000) | 0),
    48 + (((year / 100) | 0) % 10),
    48 + (((year / 10) | 0) % 10),
    48 + (year % 10),
    45,
    48 + ((month / 10) | 0),
    48 + (month % 10),
    45,
    48 + ((day / 10) | 0),
    48 + (day % 10),
    84,
    48 + ((hours / 10) | 0),
    48 + (hours % 10),
    58,
    48 + ((minutes / 10) | 0),
    48 + (minutes % 10),
    58,
    48 + ((seconds / 10) | 0),
    48 + (seconds % 10),
    46,
    48 + ((millis / 100) | 0),
    48 + (((millis / 10) | 0) % 10),
    48 + (millis % 10),
    90,
  );
}

function list(item: ToModel): ToModel {
  // `slice` copies as `map` with `identity` would (holes included), without a call per element.
  if (item === identity) return (value) => (Array.isArray(value) ? value.slice() : value);
  const element = (v: unknown) => (v === null ? null : item(v));
  return (value) => (Array.isArray(value) ? value.map(element) : value);
}

function map(entry: ToModel): ToModel {
  return (value) => {
    if (value === null || typeof value !== "object") return value;
    const out: Array<{ key: string; value: unknown }> = [];
    const keys = Object.keys(value);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const v = (value as Record<string, unknown>)[key];
      out.push({ key, value: v === null || v === undefined ? v : entry(v) });
    }
    return out;
  };
}

/**
 * A structure's converter, generated: one straight-line read per member the SDK knows, in the
 * schema's order, each converted by its own converter (inlined for plain values), then the members
 * it does not know, in the order a `for…in` lists them. Names enter the code only as
 * `JSON.stringify`'d string literals. Generated because every uncached read converts: closures per
 * member took ~47 µs per rich contact (13.7 KB, as long as its `JSON.parse`), this takes ~13 µs.
 *
 * Two shortcuts, for an answer that is plain data (`JSON.parse`'s objects or the SDK's: members are
 * own enumerable properties, over `Object.prototype` or none; any other prototype takes neither):
 * - an answer with one member the shape knows (a union's: a segment attribute value, an
 *   expression) reads that member alone, where the straight-line reads would look up every one;
 * - the unknown members' loop is skipped when the answer has no more own keys than known members.
 */
function structure(schema: readonly unknown[]): ToModel {
  const names = schema[4] as readonly string[];
  const schemas = schema[5] as readonly unknown[];
  const wireNames = new Set<string>();
  const calls: ToModel[] = [];
  let reads = "";
  let cases = "";
  names.forEach((name, i) => {
    const wireName = jsonNameOf(schemas[i]) ?? name;
    wireNames.add(wireName);
    const wire = JSON.stringify(wireName);
    const field = JSON.stringify(fieldNameOf(name));
    const convert = converterOf(resolveSdkSchema(schemas[i]));
    const value = convert === identity ? "v" : convert === toTimestamp ? "t(v)" : `c[${calls.push(convert) - 1}](v)`;
    reads += `v = s[${wire}];\nif (v !== undefined) { n++; if (v !== null) o[${field}] = ${value}; }\n`;
    cases += `case ${wire}: v = s[${wire}]; if (v !== undefined && v !== null) o[${field}] = ${value}; return o;\n`;
  });
  // Counting keys needs every known member found to be an own key: no wire name `Object.prototype`
  // has (it would be found on every answer), no two members on one wire name.
  const countable = wireNames.size === names.length && [...wireNames].every((wire) => !(wire in Object.prototype));
  const body = countable
    ? `if (s === null || typeof s !== "object" || Array.isArray(s)) return s;
const o = {};
let v;
const p = Object.getPrototypeOf(s);
const plain = p === P || p === null;
const keys = Object.keys(s);
if (plain && keys.length === 1) switch (keys[0]) {
${cases}}
let n = 0;
${reads}if (!plain || keys.length !== n) u(s, o);
return o;`
    : `if (s === null || typeof s !== "object" || Array.isArray(s)) return s;
const o = {};
let n = 0, v;
${reads}u(s, o);
return o;`;
  const unknownMembers = (source: Record<string, unknown>, out: Record<string, unknown>) => {
    for (const key in source) {
      // `__proto__` (an own property after JSON.parse) would replace the model's prototype.
      if (!wireNames.has(key) && key !== "__proto__" && source[key] !== undefined && source[key] !== null) out[fieldNameOf(key)] = source[key];
    }
  };
  const make = new Function("c", "t", "u", "P", `"use strict";\nreturn function ${identifierOf(schema[2])}(s) {\n${body}\n};`) as (c: ToModel[], t: ToModel, u: typeof unknownMembers, p: object) => ToModel;
  return make(calls, toTimestamp, unknownMembers, Object.prototype);
}

// Private: the generated function's name (for profiles): the shape's name as an identifier.
function identifierOf(name: unknown): string {
  return `model_${String(name).replace(/[^A-Za-z0-9_]/g, "_")}`;
}

// Private: a member's `jsonName` trait (its name on the wire), when it has one.
function jsonNameOf(memberSchema: unknown): string | undefined {
  if (Array.isArray(memberSchema) && memberSchema.length === 2) {
    const traits = memberSchema[1];
    if (traits && typeof traits === "object" && typeof (traits as { jsonName?: unknown }).jsonName === "string") return (traits as { jsonName: string }).jsonName;
  }
  return undefined;
}
