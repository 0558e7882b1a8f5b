import type { Contact } from "@aws-sdk/client-connect";
import { invalidParameter, type Answer } from "./answer.js";
import { isObject, type Json } from "./jsonValue.js";
import { decodePageToken, encodePageToken, requestFingerprint } from "./paginationToken.js";
import { searchFilter } from "./searchFilter.js";
import type { WireInstance } from "./wireInstance.js";

/**
 * SearchContacts (`POST /search-contacts`) over one instance: TimeRange required, SearchCriteria
 * as far as `searchFilter` honours it, newest first unless `Sort` says otherwise, at most 100 per
 * page, with `TotalCount` and a NextToken bound to the request. `region` is the data set's, the
 * active region of contacts without global-resiliency metadata.
 */
export function searchContacts(instance: WireInstance, body: Json, region: string): Answer {
  const range = body.TimeRange;
  if (!isObject(range)) return invalidParameter("TimeRange is required");
  const field = typeof range.Type === "string" ? TIME_RANGE_FIELDS[range.Type] : undefined;
  if (!field) return invalidParameter(`TimeRange.Type must be one of ${Object.keys(TIME_RANGE_FIELDS).join(", ")}`);
  const start = epochMs(range.StartTime);
  const end = epochMs(range.EndTime);
  if (start === undefined || end === undefined) return invalidParameter("TimeRange.StartTime and TimeRange.EndTime are required");
  if (end < start) return invalidParameter("TimeRange.EndTime must not be before TimeRange.StartTime");
  const max = body.MaxResults ?? 100;
  if (typeof max !== "number" || !Number.isInteger(max) || max < 1 || max > 100) return invalidParameter("MaxResults must be between 1 and 100");
  let sortField = SORT_FIELDS.INITIATION_TIMESTAMP!;
  let descending = true;
  if (body.Sort !== undefined) {
    const sort = body.Sort;
    const f = isObject(sort) && typeof sort.FieldName === "string" ? SORT_FIELDS[sort.FieldName] : undefined;
    if (!f || !isObject(sort) || (sort.Order !== "ASCENDING" && sort.Order !== "DESCENDING")) return invalidParameter("Sort needs a valid FieldName and Order");
    sortField = f;
    descending = sort.Order === "DESCENDING";
  }
  const filter = searchFilter(body.SearchCriteria, region);
  if (typeof filter !== "function") return filter;

  const binding = requestFingerprint(JSON.stringify([instance.data.instanceId, range.Type, start, end, body.SearchCriteria ?? null, body.Sort ?? null]));
  let offset = 0;
  if (body.NextToken !== undefined) {
    const decoded = typeof body.NextToken === "string" ? decodePageToken(body.NextToken, binding) : undefined;
    if (decoded === undefined) return invalidParameter("The NextToken is not valid for this request");
    offset = decoded;
  }
  const matches = instance.search.filter((e) => {
    const t = field(e.contact)?.getTime();
    return t !== undefined && t >= start && t <= end && filter(e.contact);
  });
  const keyed = matches.map((e) => ({ e, k: sortField(e.contact) }));
  keyed.sort((a, b) => {
    // Contacts without the sort field come last; ties are broken by id so pages are stable.
    if (a.k === undefined || b.k === undefined) return a.k === b.k ? cmp(a.e.contact.Id!, b.e.contact.Id!) : a.k === undefined ? 1 : -1;
    const order = cmp(a.k, b.k) * (descending ? -1 : 1);
    return order !== 0 ? order : cmp(a.e.contact.Id!, b.e.contact.Id!);
  });
  const page = keyed.slice(offset, offset + max);
  const nextOffset = offset + page.length;
  const next = nextOffset < keyed.length ? `,"NextToken":${JSON.stringify(encodePageToken(nextOffset, binding))}` : "";
  return { status: 200, body: `{"Contacts":[${page.map((p) => p.e.json).join(",")}]${next},"TotalCount":${keyed.length}}` };
}

// Private: the contact timestamp each TimeRange.Type and Sort.FieldName reads.

const TIME_RANGE_FIELDS: Record<string, (c: Contact) => Date | undefined> = {
  INITIATION_TIMESTAMP: (c) => c.InitiationTimestamp,
  SCHEDULED_TIMESTAMP: (c) => c.ScheduledTimestamp,
  CONNECTED_TO_AGENT_TIMESTAMP: (c) => c.AgentInfo?.ConnectedToAgentTimestamp,
  DISCONNECT_TIMESTAMP: (c) => c.DisconnectTimestamp,
  ENQUEUE_TIMESTAMP: (c) => c.QueueInfo?.EnqueueTimestamp,
};

const SORT_FIELDS: Record<string, (c: Contact) => number | string | undefined> = {
  INITIATION_TIMESTAMP: (c) => c.InitiationTimestamp?.getTime(),
  SCHEDULED_TIMESTAMP: (c) => c.ScheduledTimestamp?.getTime(),
  CONNECTED_TO_AGENT_TIMESTAMP: (c) => c.AgentInfo?.ConnectedToAgentTimestamp?.getTime(),
  DISCONNECT_TIMESTAMP: (c) => c.DisconnectTimestamp?.getTime(),
  INITIATION_METHOD: (c) => c.InitiationMethod,
  CHANNEL: (c) => c.Channel,
  EXPIRY_TIMESTAMP: (c) => c.RoutingCriteria?.Steps?.map((s) => s.Expiry?.ExpiryTimestamp?.getTime() ?? 0).reduce((a, b) => Math.max(a, b), 0) || undefined,
};

function cmp(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Private: a wire timestamp (epoch seconds, number or numeric string) in milliseconds.
function epochMs(v: unknown): number | undefined {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) ? n * 1000 : undefined;
}
