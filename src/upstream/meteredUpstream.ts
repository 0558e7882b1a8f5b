import type { SearchContactsRequest, SearchContactsResponse } from "@aws-sdk/client-connect";
import type { RelatedApi } from "../domain/apiQuotas.js";
import type { ContactRef } from "../domain/contactRef.js";
import type { ResourceRef } from "../domain/resourceRef.js";
import { upstreamOutcome, type GatewayMetrics, type UpstreamOutcome } from "../observability/metrics.js";
import type { UpstreamTarget } from "../observability/tracing.js";
import { countUpstreamCall } from "./operationScope.js";
import type { CallOptions, ContactAnswer, QueueAnswer, ReferencesPage, Upstream, UserAnswer } from "./upstream.js";

/** The Connect APIs the gateway calls, as the metrics name them. */
export type ConnectApi = "DescribeContact" | RelatedApi;

/**
 * An `Upstream` that counts every request sent to Connect: in the metrics by API and outcome (one
 * per call, with the SDK's retries in `connect_upstream_retries_total`) and in the current
 * operation's upstream call count (`CallOptions.operation`), which counts every attempt, as Connect
 * and the emulator do. Attempts are seen through `CallOptions.beforeAttempt`; a call refused before
 * its first attempt (a quota or concurrency wait that would have been too long) never reached
 * Connect and is not counted here (the limiter's metric has it). With tracing on, each call is also
 * a span, child of its operation's (`OperationScope.trace`): API, region, instance, outcome,
 * attempts and time waited for quota (src/observability/tracing.ts). Each method delegates
 * explicitly, so the compiler checks every one against `Upstream`.
 */
export class MeteredUpstream implements Upstream {
  constructor(
    private readonly upstream: Upstream,
    private readonly metrics: Pick<GatewayMetrics, "observeUpstreamCall">,
  ) {}

  describeContact(ref: ContactRef, options?: CallOptions): Promise<ContactAnswer> {
    return this.metered("DescribeContact", ref, options, (o) => this.upstream.describeContact(ref, o));
  }

  describeQueue(ref: ResourceRef, options?: CallOptions): Promise<QueueAnswer> {
    return this.metered("DescribeQueue", ref, options, (o) => this.upstream.describeQueue(ref, o));
  }

  describeUser(ref: ResourceRef, options?: CallOptions): Promise<UserAnswer> {
    return this.metered("DescribeUser", ref, options, (o) => this.upstream.describeUser(ref, o));
  }

  getContactAttributes(ref: ContactRef, options?: CallOptions): Promise<Record<string, string>> {
    return this.metered("GetContactAttributes", ref, options, (o) => this.upstream.getContactAttributes(ref, o));
  }

  listContactReferences(ref: ContactRef, types: readonly string[], nextToken: string | undefined, options?: CallOptions): Promise<ReferencesPage> {
    return this.metered("ListContactReferences", ref, options, (o) => this.upstream.listContactReferences(ref, types, nextToken, o));
  }

  searchContacts(region: string, input: SearchContactsRequest, options?: CallOptions): Promise<SearchContactsResponse> {
    return this.metered("SearchContacts", { region, instanceId: input.InstanceId }, options, (o) => this.upstream.searchContacts(region, input, o));
  }

  destroy(): void {
    this.upstream.destroy();
  }

  // Private: one call, its attempts seen through `beforeAttempt`, recorded once it settles. With
  // tracing on (`operation.trace`) it is also a span: the time each attempt waited for its quota
  // (`beforeAttempt`) is summed for it; with tracing off nothing of that is done.
  private async metered<T>(api: ConnectApi, target: UpstreamTarget, options: CallOptions = {}, call: (options: CallOptions) => Promise<T>): Promise<T> {
    let attempts = 0;
    let quotaWaitMs = 0;
    const started = performance.now();
    const span = options.operation?.trace?.startCall(api, target);
    const record = (outcome: UpstreamOutcome) => {
      // An upstream that does not report attempts (a test double) made one.
      if (attempts === 0) {
        attempts = 1;
        countUpstreamCall(options.operation);
      }
      this.metrics.observeUpstreamCall(api, outcome, (performance.now() - started) / 1000, attempts - 1);
    };
    try {
      const result = await call({
        ...options,
        beforeAttempt: async (scope, attempt) => {
          const waitStarted = span ? performance.now() : 0;
          await options.beforeAttempt?.(scope, attempt);
          if (span) quotaWaitMs += performance.now() - waitStarted;
          attempts = attempt;
          countUpstreamCall(options.operation);
        },
      });
      record("ok");
      span?.end({ outcome: "ok", attempts, quotaWaitMs });
      return result;
    } catch (error) {
      const outcome = upstreamOutcome(error);
      if (!(attempts === 0 && refusedBeforeSending(error))) record(outcome);
      span?.end({ outcome, attempts, quotaWaitMs, error });
      throw error;
    }
  }
}

/**
 * `upstream`, metered. An upstream already metered is returned as it is, so wrapping twice counts
 * every call once.
 */
export function meteredUpstream(upstream: Upstream, metrics: Pick<GatewayMetrics, "observeUpstreamCall">): Upstream {
  return upstream instanceof MeteredUpstream ? upstream : new MeteredUpstream(upstream, metrics);
}

// Private: the gateway's own refusal (`QuotaWaitExceededError`, by name so a copy from another
// module instance counts too): the call waited too long for its quota or a slot and was never sent.
function refusedBeforeSending(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === "QuotaWaitExceeded";
}
