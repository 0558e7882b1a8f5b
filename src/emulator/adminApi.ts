import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { sendAnswer } from "./answer.js";
import { API_NAMES, type ApiName } from "./apiNames.js";
import { ContactEventError } from "./contactEvents.js";
import { DEMO } from "./dataset.js";
import type { EmulatorEvents } from "./emulatorEvents.js";
import type { FailureOptions } from "./failureInjector.js";
import { isObject } from "./jsonValue.js";
import type { CurrentOptions, RuntimeOptions } from "./options.js";
import type { QuotaOption } from "./quotas.js";
import { parseJsonBody, readBody } from "./readBody.js";
import type { EmulatorStats } from "./stats.js";
import { MAX_TIMER_MS } from "./timers.js";

/** What the admin surface controls: the running emulator, seen through this interface only. */
export interface AdminTarget {
  readonly calls: EmulatorStats;
  readonly options: CurrentOptions;
  setOptions(partial: RuntimeOptions): void;
  failNext(count: number, status?: number, api?: ApiName): void;
  resetStats(): void;
  readonly events: EmulatorEvents;
}

/**
 * The emulator's admin surface, outside Connect's path space and without authentication, for
 * tests and benchmarks that drive an emulator in another process:
 * - `GET /_emulator/stats`, `POST /_emulator/reset`, `GET|POST /_emulator/config`,
 *   `GET /_emulator/demo`, `GET /_emulator/health`;
 * - contact events: `POST /_emulator/events` (body: an `events.emit` input, `time` as ISO-8601 or
 *   epoch ms; answers the event queued), `POST /_emulator/events/raw` (the body is queued as it is;
 *   answers `{ MessageId }`), `GET|POST /_emulator/events/live` (the live traffic; POST
 *   `{ contactsPerMinute?, stepSeconds? }` changes it), `GET /_emulator/events/queue` (the queue URLs
 *   and depths).
 * Answers are JSON; a refused body answers 400 `{"Message": ...}`.
 */
export function handleAdmin(target: AdminTarget, req: IncomingMessage, res: ServerResponse, method: string, path: string): void {
  const json = (status: number, value: unknown) => sendAnswer(res, { status, body: JSON.stringify(value) });
  const withBody = (answer: (body: unknown) => void) => readBody(req, (body) => answer(parseJsonBody(body)));
  if (method === "GET" && path === "/_emulator/stats") return (req.resume(), json(200, target.calls));
  if (method === "GET" && path === "/_emulator/config") return (req.resume(), json(200, target.options));
  if (method === "GET" && path === "/_emulator/demo") return (req.resume(), json(200, DEMO));
  if (method === "GET" && path === "/_emulator/health") return (req.resume(), json(200, { ok: true }));
  if (method === "POST" && path === "/_emulator/reset") {
    req.resume();
    target.resetStats();
    return json(200, { ok: true });
  }
  if (method === "POST" && path === "/_emulator/config") {
    return withBody((body) => {
      const problem = applyConfig(target, body);
      if (problem) json(400, { Message: problem });
      else json(200, target.options);
    });
  }
  if (method === "POST" && path === "/_emulator/events") {
    return withBody((body) => {
      const input = EMIT_INPUT.safeParse(body);
      if (!input.success) return json(400, { Message: problemOf(input.error) });
      try {
        json(200, target.events.emit(input.data));
      } catch (error) {
        if (!(error instanceof ContactEventError)) throw error;
        json(400, { Message: error.message });
      }
    });
  }
  if (method === "POST" && path === "/_emulator/events/raw") {
    return readBody(req, (body) => {
      if (body === undefined || body.length === 0) return json(400, { Message: "The body is the message to queue: 1 byte to 1 MiB" });
      json(200, target.events.sendRaw(body.toString("utf8")));
    });
  }
  if (method === "GET" && path === "/_emulator/events/live") return (req.resume(), json(200, target.events.live));
  if (method === "POST" && path === "/_emulator/events/live") {
    return withBody((body) => {
      const live = LIVE_INPUT.safeParse(body);
      if (!live.success) return json(400, { Message: problemOf(live.error) });
      target.events.setLive(live.data);
      json(200, target.events.live);
    });
  }
  if (method === "GET" && path === "/_emulator/events/queue") {
    req.resume();
    const { events } = target;
    return json(200, { queueUrl: events.queueUrl, ...events.depth(), ...(events.deadLetterQueueUrl && { deadLetterQueueUrl: events.deadLetterQueueUrl, deadLetter: events.deadLetterDepth() }) });
  }
  req.resume();
  json(404, { Message: `Unknown emulator admin endpoint: ${method} ${path}` });
}

// Private: the bodies of the event endpoints.

const EMIT_INPUT = z.strictObject({
  eventType: z.string().min(1),
  instanceId: z.string().min(1).optional(),
  contactId: z.string().min(1).max(256).optional(),
  previousContactId: z.string().min(1).max(256).optional(),
  channel: z.enum(["VOICE", "CHAT", "TASK", "EMAIL"]).optional(),
  initiationMethod: z.string().min(1).optional(),
  queueId: z.string().min(1).optional(),
  agentId: z.string().min(1).optional(),
  disconnectReason: z.string().min(1).optional(),
  attributes: z.record(z.string(), z.string()).optional(),
  name: z.string().optional(),
  description: z.string().optional(),
  updatedProperties: z.array(z.string()).optional(),
  time: z.union([z.iso.datetime({ offset: true }), z.number()]).optional(),
});

const LIVE_INPUT = z.strictObject({
  contactsPerMinute: z.number().min(0).max(6000).optional(),
  stepSeconds: z.number().positive().max(3600).optional(),
});

function problemOf(error: z.ZodError): string {
  const issue = error.issues[0];
  return issue ? `${issue.path.length > 0 ? `${issue.path.join(".")}: ` : ""}${issue.message}` : "Invalid body";
}

// Private: applies a `POST /_emulator/config` body; returns a problem description or undefined.
function applyConfig(target: AdminTarget, body: unknown): string | undefined {
  if (!isObject(body)) return "The body must be a JSON object";
  const partial: RuntimeOptions = {};
  if ("latencyMs" in body) {
    if (typeof body.latencyMs !== "number" || !(body.latencyMs >= 0 && body.latencyMs <= MAX_TIMER_MS)) return `latencyMs must be a number from 0 to ${MAX_TIMER_MS}`;
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
    target.failNext(n.count, typeof n.status === "number" ? n.status : 500, n.api as ApiName | undefined);
  }
  target.setOptions(partial);
  return undefined;
}
