import { upstreamOutcome, type GatewayMetrics, type UpstreamOutcome } from "../observability/metrics.js";
import { countUpstreamCall } from "./operationScope.js";
import type { CallOptions, QuotaScope, Upstream } from "./upstream.js";

const METERED = Symbol("metered");

/**
 * The upstream methods that are calls to Connect, and where each takes its `CallOptions` (its last
 * parameter). A method missing here is passed through uncounted.
 */
const UPSTREAM_CALLS: Readonly<Record<string, number>> = {
  describeContact: 1,
  describeQueue: 1,
  describeUser: 1,
  getContactAttributes: 1,
  listContactReferences: 3,
  searchContacts: 2,
};

/**
 * Wraps the upstream so every request sent to Connect is counted: in the metrics by API and outcome
 * (one per call, with the SDK's retries in `connect_upstream_retries_total`) and in the current
 * operation's upstream call count (`CallOptions.operation`), which counts every attempt, as Connect
 * and the emulator do. Attempts are seen through `CallOptions.beforeAttempt`; a call the quota
 * limiter refused before its first attempt never reached Connect and is not counted here (the
 * limiter's own metric has it). Wrapping twice counts once.
 */
export function meteredUpstream<U extends Upstream>(upstream: U, metrics: GatewayMetrics): U {
  if (METERED in upstream) return upstream;
  // Methods not listed (destroy, client) are inherited unchanged.
  const metered = Object.create(upstream) as Record<string | symbol, unknown>;
  metered[METERED] = true;
  for (const [method, optionsAt] of Object.entries(UPSTREAM_CALLS)) {
    const call = (upstream as unknown as Record<string, unknown>)[method];
    if (typeof call !== "function") continue;
    const api = method[0]!.toUpperCase() + method.slice(1);
    metered[method] = async (...args: unknown[]) => {
      let attempts = 0;
      const options = (args[optionsAt] ?? {}) as CallOptions;
      args[optionsAt] = {
        ...options,
        beforeAttempt: async (scope: QuotaScope, attempt: number) => {
          await options.beforeAttempt?.(scope, attempt);
          attempts = attempt;
          countUpstreamCall(options.operation);
        },
      } satisfies CallOptions;
      const started = process.hrtime.bigint();
      const record = (outcome: UpstreamOutcome) => {
        // An upstream that does not report attempts (a test double) made one.
        if (attempts === 0) {
          attempts = 1;
          countUpstreamCall(options.operation);
        }
        metrics.observeUpstreamCall(api, outcome, Number(process.hrtime.bigint() - started) / 1e9, attempts - 1);
      };
      try {
        const result: unknown = await (call as (...a: unknown[]) => Promise<unknown>).apply(upstream, args);
        record("ok");
        return result;
      } catch (error) {
        if (!(attempts === 0 && (error as { name?: unknown } | null)?.name === "QuotaWaitExceeded")) record(upstreamOutcome(error));
        throw error;
      }
    };
  }
  return metered as unknown as U;
}
