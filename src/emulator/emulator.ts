/**
 * An Amazon Connect emulator: a real HTTP server speaking Connect's REST-JSON (restJson1) wire
 * protocol over the seeded data set of `emulatorData.ts`, so the unmodified
 * `@aws-sdk/client-connect` client can be pointed at it (`endpoint: emulator.url`).
 *
 * Operations: DescribeContact, DescribeQueue, DescribeUser, GetContactAttributes,
 * ListContactReferences, SearchContacts. Answers follow Connect: JSON bodies with PascalCase
 * members, timestamps as epoch seconds, absent members omitted; errors as status code +
 * `x-amzn-errortype` header + `{"Message": ...}` body; `x-amzn-requestid` on every answer.
 *
 * Connect's behaviours a client must cope with can be switched on, at start or at run time:
 * latency, token-bucket quotas per API and region (429 ThrottlingException), injected failures, SigV4
 * presence (the signature itself is not verified). Every call is counted, so tests and
 * benchmarks can assert what reached "upstream".
 *
 * Admin surface, outside Connect's path space and without authentication:
 * `GET /_emulator/stats`, `POST /_emulator/reset`, `GET|POST /_emulator/config`,
 * `GET /_emulator/demo`, `GET /_emulator/health`.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Contact, ContactSearchSummary, ReferenceSummary } from "@aws-sdk/client-connect";
import { buildDataset, DEMO, type Dataset, type InstanceData } from "./dataset.js";

/** Static credentials for clients of the emulator (it checks that a SigV4 header is present, not the signature). */
export const EMULATOR_CREDENTIALS = { accessKeyId: "AKIAEMULATOR00000000", secretAccessKey: "emulator-secret-access-key-not-a-secret" } as const;

export const API_NAMES = ["DescribeContact", "DescribeQueue", "DescribeUser", "GetContactAttributes", "ListContactReferences", "SearchContacts"] as const;
export type ApiName = (typeof API_NAMES)[number];

export interface TokenBucketSpec {
  /** Sustained requests per second. */
  rps: number;
  /** Bucket size: requests allowed at once after a quiet period. */
  burst: number;
}

/** Connect's default quotas per API (Service Quotas table; bursts as commonly documented). */
export const CONNECT_DEFAULT_QUOTAS: Readonly<Record<ApiName, TokenBucketSpec>> = {
  DescribeContact: { rps: 10, burst: 15 },
  DescribeQueue: { rps: 10, burst: 15 },
  DescribeUser: { rps: 10, burst: 15 },
  GetContactAttributes: { rps: 10, burst: 15 },
  ListContactReferences: { rps: 10, burst: 15 },
  SearchContacts: { rps: 0.5, burst: 1 },
};

/**
 * Quotas: one token bucket per API and region (the region of the request's SigV4 credential scope),
 * as Connect keeps quotas per account and region. `true` means Connect's defaults (`CONNECT_DEFAULT_QUOTAS`);
 * `{ rps, burst }` applies that bucket to every API (`burst` defaults to `rps`); `perApi`
 * overrides single APIs (an API missing from both takes Connect's default).
 */
export type QuotaOption = boolean | { rps?: number; burst?: number; perApi?: Partial<Record<ApiName, TokenBucketSpec>> };

/**
 * Injected failures, decided in request arrival order by a PRNG seeded with `seed` (default 1),
 * so a run is reproducible. `status` defaults to 500 (InternalServiceException); `code`
 * overrides the `x-amzn-errortype`; `apis` limits injection to those APIs.
 */
export interface FailureOptions {
  rate: number;
  status?: number;
  code?: string;
  seed?: number;
  apis?: ApiName[];
}

/** The options that can change while the emulator runs (`setOptions`, `POST /_emulator/config`). */
export interface RuntimeOptions {
  /** Added to every API answer, ms. Default 0. */
  latencyMs?: number;
  /** Per-API token buckets; over quota answers 429 ThrottlingException. Default: none. */
  quota?: QuotaOption | undefined;
  /** Injected failures. Default: none. */
  failures?: FailureOptions | false | undefined;
  /** Refuse requests without a SigV4 `Authorization` header (403), as Connect does. Default true. */
  requireAuth?: boolean;
}

export interface EmulatorOptions extends RuntimeOptions {
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to listen on. Default 127.0.0.1. */
  host?: string;
  /** The data set. Default `buildDataset()` (seed 1, the one `DEMO` describes). */
  dataset?: Dataset;
  /** Page size of ListContactReferences (small, so pagination is exercised). Default 3. */
  referencesPageSize?: number;
  /**
   * Whether DescribeContact answers carry the contact's `Attributes`. Default true. `false`
   * emulates a Connect whose DescribeContact leaves them out, so GetContactAttributes is the only
   * source of a contact's attributes.
   */
  describeContactAttributes?: boolean;
}

/** Call accounting. API requests are counted once routed and authenticated, whatever the answer. */
export interface EmulatorStats {
  /** All API requests (admin requests excluded). */
  total: number;
  byApi: Record<ApiName, number>;
  /** Per API, per resource key: `instanceId/id` (SearchContacts: `instanceId`), ids as sent. */
  byKey: Record<ApiName, Record<string, number>>;
  /** DescribeContact calls per `instanceId/contactId` (the same as `byKey.DescribeContact`). */
  byContact: Record<string, number>;
  /**
   * Per region (the SigV4 credential scope's, else the data set's), per API. Quotas are kept per
   * region too, as Connect keeps them per account and region.
   */
  byRegion: Record<string, Partial<Record<ApiName, number>>>;
  /** 429 ThrottlingException answers sent because of the quota (injected 429s not included). */
  throttled: number;
  throttledByApi: Record<ApiName, number>;
  /** Answers replaced by an injected failure (rate or `failNext`). */
  injectedFailures: number;
  injectedByApi: Record<ApiName, number>;
  /** Requests refused for a missing or malformed SigV4 header. */
  unauthenticated: number;
  /** Most API requests received in any sliding 1-second window (all APIs together). */
  maxPerSecond: number;
  maxPerSecondByApi: Record<ApiName, number>;
  /** Same, counting only requests that were not throttled (what the quota let through). */
  maxAcceptedPerSecond: number;
  maxAcceptedPerSecondByApi: Record<ApiName, number>;
}

export interface Emulator {
  /** Base URL, e.g. `http://127.0.0.1:4010` (give it to the SDK as `endpoint`). */
  readonly url: string;
  readonly port: number;
  readonly dataset: Dataset;
  /** A snapshot of the call accounting. */
  readonly calls: EmulatorStats;
  /** The current run-time options. */
  readonly options: Readonly<Required<Pick<RuntimeOptions, "latencyMs" | "requireAuth">> & Pick<RuntimeOptions, "quota" | "failures">>;
  /** Changes latency, quota, failures or auth at run time (quota buckets start full again). */
  setOptions(partial: RuntimeOptions): void;
  /** The next `count` API requests (of `api`, if given) fail with `status` (default 500). */
  failNext(count: number, status?: number, api?: ApiName): void;
  /** Zeroes the call accounting and refills the quota buckets. */
  resetStats(): void;
  close(): Promise<void>;
}

/** Starts the emulator; resolves once it listens. */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const dataset = options.dataset ?? buildDataset();
  const state = new EmulatorState(dataset, options);
  const server = createServer({ keepAliveTimeout: 65_000, noDelay: true }, (req, res) => state.handle(req, res));
  server.headersTimeout = 66_000;
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  const host = options.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    dataset,
    get calls() {
      return state.stats.snapshot();
    },
    get options() {
      return state.runtimeOptions();
    },
    setOptions: (partial) => state.setOptions(partial),
    failNext: (count, status = 500, api) => state.failNext(count, status, api),
    resetStats: () => state.resetStats(),
    close: () => (closed ??= state.close(server)),
  };
}

// Private: errors and answers.

interface Answer {
  status: number;
  body: Buffer | string;
  errorType?: string;
}

const JSON_TYPE = "application/json";

function error(status: number, errorType: string, message: string): Answer {
  return { status, errorType, body: JSON.stringify({ Message: message }) };
}

const invalidParameter = (message: string) => error(400, "InvalidParameterException", message);
const notFound = (message: string) => error(404, "ResourceNotFoundException", message);

/** The error type an injected failure of `status` carries. */
function injectedErrorType(status: number): string {
  switch (status) {
    case 400:
      return "InvalidRequestException";
    case 403:
      return "AccessDeniedException";
    case 404:
      return "ResourceNotFoundException";
    case 429:
      return "ThrottlingException";
    case 503:
      return "ServiceUnavailableException";
    default:
      return "InternalServiceException";
  }
}

/** Connect's JSON: Dates as epoch seconds (milliseconds kept as the fraction). */
function toWireJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, v: unknown) {
    const raw = this[key];
    return raw instanceof Date ? raw.getTime() / 1000 : v;
  });
}

// Private: routing.

interface Route {
  api: ApiName;
  /** Decoded path labels. */
  labels: string[];
}

function decodeLabels(parts: string[]): string[] | undefined {
  try {
    return parts.map((p) => decodeURIComponent(p));
  } catch {
    return undefined;
  }
}

/** Matches Connect's paths; `undefined` for anything else, `"malformed"` for undecodable labels. */
function route(method: string, path: string): Route | "malformed" | undefined {
  const parts = path.split("/");
  if (parts[0] !== "") return undefined;
  let api: ApiName | undefined;
  let raw: string[] = [];
  if (method === "GET" && parts.length === 4 && parts[1] === "contacts") [api, raw] = ["DescribeContact", parts.slice(2)];
  else if (method === "GET" && parts.length === 4 && parts[1] === "queues") [api, raw] = ["DescribeQueue", parts.slice(2)];
  else if (method === "GET" && parts.length === 4 && parts[1] === "users") [api, raw] = ["DescribeUser", parts.slice(2)];
  else if (method === "GET" && parts.length === 5 && parts[1] === "contact" && parts[2] === "attributes") [api, raw] = ["GetContactAttributes", parts.slice(3)];
  else if (method === "GET" && parts.length === 5 && parts[1] === "contact" && parts[2] === "references") [api, raw] = ["ListContactReferences", parts.slice(3)];
  else if (method === "POST" && parts.length === 2 && parts[1] === "search-contacts") api = "SearchContacts";
  if (!api) return undefined;
  const labels = decodeLabels(raw);
  return labels ? { api, labels } : "malformed";
}

// Private: quotas, failures and statistics.

class TokenBucket {
  private tokens: number;
  private last: number;
  constructor(readonly spec: TokenBucketSpec) {
    this.tokens = spec.burst;
    this.last = performance.now();
  }
  take(now: number): boolean {
    this.tokens = Math.min(this.spec.burst, this.tokens + ((now - this.last) * this.spec.rps) / 1000);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }
}

function bucketsFor(quota: QuotaOption | undefined): Map<ApiName, TokenBucket> | undefined {
  if (!quota) return undefined;
  const buckets = new Map<ApiName, TokenBucket>();
  for (const api of API_NAMES) {
    let spec: TokenBucketSpec = CONNECT_DEFAULT_QUOTAS[api];
    if (quota !== true) {
      if (quota.rps !== undefined) spec = { rps: quota.rps, burst: quota.burst ?? Math.max(1, quota.rps) };
      spec = quota.perApi?.[api] ?? spec;
    }
    buckets.set(api, new TokenBucket(spec));
  }
  return buckets;
}

/** Counts events in a sliding 1-second window and remembers the most ever seen. */
class SlidingWindow {
  private times: number[] = [];
  private head = 0;
  max = 0;
  add(now: number): void {
    this.times.push(now);
    while (this.times[this.head]! <= now - 1000) this.head++;
    const count = this.times.length - this.head;
    if (count > this.max) this.max = count;
    if (this.head > 4096 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }
}

const MAX_KEYS_PER_API = 100_000;

function perApi<T>(make: () => T): Record<ApiName, T> {
  return Object.fromEntries(API_NAMES.map((api) => [api, make()])) as Record<ApiName, T>;
}

class Stats {
  total = 0;
  byApi = perApi(() => 0);
  byKey = perApi(() => new Map<string, number>());
  throttledByApi = perApi(() => 0);
  injectedByApi = perApi(() => 0);
  unauthenticated = 0;
  window = new SlidingWindow();
  windowByApi = perApi(() => new SlidingWindow());
  accepted = new SlidingWindow();
  acceptedByApi = perApi(() => new SlidingWindow());
  byRegion = new Map<string, Partial<Record<ApiName, number>>>();

  call(api: ApiName, key: string, now: number, region: string): void {
    this.total++;
    this.byApi[api]++;
    let regional = this.byRegion.get(region);
    if (!regional) this.byRegion.set(region, (regional = {}));
    regional[api] = (regional[api] ?? 0) + 1;
    const keys = this.byKey[api];
    const k = keys.has(key) || keys.size < MAX_KEYS_PER_API ? key : "(other)";
    keys.set(k, (keys.get(k) ?? 0) + 1);
    this.window.add(now);
    this.windowByApi[api].add(now);
  }

  accept(api: ApiName, now: number): void {
    this.accepted.add(now);
    this.acceptedByApi[api].add(now);
  }

  snapshot(): EmulatorStats {
    const sum = (r: Record<ApiName, number>) => API_NAMES.reduce((n, api) => n + r[api], 0);
    const byKey = perApi<Record<string, number>>(() => ({}));
    for (const api of API_NAMES) byKey[api] = Object.fromEntries(this.byKey[api]);
    return {
      total: this.total,
      byApi: { ...this.byApi },
      byKey,
      byContact: byKey.DescribeContact,
      byRegion: Object.fromEntries([...this.byRegion].map(([region, apis]) => [region, { ...apis }])),
      throttled: sum(this.throttledByApi),
      throttledByApi: { ...this.throttledByApi },
      injectedFailures: sum(this.injectedByApi),
      injectedByApi: { ...this.injectedByApi },
      unauthenticated: this.unauthenticated,
      maxPerSecond: this.window.max,
      maxPerSecondByApi: perApiFrom((api) => this.windowByApi[api].max),
      maxAcceptedPerSecond: this.accepted.max,
      maxAcceptedPerSecondByApi: perApiFrom((api) => this.acceptedByApi[api].max),
    };
  }
}

function perApiFrom<T>(f: (api: ApiName) => T): Record<ApiName, T> {
  return Object.fromEntries(API_NAMES.map((api) => [api, f(api)])) as Record<ApiName, T>;
}

/** mulberry32, for reproducible failure injection. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Private: the pre-serialized wire form of one instance.

interface SearchEntry {
  contact: Contact;
  /** The ContactSearchSummary, serialized once. */
  json: string;
}

class WireInstance {
  readonly contacts = new Map<string, Buffer>();
  readonly queues = new Map<string, Buffer>();
  readonly users = new Map<string, Buffer>();
  readonly search: SearchEntry[] = [];
  private readonly attributeBodies = new Map<string, Buffer>();

  constructor(
    readonly data: InstanceData,
    describeContactAttributes = true,
  ) {
    for (const [id, contact] of data.contacts) {
      const described = describeContactAttributes ? contact : { ...contact, Attributes: undefined };
      this.contacts.set(id, Buffer.from(toWireJson({ Contact: described })));
      this.search.push({ contact, json: toWireJson(searchSummary(contact)) });
    }
    for (const [id, queue] of data.queues) this.queues.set(id, Buffer.from(toWireJson({ Queue: queue })));
    for (const [id, user] of data.users) this.users.set(id, Buffer.from(toWireJson({ User: user })));
  }

  /** GetContactAttributes body for any contact of a chain (the chain's attributes), or undefined. */
  attributes(contactId: string): Buffer | undefined {
    const contact = this.data.contacts.get(contactId);
    if (!contact) return undefined;
    const initialId = contact.InitialContactId ?? contactId;
    let body = this.attributeBodies.get(initialId);
    if (!body) {
      body = Buffer.from(JSON.stringify({ Attributes: this.data.attributes.get(initialId) ?? {} }));
      this.attributeBodies.set(initialId, body);
    }
    return body;
  }
}

/** The SearchContacts summary of a contact (Connect's `ContactSearchSummary`). */
function searchSummary(c: Contact): ContactSearchSummary {
  const summary: ContactSearchSummary = {
    Arn: c.Arn,
    Id: c.Id,
    InitialContactId: c.InitialContactId,
    PreviousContactId: c.PreviousContactId,
    InitiationMethod: c.InitiationMethod,
    Channel: c.Channel,
    QueueInfo: c.QueueInfo && { Id: c.QueueInfo.Id, EnqueueTimestamp: c.QueueInfo.EnqueueTimestamp },
    AgentInfo: c.AgentInfo && { Id: c.AgentInfo.Id, ConnectedToAgentTimestamp: c.AgentInfo.ConnectedToAgentTimestamp },
    InitiationTimestamp: c.InitiationTimestamp,
    DisconnectTimestamp: c.DisconnectTimestamp,
    ScheduledTimestamp: c.ScheduledTimestamp,
    Name: c.Name,
    RoutingCriteria: c.RoutingCriteria,
    Tags: c.Tags,
    GlobalResiliencyMetadata: c.GlobalResiliencyMetadata,
    AiAgentInfo: c.WisdomInfo?.AiAgents?.map((a) => ({ AiAgentVersionId: a.AiAgentVersionId, AiAgentEscalated: a.AiAgentEscalated, AiUseCase: a.AiUseCase })),
  };
  if (c.SegmentAttributes) {
    // The summary's segment attribute values carry only ValueString and ValueMap.
    const attrs: NonNullable<ContactSearchSummary["SegmentAttributes"]> = {};
    for (const [key, value] of Object.entries(c.SegmentAttributes)) {
      if (value.ValueString !== undefined || value.ValueMap !== undefined) attrs[key] = { ValueString: value.ValueString, ValueMap: value.ValueMap };
    }
    if (Object.keys(attrs).length > 0) summary.SegmentAttributes = attrs;
  }
  return summary;
}

// Private: request validation helpers.

const INSTANCE_ARN = /^arn:aws[a-z-]*:connect:[a-z0-9-]+:\d{12}:instance\/([^/]+)$/;

/** Connect accepts an instance id or an instance ARN. */
function instanceIdOf(raw: string): string {
  return INSTANCE_ARN.exec(raw)?.[1] ?? raw;
}

function checkLength(name: string, value: string, max: number): Answer | undefined {
  if (value.length < 1 || value.length > max) return invalidParameter(`${name} must be between 1 and ${max} characters long`);
  return undefined;
}

function encodeToken(payload: unknown): string {
  return Buffer.from(JSON.stringify(payload)).toString("base64url");
}

function decodeToken(token: string): unknown {
  try {
    return JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
}

/** FNV-1a, to bind a pagination token to the request that produced it. */
function fingerprint(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

const REFERENCE_TYPES: Record<string, string> = {
  Url: "URL",
  Attachment: "ATTACHMENT",
  EmailMessage: "EMAIL_MESSAGE",
  EmailMessageRedacted: "EMAIL_MESSAGE_REDACTED",
  EmailMessagePlainText: "EMAIL_MESSAGE_PLAIN_TEXT",
  EmailMessagePlainTextRedacted: "EMAIL_MESSAGE_PLAIN_TEXT_REDACTED",
  String: "STRING",
  Number: "NUMBER",
  Date: "DATE",
  Email: "EMAIL",
  ContactAnalysis: "CONTACT_ANALYSIS",
};
const KNOWN_REFERENCE_TYPES = new Set(Object.values(REFERENCE_TYPES));

function referenceType(ref: ReferenceSummary): string | undefined {
  for (const key of Object.keys(ref)) if (key in REFERENCE_TYPES) return REFERENCE_TYPES[key];
  return undefined;
}

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

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === "object" && !Array.isArray(v);
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === "string");

function epochSeconds(v: unknown): number | undefined {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) ? n * 1000 : undefined;
}

/** A contact filter from SearchCriteria, or an error answer for criteria it cannot honour. */
function searchFilter(criteria: unknown, region: string): ((c: Contact) => boolean) | Answer {
  if (criteria === undefined) return () => true;
  if (!isObject(criteria)) return invalidParameter("SearchCriteria must be an object");
  const tests: ((c: Contact) => boolean)[] = [];
  const list = (name: string): string[] | Answer | undefined => {
    const v = criteria[name];
    if (v === undefined) return undefined;
    return isStringList(v) ? v : invalidParameter(`SearchCriteria.${name} must be a list of strings`);
  };
  for (const [name, get] of [
    ["Channels", (c: Contact) => c.Channel],
    ["InitiationMethods", (c: Contact) => c.InitiationMethod],
    ["QueueIds", (c: Contact) => c.QueueInfo?.Id],
    ["AgentIds", (c: Contact) => c.AgentInfo?.Id],
    ["ActiveRegions", (c: Contact) => c.GlobalResiliencyMetadata?.ActiveRegion ?? region],
  ] as const) {
    const values = list(name);
    if (values === undefined) continue;
    if (!Array.isArray(values)) return values;
    const set = new Set(values);
    tests.push((c) => set.has(get(c) ?? ""));
  }
  const groups = criteria.AgentHierarchyGroups;
  if (groups !== undefined) {
    if (!isObject(groups)) return invalidParameter("SearchCriteria.AgentHierarchyGroups must be an object");
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
  const keyValues = (name: string, get: (c: Contact, key: string) => string | undefined): Answer | undefined => {
    const spec = criteria[name];
    if (spec === undefined) return undefined;
    if (!isObject(spec) || !Array.isArray(spec.Criteria)) return invalidParameter(`SearchCriteria.${name}.Criteria is required`);
    const items: { key: string; values: Set<string> }[] = [];
    for (const item of spec.Criteria) {
      if (!isObject(item) || typeof item.Key !== "string" || !isStringList(item.Values)) return invalidParameter(`SearchCriteria.${name}.Criteria entries need Key and Values`);
      items.push({ key: item.Key, values: new Set(item.Values) });
    }
    const any = spec.MatchType === "MATCH_ANY";
    if (spec.MatchType !== undefined && spec.MatchType !== "MATCH_ALL" && !any) return invalidParameter(`SearchCriteria.${name}.MatchType must be MATCH_ALL or MATCH_ANY`);
    const one = (c: Contact, i: { key: string; values: Set<string> }) => {
      const v = get(c, i.key);
      return v !== undefined && i.values.has(v);
    };
    tests.push(any ? (c) => items.some((i) => one(c, i)) : (c) => items.every((i) => one(c, i)));
    return undefined;
  };
  const attrError =
    keyValues("SearchableContactAttributes", (c, k) => c.Attributes?.[k]) ??
    keyValues("SearchableSegmentAttributes", (c, k) => c.SegmentAttributes?.[k]?.ValueString);
  if (attrError) return attrError;
  const name = criteria.Name;
  if (name !== undefined) {
    if (!isObject(name) || !isStringList(name.SearchText)) return invalidParameter("SearchCriteria.Name needs SearchText");
    const texts = name.SearchText.map((t) => t.toLowerCase());
    const match = name.MatchType ?? "MATCH_ANY";
    tests.push((c) => {
      const n = c.Name?.toLowerCase();
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
    if (criteria[unsupported] !== undefined) return error(400, "InvalidRequestException", `SearchCriteria.${unsupported} is not supported by the emulator`);
  }
  return (c) => tests.every((t) => t(c));
}

// Private: the server's state and request handling.

const MAX_BODY_BYTES = 1 << 20;

class EmulatorState {
  readonly stats = new Stats();
  private readonly wire = new Map<string, WireInstance>();
  private latencyMs = 0;
  private requireAuth = true;
  private quota: QuotaOption | undefined;
  /** Token buckets per region, made on a region's first call from the current quota option. */
  private buckets = new Map<string, Map<ApiName, TokenBucket> | undefined>();
  private failures: FailureOptions | false | undefined;
  private failureRandom: (() => number) | undefined;
  private failQueue: { count: number; status: number; api?: ApiName | undefined }[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly referencesPageSize: number;

  constructor(
    readonly dataset: Dataset,
    options: EmulatorOptions,
  ) {
    for (const [id, data] of dataset.instances) this.wire.set(id, new WireInstance(data, options.describeContactAttributes ?? true));
    this.referencesPageSize = Math.max(1, options.referencesPageSize ?? 3);
    this.setOptions({ latencyMs: 0, requireAuth: true, ...options });
  }

  setOptions(partial: RuntimeOptions): void {
    if (partial.latencyMs !== undefined) this.latencyMs = Math.max(0, Number(partial.latencyMs) || 0);
    if (partial.requireAuth !== undefined) this.requireAuth = partial.requireAuth;
    if ("quota" in partial) {
      this.quota = partial.quota;
      this.buckets.clear();
    }
    if ("failures" in partial) {
      this.failures = partial.failures;
      this.failureRandom = partial.failures ? prng(partial.failures.seed ?? 1) : undefined;
    }
  }

  runtimeOptions(): Emulator["options"] {
    return { latencyMs: this.latencyMs, requireAuth: this.requireAuth, quota: this.quota, failures: this.failures };
  }

  failNext(count: number, status: number, api?: ApiName): void {
    if (count > 0) this.failQueue.push({ count, status, api });
  }

  resetStats(): void {
    Object.assign(this.stats, new Stats());
    this.buckets.clear();
  }

  async close(server: Server): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const done = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await done;
  }

  handle(req: IncomingMessage, res: ServerResponse): void {
    try {
      this.dispatch(req, res);
    } catch (err) {
      this.send(res, error(500, "InternalServiceException", `Emulator error: ${err instanceof Error ? err.message : String(err)}`));
    }
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? "" : url.slice(q + 1);
    const method = req.method ?? "GET";
    req.on("error", () => res.destroy());

    if (path.startsWith("/_emulator/")) {
      this.admin(req, res, method, path);
      return;
    }
    const matched = route(method, path);
    if (matched === undefined) {
      req.resume();
      this.send(res, error(404, "UnknownOperationException", `The emulator does not implement ${method} ${path}`));
      return;
    }
    const region = credentialRegion(req.headers.authorization) ?? this.dataset.region;
    if (this.requireAuth) {
      const refusal = checkAuthorization(req.headers.authorization);
      if (refusal) {
        req.resume();
        this.stats.unauthenticated++;
        this.reply(res, refusal);
        return;
      }
    }
    if (matched === "malformed") {
      req.resume();
      this.reply(res, invalidParameter("The request path contains a malformed percent-encoding"));
      return;
    }
    const { api, labels } = matched;
    if (api === "SearchContacts") {
      readBody(req, (body) => {
        let parsed: unknown;
        try {
          parsed = body === undefined ? undefined : body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
        } catch {
          parsed = undefined;
        }
        const instanceKey = isObject(parsed) && typeof parsed.InstanceId === "string" ? parsed.InstanceId : "";
        this.call(res, api, instanceKey, region, () => {
          if (body === undefined) return error(413, "RequestEntityTooLargeException", "Request body too large");
          if (!isObject(parsed)) return error(400, "SerializationException", "The request body is not a JSON object");
          return this.searchContacts(parsed);
        });
      });
      return;
    }
    req.resume();
    const [instanceId = "", id = ""] = labels;
    this.call(res, api, `${instanceId}/${id}`, region, () => this.read(api, instanceId, id, query));
  }

  /** Counts the call, applies quota and failure injection, then answers with `answer()`. */
  private call(res: ServerResponse, api: ApiName, key: string, region: string, answer: () => Answer): void {
    if (!this.buckets.has(region)) this.buckets.set(region, bucketsFor(this.quota));
    const buckets = this.buckets.get(region);
    const now = performance.now();
    this.stats.call(api, key, now, region);
    if (buckets && !buckets.get(api)!.take(now)) {
      this.stats.throttledByApi[api]++;
      this.reply(res, error(429, "ThrottlingException", "Rate exceeded"));
      return;
    }
    this.stats.accept(api, now);
    const injected = this.injectedFailure(api);
    if (injected) {
      this.stats.injectedByApi[api]++;
      this.reply(res, injected);
      return;
    }
    this.reply(res, answer());
  }

  private injectedFailure(api: ApiName): Answer | undefined {
    const queued = this.failQueue.find((f) => f.api === undefined || f.api === api);
    if (queued) {
      queued.count--;
      if (queued.count <= 0) this.failQueue.splice(this.failQueue.indexOf(queued), 1);
      return error(queued.status, injectedErrorType(queued.status), "Injected failure");
    }
    const f = this.failures;
    if (f && this.failureRandom && (!f.apis || f.apis.includes(api)) && this.failureRandom() < f.rate) {
      const status = f.status ?? 500;
      return error(status, f.code ?? injectedErrorType(status), "Injected failure");
    }
    return undefined;
  }

  private instance(rawInstanceId: string): WireInstance | Answer {
    const bad = checkLength("InstanceId", rawInstanceId, 100);
    if (bad) return bad;
    return this.wire.get(instanceIdOf(rawInstanceId)) ?? notFound(`Instance not found: ${rawInstanceId}`);
  }

  /** The GET operations. */
  private read(api: ApiName, rawInstanceId: string, id: string, query: string): Answer {
    const instance = this.instance(rawInstanceId);
    if (!(instance instanceof WireInstance)) return instance;
    switch (api) {
      case "DescribeContact": {
        const bad = checkLength("ContactId", id, 256);
        if (bad) return bad;
        const body = instance.contacts.get(id);
        return body ? { status: 200, body } : notFound(`Contact not found: ${id}`);
      }
      case "DescribeQueue": {
        const bad = checkLength("QueueId", id, 256);
        if (bad) return bad;
        const body = instance.queues.get(id);
        return body ? { status: 200, body } : notFound(`Queue not found: ${id}`);
      }
      case "DescribeUser": {
        const bad = checkLength("UserId", id, 256);
        if (bad) return bad;
        const body = instance.users.get(id);
        return body ? { status: 200, body } : notFound(`User not found: ${id}`);
      }
      case "GetContactAttributes": {
        const bad = checkLength("InitialContactId", id, 256);
        if (bad) return bad;
        const body = instance.attributes(id);
        return body ? { status: 200, body } : notFound(`Contact not found: ${id}`);
      }
      case "ListContactReferences":
        return this.listReferences(instance, id, new URLSearchParams(query));
      default:
        return error(404, "UnknownOperationException", `Unknown operation ${api}`);
    }
  }

  private listReferences(instance: WireInstance, contactId: string, params: URLSearchParams): Answer {
    const bad = checkLength("ContactId", contactId, 256);
    if (bad) return bad;
    const types = params.getAll("referenceTypes").flatMap((t) => t.split(",")).filter((t) => t !== "");
    if (types.length === 0) return invalidParameter("ReferenceTypes is required");
    const unknown = types.find((t) => !KNOWN_REFERENCE_TYPES.has(t));
    if (unknown) return invalidParameter(`Unknown reference type: ${unknown}`);
    if (!instance.data.contacts.has(contactId)) return notFound(`Contact not found: ${contactId}`);
    const wanted = new Set(types);
    const all = (instance.data.references.get(contactId) ?? []).filter((r) => wanted.has(referenceType(r) ?? ""));
    const binding = fingerprint(`${contactId}|${[...wanted].sort().join(",")}`);
    let offset = 0;
    const token = params.get("nextToken");
    if (token !== null) {
      const decoded = decodeToken(token);
      if (!Array.isArray(decoded) || decoded[1] !== binding || typeof decoded[0] !== "number" || decoded[0] < 0) return invalidParameter("The NextToken is not valid for this request");
      offset = decoded[0];
    }
    const page = all.slice(offset, offset + this.referencesPageSize);
    const next = offset + page.length < all.length ? encodeToken([offset + page.length, binding]) : undefined;
    return { status: 200, body: JSON.stringify({ ReferenceSummaryList: page, NextToken: next }) };
  }

  private searchContacts(body: Json): Answer {
    if (typeof body.InstanceId !== "string") return invalidParameter("InstanceId is required");
    const instance = this.instance(body.InstanceId);
    if (!(instance instanceof WireInstance)) return instance;
    const range = body.TimeRange;
    if (!isObject(range)) return invalidParameter("TimeRange is required");
    const field = typeof range.Type === "string" ? TIME_RANGE_FIELDS[range.Type] : undefined;
    if (!field) return invalidParameter(`TimeRange.Type must be one of ${Object.keys(TIME_RANGE_FIELDS).join(", ")}`);
    const start = epochSeconds(range.StartTime);
    const end = epochSeconds(range.EndTime);
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
    const filter = searchFilter(body.SearchCriteria, this.dataset.region);
    if (typeof filter !== "function") return filter;

    const binding = fingerprint(JSON.stringify([instanceIdOf(body.InstanceId), range.Type, start, end, body.SearchCriteria ?? null, body.Sort ?? null]));
    let offset = 0;
    if (body.NextToken !== undefined) {
      const decoded = typeof body.NextToken === "string" ? decodeToken(body.NextToken) : undefined;
      if (!Array.isArray(decoded) || decoded[1] !== binding || typeof decoded[0] !== "number" || decoded[0] < 0) return invalidParameter("The NextToken is not valid for this request");
      offset = decoded[0];
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
    const next = nextOffset < keyed.length ? `,"NextToken":${JSON.stringify(encodeToken([nextOffset, binding]))}` : "";
    return { status: 200, body: `{"Contacts":[${page.map((p) => p.e.json).join(",")}]${next},"TotalCount":${keyed.length}}` };
  }

  // Admin surface.

  private admin(req: IncomingMessage, res: ServerResponse, method: string, path: string): void {
    const json = (status: number, value: unknown) => this.send(res, { status, body: JSON.stringify(value) });
    if (method === "GET" && path === "/_emulator/stats") return (req.resume(), json(200, this.stats.snapshot()));
    if (method === "GET" && path === "/_emulator/config") return (req.resume(), json(200, this.runtimeOptions()));
    if (method === "GET" && path === "/_emulator/demo") return (req.resume(), json(200, DEMO));
    if (method === "GET" && path === "/_emulator/health") return (req.resume(), json(200, { ok: true }));
    if (method === "POST" && path === "/_emulator/reset") {
      req.resume();
      this.resetStats();
      return json(200, { ok: true });
    }
    if (method === "POST" && path === "/_emulator/config") {
      readBody(req, (body) => {
        let parsed: unknown;
        try {
          parsed = body === undefined ? undefined : JSON.parse(body.toString("utf8") || "{}");
        } catch {
          parsed = undefined;
        }
        const problem = applyAdminConfig(this, parsed);
        if (problem) json(400, { Message: problem });
        else json(200, this.runtimeOptions());
      });
      return;
    }
    req.resume();
    json(404, { Message: `Unknown emulator admin endpoint: ${method} ${path}` });
  }

  // Answers.

  /** Answers an API request after the configured latency. */
  private reply(res: ServerResponse, answer: Answer): void {
    if (this.latencyMs <= 0) {
      this.send(res, answer);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.send(res, answer);
    }, this.latencyMs);
    this.timers.add(timer);
  }

  private send(res: ServerResponse, answer: Answer): void {
    if (res.destroyed || res.headersSent) return;
    const body = answer.body;
    const headers: Record<string, string | number> = {
      "content-type": JSON_TYPE,
      "content-length": typeof body === "string" ? Buffer.byteLength(body) : body.length,
      "x-amzn-requestid": randomUUID(),
    };
    if (answer.errorType) headers["x-amzn-errortype"] = answer.errorType;
    res.writeHead(answer.status, headers);
    res.end(body);
  }
}

function cmp(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The region of a SigV4 `Authorization` header's credential scope, if it has one. */
function credentialRegion(header: string | undefined): string | undefined {
  const region = header ? /Credential=[^/,]+\/\d{8}\/([a-z0-9-]{1,32})\//.exec(header)?.[1] : undefined;
  return region !== undefined && /^[a-z]{2}(?:-[a-z]+)+-\d+$/.test(region) ? region : undefined;
}

/** Connect refuses unsigned requests before anything else; the signature itself is not checked. */
function checkAuthorization(header: string | undefined): Answer | undefined {
  if (!header) return error(403, "MissingAuthenticationTokenException", "Missing Authentication Token");
  if (!header.startsWith("AWS4-HMAC-SHA256 ") || !header.includes("Credential=") || !header.includes("Signature=")) {
    return error(403, "IncompleteSignatureException", "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters (AWS4-HMAC-SHA256).");
  }
  const scope = /Credential=[^/,]+\/\d{8}\/[^/,]+\/([^/,]+)\/aws4_request/.exec(header);
  if (!scope) return error(403, "IncompleteSignatureException", "Authorization header has a malformed Credential scope.");
  if (scope[1] !== "connect") return error(403, "InvalidSignatureException", `Credential should be scoped to correct service: 'connect', not '${scope[1]}'.`);
  return undefined;
}

/** Reads a request body up to MAX_BODY_BYTES; `undefined` when it is larger. */
function readBody(req: IncomingMessage, done: (body: Buffer | undefined) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  req.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) tooLarge = true;
    else chunks.push(chunk);
  });
  req.on("end", () => done(tooLarge ? undefined : Buffer.concat(chunks)));
}

/** Applies a `POST /_emulator/config` body; returns a problem description or undefined. */
function applyAdminConfig(state: EmulatorState, body: unknown): string | undefined {
  if (!isObject(body)) return "The body must be a JSON object";
  const partial: RuntimeOptions = {};
  if ("latencyMs" in body) {
    if (typeof body.latencyMs !== "number" || body.latencyMs < 0) return "latencyMs must be a non-negative number";
    partial.latencyMs = body.latencyMs;
  }
  if ("requireAuth" in body) {
    if (typeof body.requireAuth !== "boolean") return "requireAuth must be a boolean";
    partial.requireAuth = body.requireAuth;
  }
  if ("quota" in body) {
    const q = body.quota;
    if (!(q === null || typeof q === "boolean" || (isObject(q) && (q.rps === undefined || typeof q.rps === "number") && (q.burst === undefined || typeof q.burst === "number")))) {
      return "quota must be false, true or { rps, burst, perApi }";
    }
    partial.quota = (q ?? false) as QuotaOption;
  }
  if ("failures" in body) {
    const f = body.failures;
    if (!(f === null || f === false || (isObject(f) && typeof f.rate === "number"))) return "failures must be false or { rate, status?, code?, seed?, apis? }";
    partial.failures = (f ?? false) as FailureOptions | false;
  }
  if ("failNext" in body) {
    const n = body.failNext;
    if (!isObject(n) || typeof n.count !== "number") return "failNext must be { count, status?, api? }";
    if (n.api !== undefined && !API_NAMES.includes(n.api as ApiName)) return `failNext.api must be one of ${API_NAMES.join(", ")}`;
    state.failNext(n.count, typeof n.status === "number" ? n.status : 500, n.api as ApiName | undefined);
  }
  state.setOptions(partial);
  return undefined;
}
