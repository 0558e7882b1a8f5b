import type { Contact } from "@aws-sdk/client-connect";
import { connectError, invalidParameter, type Answer } from "./answer.js";
import { isObject, isStringList } from "./jsonValue.js";

/** A contact filter from SearchCriteria, or an error answer for criteria it cannot honour. */
export function searchFilter(criteria: unknown, region: string): ((c: Contact) => boolean) | Answer {
  if (criteria === undefined) return () => true;
  if (!isObject(criteria)) return invalidParameter("SearchCriteria must be an object");
  const tests: ((c: Contact) => boolean)[] = [];
  const list = (name: string): string[] | Answer | undefined => {
    const v = criteria[name];
    if (v === undefined) return undefined;
    return isStringList(v) ? v : invalidParameter(`SearchCriteria.${name} must be a list of strings`);
  };
  // Connect's bounds (API reference, SearchCriteria): at most 100 queue and agent ids.
  for (const [name, get, max] of [
    ["Channels", (c: Contact) => c.Channel, Infinity],
    ["InitiationMethods", (c: Contact) => c.InitiationMethod, Infinity],
    ["QueueIds", (c: Contact) => c.QueueInfo?.Id, 100],
    ["AgentIds", (c: Contact) => c.AgentInfo?.Id, 100],
    ["ActiveRegions", (c: Contact) => c.GlobalResiliencyMetadata?.ActiveRegion ?? region, Infinity],
  ] as const) {
    const values = list(name);
    if (values === undefined) continue;
    if (!Array.isArray(values)) return values;
    if (values.length > max) return invalidParameter(`SearchCriteria.${name} must have at most ${max} items`);
    const set = new Set(values);
    tests.push((c) => set.has(get(c) ?? ""));
  }
  const groups = criteria.AgentHierarchyGroups;
  if (groups !== undefined) {
    if (!isObject(groups)) return invalidParameter("SearchCriteria.AgentHierarchyGroups must be an object");
    const tooMany = (["L1Ids", "L2Ids", "L3Ids", "L4Ids", "L5Ids"] as const).find((key) => isStringList(groups[key]) && groups[key].length > 10);
    if (tooMany) return invalidParameter(`SearchCriteria.AgentHierarchyGroups.${tooMany} must have at most 10 items`);
    (["L1Ids", "L2Ids", "L3Ids", "L4Ids", "L5Ids"] as const).forEach((key, level) => {
      const ids = groups[key];
      if (!isStringList(ids) || ids.length === 0) return;
      const set = new Set(ids);
      const levelKey = `Level${level + 1}` as "Level1";
      tests.push((c) => {
        const arn = c.AgentInfo?.HierarchyGroups?.[levelKey]?.Arn;
        return arn !== undefined && set.has(arn.slice(arn.lastIndexOf("/") + 1));
      });
    });
  }
  // Connect's bounds (API reference, SearchableContactAttributes/SearchableSegmentAttributes and
  // their criteria): at most 15 criteria; keys of 1–100 (segment: 1–64) characters; at most 20
  // values (segment: 1–20) of at most 100 (segment: 128) characters. Match types: MATCH_ALL (every
  // criterion matches), MATCH_ANY (one does), MATCH_EXACT (every one does, values compared whole,
  // as the emulator always compares them), MATCH_NONE (none does).
  const keyValues = (name: string, bounds: { keyMax: number; valuesMin: number; valueMax: number }, get: (c: Contact, key: string) => string | undefined): Answer | undefined => {
    const spec = criteria[name];
    if (spec === undefined) return undefined;
    if (!isObject(spec) || !Array.isArray(spec.Criteria)) return invalidParameter(`SearchCriteria.${name}.Criteria is required`);
    if (spec.Criteria.length > 15) return invalidParameter(`SearchCriteria.${name}.Criteria must have at most 15 items`);
    const items: { key: string; values: Set<string> }[] = [];
    for (const item of spec.Criteria) {
      if (!isObject(item) || typeof item.Key !== "string" || !isStringList(item.Values)) return invalidParameter(`SearchCriteria.${name}.Criteria entries need Key and Values`);
      if (item.Key.length < 1 || item.Key.length > bounds.keyMax) return invalidParameter(`SearchCriteria.${name}.Criteria Key must be between 1 and ${bounds.keyMax} characters long`);
      if (item.Values.length < bounds.valuesMin || item.Values.length > 20) return invalidParameter(`SearchCriteria.${name}.Criteria Values must have between ${bounds.valuesMin} and 20 items`);
      if (item.Values.some((v) => v.length > bounds.valueMax)) return invalidParameter(`SearchCriteria.${name}.Criteria Values must be at most ${bounds.valueMax} characters long`);
      items.push({ key: item.Key, values: new Set(item.Values) });
    }
    const match = spec.MatchType ?? "MATCH_ALL";
    if (!["MATCH_ALL", "MATCH_ANY", "MATCH_EXACT", "MATCH_NONE"].includes(match as string)) return invalidParameter(`SearchCriteria.${name}.MatchType must be MATCH_ALL, MATCH_ANY, MATCH_EXACT or MATCH_NONE`);
    const one = (c: Contact, i: { key: string; values: Set<string> }) => {
      const v = get(c, i.key);
      return v !== undefined && i.values.has(v);
    };
    if (match === "MATCH_ANY") tests.push((c) => items.some((i) => one(c, i)));
    else if (match === "MATCH_NONE") tests.push((c) => !items.some((i) => one(c, i)));
    else tests.push((c) => items.every((i) => one(c, i)));
    return undefined;
  };
  const attrError =
    keyValues("SearchableContactAttributes", { keyMax: 100, valuesMin: 0, valueMax: 100 }, (c, k) => c.Attributes?.[k]) ??
    keyValues("SearchableSegmentAttributes", { keyMax: 64, valuesMin: 1, valueMax: 128 }, (c, k) => c.SegmentAttributes?.[k]?.ValueString);
  if (attrError) return attrError;
  const name = criteria.Name;
  if (name !== undefined) {
    if (!isObject(name) || !isStringList(name.SearchText)) return invalidParameter("SearchCriteria.Name needs SearchText");
    const texts = name.SearchText.map((t) => t.toLowerCase());
    const match = name.MatchType ?? "MATCH_ANY";
    if (!["MATCH_ALL", "MATCH_ANY", "MATCH_EXACT", "MATCH_NONE"].includes(match as string)) return invalidParameter("SearchCriteria.Name.MatchType must be MATCH_ALL, MATCH_ANY, MATCH_EXACT or MATCH_NONE");
    tests.push((c) => {
      const n = c.Name?.toLowerCase();
      if (match === "MATCH_NONE") return n === undefined || !texts.some((t) => n.includes(t));
      if (n === undefined) return false;
      if (match === "MATCH_EXACT") return texts.some((t) => n === t);
      if (match === "MATCH_ALL") return texts.every((t) => n.includes(t));
      return texts.some((t) => n.includes(t));
    });
  }
  const tags = criteria.ContactTags;
  if (tags !== undefined) {
    if (!isObject(tags)) return invalidParameter("SearchCriteria.ContactTags must be an object");
    const cond = (t: unknown) => (c: Contact) => {
      if (!isObject(t) || typeof t.TagKey !== "string") return false;
      const v = c.Tags?.[t.TagKey];
      return v !== undefined && (t.TagValue === undefined || v === t.TagValue);
    };
    if (tags.TagCondition !== undefined) tests.push(cond(tags.TagCondition));
    if (Array.isArray(tags.AndConditions)) {
      const all = tags.AndConditions.map(cond);
      tests.push((c) => all.every((f) => f(c)));
    }
    if (Array.isArray(tags.OrConditions)) {
      const anyOf = tags.OrConditions.map((group) => (Array.isArray(group) ? group.map(cond) : []));
      tests.push((c) => anyOf.some((group) => group.length > 0 && group.every((f) => f(c))));
    }
  }
  for (const unsupported of ["ContactAnalysis", "RoutingCriteria", "AdditionalTimeRange", "AiAgents"]) {
    if (criteria[unsupported] !== undefined) return connectError(400, "InvalidRequestException", `SearchCriteria.${unsupported} is not supported by the emulator`);
  }
  return (c) => tests.every((t) => t(c));
}
