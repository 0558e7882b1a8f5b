import type { IncomingMessage, ServerResponse } from "node:http";
import { sendAnswer } from "./answer.js";
import { API_NAMES, type ApiName } from "./apiNames.js";
import { DEMO } from "./dataset.js";
import type { FailureOptions } from "./failureInjector.js";
import { isObject } from "./jsonValue.js";
import type { CurrentOptions, RuntimeOptions } from "./options.js";
import type { QuotaOption } from "./quotas.js";
import { parseJsonBody, readBody } from "./readBody.js";
import type { EmulatorStats } from "./stats.js";

/** What the admin surface controls: the running emulator, seen through this interface only. */
export interface AdminTarget {
  readonly calls: EmulatorStats;
  readonly options: CurrentOptions;
  setOptions(partial: RuntimeOptions): void;
  failNext(count: number, status?: number, api?: ApiName): void;
  resetStats(): void;
}

/**
 * The emulator's admin surface, outside Connect's path space and without authentication, for
 * tests and benchmarks that drive an emulator in another process:
 * `GET /_emulator/stats`, `POST /_emulator/reset`, `GET|POST /_emulator/config`,
 * `GET /_emulator/demo`, `GET /_emulator/health`. Answers are JSON; a refused body answers 400
 * `{"Message": ...}`.
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
  req.resume();
  json(404, { Message: `Unknown emulator admin endpoint: ${method} ${path}` });
}

// Private: applies a `POST /_emulator/config` body; returns a problem description or undefined.
function applyConfig(target: AdminTarget, body: unknown): string | undefined {
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
    target.failNext(n.count, typeof n.status === "number" ? n.status : 500, n.api as ApiName | undefined);
  }
  target.setOptions(partial);
  return undefined;
}
