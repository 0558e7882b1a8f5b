import { createHash } from "node:crypto";
import type { ContactSearchSummary, SearchContactsRequest, SearchCriteria, TagCondition } from "@aws-sdk/client-connect";
import { CONTACT_ID_MAX, idProblem, instanceArgument, partitionProblem, type InstanceRef } from "../domain/contactRef.js";
import type { GatewayContext } from "./context.js";
import { badUserInput, forbidden } from "../domain/errors.js";
import { canSeePii, SCOPE_PII, type Principal } from "../domain/principal.js";
import type {
  ContactSearchAttributesInput,
  ContactSearchCriteriaInput,
  ContactSearchTagConditionInput,
  QuerySearchContactsArgs,
} from "../generated/graphql.js";
import type { ContactConnectionModel, ContactEdgeModel } from "./contactConnection.js";
import { toSummaryContact } from "./summaryContact.js";

/** Connect's largest SearchContacts page, and so the largest `first`. */
export const SEARCH_PAGE_MAX = 100;

/**
 * SearchContacts calls one `searchContacts` field may make. One suffices unless `after` points into
 * the middle of a page (the rest of that page, then the next); more only when Connect answers
 * short pages, which it may do.
 */
const MAX_CALLS_PER_FIELD = 4;

/**
 * Resolves `Query.searchContacts`: validates the arguments (a bad one costs no call), reads as many
 * SearchContacts pages as `first` needs through the request's search loader, and returns the
 * contacts as summary-backed models (see `toSummaryContact`).
 *
 * Cursors: each edge's cursor names the Connect page token to resume from and how many contacts of
 * that page to skip, bound to a fingerprint of the search (region, instance, time range, criteria,
 * sort), so a cursor of another search is refused. The cursor of the last contact of a page names
 * the next page directly; resuming from the middle of a page reads that page again.
 *
 * An instance ARN's account holds the search as it holds a contact read (`Loaders.readContact`):
 * NOT_FOUND, with no call, once an answer has told the instance is in another account; otherwise
 * NOT_FOUND when a page's contacts (their `Arn`) are of another account. A page with no contacts
 * tells no account and is answered as it is: empty.
 */
export async function searchContacts(args: QuerySearchContactsArgs, ctx: GatewayContext): Promise<ContactConnectionModel> {
  const instance = instanceArgument("instanceId", args.instanceId, ctx.regions);
  const first = args.first ?? 25;
  if (!Number.isInteger(first) || first < 1 || first > SEARCH_PAGE_MAX) {
    throw badUserInput("first", `must be between 1 and ${SEARCH_PAGE_MAX} (got ${first})`);
  }
  refusePersonalCriteria(args.criteria, ctx.auth);
  const base = searchRequest(instance, args);
  const binding = fingerprint(instance.region, base);
  let { token, skip } = args.after != null ? decodeCursor(args.after, binding) : { token: undefined as string | undefined, skip: 0 };
  const describeSearch = () => `The contact search in instance ${instance.instanceId} (${instance.region})`;
  const refused = ctx.loaders.accounts.refuse(instance, describeSearch);
  if (refused) throw refused;

  const edges: ContactEdgeModel[] = [];
  let totalCount: number | null = null;
  let hasNextPage = false;
  for (let calls = 0; ; calls++) {
    const want = first - edges.length;
    const page = await ctx.loaders.search.load({
      region: instance.region,
      input: { ...base, MaxResults: Math.min(SEARCH_PAGE_MAX, skip + want), ...(token !== undefined && { NextToken: token }) },
    });
    const contacts = page.Contacts ?? [];
    for (const summary of contacts) {
      const wrong = ctx.loaders.accounts.check(instance, summary.Arn, describeSearch);
      if (wrong) throw wrong;
    }
    totalCount = page.TotalCount ?? totalCount;
    const taken = contacts.slice(skip, skip + want);
    taken.forEach((summary, i) => {
      const position = skip + i + 1; // contacts of this page up to and including this one
      const cursor =
        position === contacts.length && page.NextToken ? encodeCursor(binding, page.NextToken, 0) : encodeCursor(binding, token, position);
      edges.push({ cursor, node: toSummaryContact(summary, contactRefOf(summary, instance)) });
    });
    const moreInPage = skip + taken.length < contacts.length;
    if (edges.length >= first || moreInPage) {
      hasNextPage = moreInPage || Boolean(page.NextToken);
      break;
    }
    if (!page.NextToken || calls + 1 >= MAX_CALLS_PER_FIELD) {
      hasNextPage = Boolean(page.NextToken);
      break;
    }
    token = page.NextToken;
    skip = 0;
  }
  return {
    edges,
    nodes: edges.map((e) => e.node),
    pageInfo: {
      hasNextPage,
      hasPreviousPage: false,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount,
  };
}

// Private: the SearchContacts request without paging, from validated arguments.
function searchRequest(instance: InstanceRef, args: QuerySearchContactsArgs): SearchContactsRequest {
  const { timeRange } = args;
  const start = timeRange.startTime as Date;
  const end = timeRange.endTime as Date;
  if (end.getTime() < start.getTime()) throw badUserInput("timeRange", "endTime must not be before startTime");
  const criteria = args.criteria ? searchCriteria(args.criteria, instance) : undefined;
  return {
    InstanceId: instance.instanceId,
    TimeRange: { Type: enumValue("timeRange.type", timeRange.type ?? "INITIATION_TIMESTAMP") as never, StartTime: start, EndTime: end },
    ...(criteria && Object.keys(criteria).length > 0 && { SearchCriteria: criteria }),
    // Always explicit, so the order is the gateway's documented default whatever Connect's is.
    Sort: {
      FieldName: enumValue("sort.fieldName", args.sort?.fieldName ?? "INITIATION_TIMESTAMP") as never,
      Order: enumValue("sort.order", args.sort?.order ?? "DESCENDING") as never,
    },
  };
}

/**
 * The criteria that match on values `@pii` masks (the contact's attributes and its name), by
 * argument name. A caller without `contacts:pii` may not search by them: an exact-match search is
 * an oracle for the value the field hides (is this contact's account number AC-00480147?
 * `totalCount` answers). Segment attributes are system-defined and not masked, so searching by them
 * reveals nothing hidden.
 */
const PERSONAL_CRITERIA = ["searchableContactAttributes", "name"] as const;

// Private: FORBIDDEN, before any call, for a personal criterion from a caller who may not see it.
function refusePersonalCriteria(criteria: ContactSearchCriteriaInput | null | undefined, principal: Principal): void {
  if (!criteria || canSeePii(principal)) return;
  const used = PERSONAL_CRITERIA.find((name) => criteria[name] != null);
  if (!used) return;
  const argument = `criteria.${used}`;
  throw forbidden(argument, `Searching by ${argument} needs the "${SCOPE_PII}" scope: it matches values that are masked for this caller.`);
}

/**
 * Connect's bounds on the criteria (its API reference: SearchCriteria, AgentHierarchyGroups,
 * SearchableContactAttributes, SearchableSegmentAttributes and their criteria), checked here: Connect
 * refuses more as invalid, and the refusal would cost a call of SearchContacts' 0.5/s quota.
 */
const CRITERIA_BOUNDS = {
  /** `queueIds`, `agentIds`. */
  ids: 100,
  /** Each level of `agentHierarchyGroups`. */
  hierarchyIds: 10,
  /** Criteria of each attribute search. */
  attributeCriteria: 15,
  contactAttributes: { keyMax: 100, valuesMin: 0, valuesMax: 20, valueMax: 100 },
  segmentAttributes: { keyMax: 64, valuesMin: 1, valuesMax: 20, valueMax: 128 },
} as const;

// Private: the criteria in the SDK's shape; unset criteria are left out.
function searchCriteria(input: ContactSearchCriteriaInput, instance: InstanceRef): SearchCriteria {
  const c: SearchCriteria = {};
  if (input.channels) c.Channels = input.channels.map((v, i) => enumValue(`criteria.channels[${i}]`, v)) as never;
  if (input.initiationMethods) c.InitiationMethods = input.initiationMethods.map((v, i) => enumValue(`criteria.initiationMethods[${i}]`, v)) as never;
  if (input.queueIds) c.QueueIds = atMost("criteria.queueIds", input.queueIds, CRITERIA_BOUNDS.ids).map((v, i) => resourceId(`criteria.queueIds[${i}]`, v, "queue", instance));
  if (input.agentIds) c.AgentIds = atMost("criteria.agentIds", input.agentIds, CRITERIA_BOUNDS.ids).map((v, i) => resourceId(`criteria.agentIds[${i}]`, v, "agent", instance));
  const groups = input.agentHierarchyGroups;
  if (groups) {
    c.AgentHierarchyGroups = {};
    for (const level of [1, 2, 3, 4, 5] as const) {
      const ids = groups[`l${level}Ids`];
      const argument = `criteria.agentHierarchyGroups.l${level}Ids`;
      if (ids) c.AgentHierarchyGroups[`L${level}Ids`] = atMost(argument, ids, CRITERIA_BOUNDS.hierarchyIds).map((v, i) => resourceId(`${argument}[${i}]`, v, "agent-group", instance));
    }
  }
  if (input.searchableContactAttributes) c.SearchableContactAttributes = attributes("criteria.searchableContactAttributes", input.searchableContactAttributes, CRITERIA_BOUNDS.contactAttributes);
  if (input.searchableSegmentAttributes) c.SearchableSegmentAttributes = attributes("criteria.searchableSegmentAttributes", input.searchableSegmentAttributes, CRITERIA_BOUNDS.segmentAttributes);
  if (input.name) {
    if (input.name.searchText.length === 0) throw badUserInput("criteria.name.searchText", "must name at least one text");
    c.Name = { SearchText: input.name.searchText, MatchType: enumValue("criteria.name.matchType", input.name.matchType ?? "MATCH_ANY") as never };
  }
  if (input.activeRegions) c.ActiveRegions = input.activeRegions;
  const tags = input.contactTags;
  if (tags) {
    c.ContactTags = {
      ...(tags.orConditions && { OrConditions: tags.orConditions.map((group) => group.map(tagCondition)) }),
      ...(tags.andConditions && { AndConditions: tags.andConditions.map(tagCondition) }),
      ...(tags.tagCondition && { TagCondition: tagCondition(tags.tagCondition) }),
    };
  }
  return c;
}

/** `list` itself, or BAD_USER_INPUT naming `argument` when it has more than `max` items. */
function atMost<T>(argument: string, list: readonly T[], max: number): readonly T[] {
  if (list.length > max) throw badUserInput(argument, `may have at most ${max} items (Amazon Connect's limit; got ${list.length})`);
  return list;
}

function attributes(argument: string, input: ContactSearchAttributesInput, bounds: { keyMax: number; valuesMin: number; valuesMax: number; valueMax: number }) {
  if (input.criteria.length === 0) throw badUserInput(`${argument}.criteria`, "must name at least one key");
  atMost(`${argument}.criteria`, input.criteria, CRITERIA_BOUNDS.attributeCriteria);
  input.criteria.forEach((item, i) => {
    const at = `${argument}.criteria[${i}]`;
    if (item.key.length < 1 || item.key.length > bounds.keyMax) throw badUserInput(`${at}.key`, `must be 1 to ${bounds.keyMax} characters long`);
    if (item.values.length < bounds.valuesMin) throw badUserInput(`${at}.values`, "must name at least one value");
    atMost(`${at}.values`, item.values, bounds.valuesMax);
    const long = item.values.findIndex((value) => value.length > bounds.valueMax);
    if (long >= 0) throw badUserInput(`${at}.values[${long}]`, `must be at most ${bounds.valueMax} characters long`);
  });
  return {
    Criteria: input.criteria.map((item) => ({ Key: item.key, Values: item.values })),
    ...(input.matchType != null && { MatchType: enumValue(`${argument}.matchType`, input.matchType) as never }),
  };
}

function tagCondition(input: ContactSearchTagConditionInput): TagCondition {
  return { TagKey: input.tagKey, ...(input.tagValue != null && { TagValue: input.tagValue }) };
}

/**
 * Values of Connect's enumerations are upper-case words (`VOICE`, `MATCH_ANY`). Anything else could
 * only be refused upstream, at the cost of a call of a low quota; values Connect adds later pass.
 */
const ENUM_VALUE = /^[A-Z][A-Z0-9_]{0,63}$/;

function enumValue(argument: string, value: string): string {
  if (!ENUM_VALUE.test(value)) throw badUserInput(argument, `must be an upper-case value such as VOICE or MATCH_ANY (got ${JSON.stringify(value.slice(0, 40))})`);
  return value;
}

/**
 * A queue, user or hierarchy group id, or its ARN, which must name the searched instance (and, when
 * the search named it by ARN, that ARN's account), in its region's partition.
 */
function resourceId(argument: string, value: string, kind: string, instance: InstanceRef): string {
  if (value.startsWith("arn:")) {
    const match = /^arn:(aws[a-z-]*):connect:([a-z0-9-]+):(\d{12}):instance\/([^/]+)\/([a-z-]+)\/([^/]+)$/.exec(value);
    if (!match || match[5] !== kind) throw badUserInput(argument, `must be an id or a ${kind} ARN`);
    const [, partition, region, account, instanceId, , id] = match as unknown as string[];
    if (region !== instance.region || instanceId !== instance.instanceId || (instance.accountId !== undefined && account !== instance.accountId)) {
      throw badUserInput(argument, "names a resource of another instance, account or region than the search");
    }
    const problem = partitionProblem(partition!, region);
    if (problem) throw badUserInput(argument, problem);
    value = id!;
  }
  const problem = idProblem(value, CONTACT_ID_MAX);
  if (problem) throw badUserInput(argument, problem);
  return value;
}

// Private: a summary's ref: its own region and instance (the search's), its id.
function contactRefOf(summary: ContactSearchSummary, instance: InstanceRef) {
  return { region: instance.region, instanceId: instance.instanceId, contactId: summary.Id ?? "" };
}

// Private: cursors.

const CURSOR_VERSION = 1;

function fingerprint(region: string, request: SearchContactsRequest): string {
  return createHash("sha256").update(JSON.stringify([region, request])).digest("base64url").slice(0, 16);
}

function encodeCursor(binding: string, token: string | undefined, skip: number): string {
  return Buffer.from(JSON.stringify([CURSOR_VERSION, binding, token ?? null, skip])).toString("base64url");
}

function decodeCursor(cursor: string, binding: string): { token: string | undefined; skip: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 4 ||
    parsed[0] !== CURSOR_VERSION ||
    typeof parsed[1] !== "string" ||
    !(parsed[2] === null || typeof parsed[2] === "string") ||
    !Number.isInteger(parsed[3]) ||
    parsed[3] < 0 ||
    parsed[3] > SEARCH_PAGE_MAX
  ) {
    throw badUserInput("after", "is not a cursor of searchContacts");
  }
  if (parsed[1] !== binding) throw badUserInput("after", "is a cursor of a different search (instance, time range, criteria or sort differ)");
  return { token: parsed[2] ?? undefined, skip: parsed[3] };
}
