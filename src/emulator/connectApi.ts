import type { IncomingMessage, ServerResponse } from "node:http";
import type { ReferenceSummary } from "@aws-sdk/client-connect";
import { connectError, invalidParameter, notFound, sendAnswer, type Answer } from "./answer.js";
import type { ApiName } from "./apiNames.js";
import { checkAuthorization, credentialRegion } from "./authorization.js";
import type { Dataset } from "./dataset.js";
import { FailureInjector } from "./failureInjector.js";
import { isObject } from "./jsonValue.js";
import type { CurrentOptions, RuntimeOptions } from "./options.js";
import { decodePageToken, encodePageToken, requestFingerprint } from "./paginationToken.js";
import { RegionalQuotas } from "./quotas.js";
import { readBody } from "./readBody.js";
import { searchContacts } from "./searchContacts.js";
import type { Stats } from "./stats.js";
import { WireInstance } from "./wireInstance.js";

/**
 * Connect's REST-JSON API over the data set: routes Connect's paths, refuses unsigned requests,
 * counts every routed call, applies the quota and injected failures, and answers after the
 * configured latency. Answers follow Connect: JSON bodies with PascalCase members, timestamps as
 * epoch seconds, absent members omitted; errors as status code + `x-amzn-errortype` header +
 * `{"Message": ...}` body.
 */
export class ConnectApi {
  private latencyMs = 0;
  private requireAuth = true;
  private readonly quotas: RegionalQuotas;
  private readonly failures: FailureInjector;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly referencesPageSize: number;
  /** The regions whose endpoints serve the data set's instances (`EmulatorOptions.regions`). */
  private readonly regions: ReadonlySet<string>;

  constructor(
    private readonly dataset: Dataset,
    /** The wire form of each instance, by instance id (shared with the contact events, which change it). */
    private readonly wire: ReadonlyMap<string, WireInstance>,
    private readonly stats: Stats,
    options: RuntimeOptions & { referencesPageSize?: number | undefined; regions?: readonly string[] | undefined },
  ) {
    this.referencesPageSize = Math.max(1, options.referencesPageSize ?? 3);
    this.regions = new Set(options.regions ?? [dataset.region]);
    this.quotas = new RegionalQuotas(undefined);
    this.failures = new FailureInjector(undefined);
    this.setOptions({ latencyMs: 0, requireAuth: true, ...options });
  }

  setOptions(partial: RuntimeOptions): void {
    if (partial.latencyMs !== undefined) this.latencyMs = Math.max(0, Number(partial.latencyMs) || 0);
    if (partial.requireAuth !== undefined) this.requireAuth = partial.requireAuth;
    if ("quota" in partial) this.quotas.set(partial.quota);
    if ("failures" in partial) this.failures.set(partial.failures);
  }

  get options(): CurrentOptions {
    return { latencyMs: this.latencyMs, requireAuth: this.requireAuth, quota: this.quotas.current, failures: this.failures.current };
  }

  /** Whether requests must carry a SigV4 header (shared with the other APIs the emulator serves). */
  get authRequired(): boolean {
    return this.requireAuth;
  }

  failNext(count: number, status: number, api?: ApiName): void {
    this.failures.failNext(count, status, api);
  }

  /** Refills the quota buckets (with the accounting reset). */
  refillQuotas(): void {
    this.quotas.refill();
  }

  /** Drops answers still waiting for their latency. */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  handle(req: IncomingMessage, res: ServerResponse, method: string, path: string, query: string): void {
    const matched = route(method, path);
    if (matched === undefined) {
      req.resume();
      sendAnswer(res, connectError(404, "UnknownOperationException", `The emulator does not implement ${method} ${path}`));
      return;
    }
    const region = credentialRegion(req.headers.authorization) ?? this.dataset.region;
    if (this.requireAuth) {
      const refusal = checkAuthorization(req.headers.authorization, "connect");
      if (refusal) {
        req.resume();
        this.stats.unauthenticated++;
        this.reply(res, connectError(403, refusal.code, refusal.message));
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
          if (body === undefined) return connectError(413, "RequestEntityTooLargeException", "Request body too large");
          if (!isObject(parsed)) return connectError(400, "SerializationException", "The request body is not a JSON object");
          if (typeof parsed.InstanceId !== "string") return invalidParameter("InstanceId is required");
          const instance = this.instance(parsed.InstanceId, region);
          return instance instanceof WireInstance ? searchContacts(instance, parsed, this.dataset.region) : instance;
        });
      });
      return;
    }
    req.resume();
    const [instanceId = "", id = ""] = labels;
    this.call(res, api, `${instanceId}/${id}`, region, () => this.read(api, instanceId, id, query, region));
  }

  // Private: counts the call, applies quota and failure injection, then answers with `answer()`.
  private call(res: ServerResponse, api: ApiName, key: string, region: string, answer: () => Answer): void {
    const now = performance.now();
    this.stats.call(api, key, now, region);
    if (!this.quotas.take(region, api, now)) {
      this.stats.throttledByApi[api]++;
      this.reply(res, connectError(429, "ThrottlingException", "Rate exceeded"));
      return;
    }
    this.stats.accept(api, now);
    const injected = this.failures.next(api);
    if (injected) {
      this.stats.injectedByApi[api]++;
      this.reply(res, injected);
      return;
    }
    this.reply(res, answer());
  }

  // Private: answers after the configured latency.
  private reply(res: ServerResponse, answer: Answer): void {
    if (this.latencyMs <= 0) {
      sendAnswer(res, answer);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      sendAnswer(res, answer);
    }, this.latencyMs);
    this.timers.add(timer);
  }

  /**
   * The instance a request names, as the regional endpoint it was sent to (`region`, its SigV4
   * credential scope's) knows it: an instance lives in one region of one account, so another
   * region's endpoint, or an ARN naming another region or account, finds nothing
   * (ResourceNotFoundException), as Connect answers. A gateway that sent a read to the wrong region
   * gets the error it would get from Connect, not the data.
   */
  private instance(rawInstanceId: string, region: string): WireInstance | Answer {
    const bad = checkLength("InstanceId", rawInstanceId, 100);
    if (bad) return bad;
    const arn = INSTANCE_ARN.exec(rawInstanceId);
    const elsewhere = !this.regions.has(region) || (arn !== null && (arn[1] !== region || arn[2] !== this.dataset.accountId));
    return (elsewhere ? undefined : this.wire.get(arn?.[3] ?? rawInstanceId)) ?? notFound(`Instance not found: ${rawInstanceId}`);
  }

  // Private: the GET operations.
  private read(api: ApiName, rawInstanceId: string, id: string, query: string, region: string): Answer {
    const instance = this.instance(rawInstanceId, region);
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
        return connectError(404, "UnknownOperationException", `Unknown operation ${api}`);
    }
  }

  private listReferences(instance: WireInstance, contactId: string, params: URLSearchParams): Answer {
    const bad = checkLength("ContactId", contactId, 256);
    if (bad) return bad;
    const types = params.getAll("referenceTypes").flatMap((t) => t.split(",")).filter((t) => t !== "");
    if (types.length === 0) return invalidParameter("ReferenceTypes is required");
    // Connect's bound (API reference: "Array Members: Maximum number of 6 items").
    if (types.length > 6) return invalidParameter("ReferenceTypes must have at most 6 items");
    const unknown = types.find((t) => !KNOWN_REFERENCE_TYPES.has(t));
    if (unknown) return invalidParameter(`Unknown reference type: ${unknown}`);
    if (!instance.data.contacts.has(contactId)) return notFound(`Contact not found: ${contactId}`);
    const wanted = new Set(types);
    const all = (instance.data.references.get(contactId) ?? []).filter((r) => wanted.has(referenceType(r) ?? ""));
    const binding = requestFingerprint(`${contactId}|${[...wanted].sort().join(",")}`);
    let offset = 0;
    const token = params.get("nextToken");
    if (token !== null) {
      const decoded = decodePageToken(token, binding);
      if (decoded === undefined) return invalidParameter("The NextToken is not valid for this request");
      offset = decoded;
    }
    const page = all.slice(offset, offset + this.referencesPageSize);
    const next = offset + page.length < all.length ? encodePageToken(offset + page.length, binding) : undefined;
    return { status: 200, body: JSON.stringify({ ReferenceSummaryList: page, NextToken: next }) };
  }
}

// Private: routing.

interface Route {
  api: ApiName;
  /** Decoded path labels. */
  labels: string[];
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

function decodeLabels(parts: string[]): string[] | undefined {
  try {
    return parts.map((p) => decodeURIComponent(p));
  } catch {
    return undefined;
  }
}

// Private: request validation.

/** An instance ARN (Connect accepts one where an instance id goes): its region, account and instance id. */
const INSTANCE_ARN = /^arn:aws[a-z-]*:connect:([a-z0-9-]+):(\d{12}):instance\/([^/]+)$/;


function checkLength(name: string, value: string, max: number): Answer | undefined {
  if (value.length < 1 || value.length > max) return invalidParameter(`${name} must be between 1 and ${max} characters long`);
  return undefined;
}

// Private: ListContactReferences' types (the SDK's union members and the wire's enumeration).

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
