import type { Contact } from "@aws-sdk/client-connect";
import { describe, expect, it } from "vitest";
import type { ContactRef } from "../../src/domain/contactRef.js";
import type { UpstreamOutcome } from "../../src/observability/metrics.js";
import { meteredUpstream } from "../../src/upstream/meteredUpstream.js";
import { createOperationScope } from "../../src/upstream/operationScope.js";
import { QuotaWaitExceededError } from "../../src/upstream/quotaWaitExceeded.js";
import type { CallOptions } from "../../src/upstream/upstream.js";
import { RecordingUpstream } from "./recordingUpstream.js";

const contact: ContactRef = { region: "us-east-1", instanceId: "i-1", contactId: "c-1" };
const resource = { region: "us-east-1", instanceId: "i-1", id: "q-1" };
const scope = { api: "DescribeContact", region: "us-east-1", identity: "AKIATEST" };

/** What the wrapper reported to the metrics: one line per call. */
function recordingMetrics() {
  const recorded: Array<{ api: string; outcome: UpstreamOutcome; retries: number }> = [];
  return { recorded, metrics: { observeUpstreamCall: (api: string, outcome: UpstreamOutcome, _seconds: number, retries = 0) => void recorded.push({ api, outcome, retries }) } };
}

/** A recording upstream whose DescribeContact makes `attempts` attempts, as the SDK does when it retries. */
class RetryingUpstream extends RecordingUpstream {
  constructor(private readonly attempts: number) {
    super();
  }

  override async describeContact(ref: ContactRef, options: CallOptions = {}): Promise<Contact> {
    for (let attempt = 1; attempt <= this.attempts; attempt++) await options.beforeAttempt?.(scope, attempt);
    return { Id: ref.contactId };
  }
}

describe("meteredUpstream", () => {
  it("counts every Upstream method under its API, by outcome", async () => {
    const { recorded, metrics } = recordingMetrics();
    const upstream = new RecordingUpstream();
    upstream.contacts.set("c-1", { Id: "c-1" });
    upstream.queues.set("q-1", { QueueId: "q-1" });
    const metered = meteredUpstream(upstream, metrics);
    await metered.describeContact(contact);
    await metered.describeQueue(resource);
    await expect(metered.describeUser(resource)).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await metered.getContactAttributes(contact);
    await metered.listContactReferences(contact, ["URL"], undefined);
    await metered.searchContacts("us-east-1", { InstanceId: "i-1" } as never);
    expect(recorded).toEqual([
      { api: "DescribeContact", outcome: "ok", retries: 0 },
      { api: "DescribeQueue", outcome: "ok", retries: 0 },
      { api: "DescribeUser", outcome: "not_found", retries: 0 },
      { api: "GetContactAttributes", outcome: "ok", retries: 0 },
      { api: "ListContactReferences", outcome: "ok", retries: 0 },
      { api: "SearchContacts", outcome: "ok", retries: 0 },
    ]);
    expect(upstream.calls).toHaveLength(6);
  });

  it("counts a retried call once in the metrics, with its retries, and each attempt toward its operation", async () => {
    const { recorded, metrics } = recordingMetrics();
    const operation = createOperationScope();
    await meteredUpstream(new RetryingUpstream(3), metrics).describeContact(contact, { operation });
    expect(recorded).toEqual([{ api: "DescribeContact", outcome: "ok", retries: 2 }]);
    expect(operation.upstreamCalls).toBe(3);
  });

  it("still calls the caller's beforeAttempt before every attempt", async () => {
    const { metrics } = recordingMetrics();
    const seen: number[] = [];
    await meteredUpstream(new RetryingUpstream(2), metrics).describeContact(contact, { beforeAttempt: async (_scope, attempt) => void seen.push(attempt) });
    expect(seen).toEqual([1, 2]);
  });

  it("does not count a call refused before its first attempt, and counts one refused at a retry as throttled", async () => {
    const { recorded, metrics } = recordingMetrics();
    const operation = createOperationScope();
    const refuseAt = (refused: number) => async (_scope: unknown, attempt: number) => {
      if (attempt === refused) throw new QuotaWaitExceededError("would wait too long");
    };
    const metered = meteredUpstream(new RetryingUpstream(2), metrics);
    await expect(metered.describeContact(contact, { operation, beforeAttempt: refuseAt(1) })).rejects.toBeInstanceOf(QuotaWaitExceededError);
    expect(recorded).toEqual([]);
    expect(operation.upstreamCalls).toBe(0);
    await expect(metered.describeContact(contact, { operation, beforeAttempt: refuseAt(2) })).rejects.toBeInstanceOf(QuotaWaitExceededError);
    expect(recorded).toEqual([{ api: "DescribeContact", outcome: "throttled", retries: 0 }]);
    expect(operation.upstreamCalls).toBe(1);
  });

  it("counts one attempt for an upstream that reports none", async () => {
    const { recorded, metrics } = recordingMetrics();
    const operation = createOperationScope();
    const silent = new RecordingUpstream();
    silent.contacts.set("c-1", { Id: "c-1" });
    // RecordingUpstream awaits beforeAttempt; this one answers without it, as a plain test double would.
    silent.describeContact = async (ref) => ({ Id: ref.contactId });
    await meteredUpstream(silent, metrics).describeContact(contact, { operation });
    expect(recorded).toEqual([{ api: "DescribeContact", outcome: "ok", retries: 0 }]);
    expect(operation.upstreamCalls).toBe(1);
  });

  it("counts every call once when wrapped twice", async () => {
    const { recorded, metrics } = recordingMetrics();
    const operation = createOperationScope();
    const once = meteredUpstream(new RetryingUpstream(1), metrics);
    await meteredUpstream(once, metrics).describeContact(contact, { operation });
    expect(meteredUpstream(once, metrics)).toBe(once);
    expect(recorded).toHaveLength(1);
    expect(operation.upstreamCalls).toBe(1);
  });

  it("passes destroy through", () => {
    const upstream = new RecordingUpstream();
    let destroyed = 0;
    upstream.destroy = () => void destroyed++;
    meteredUpstream(upstream, recordingMetrics().metrics).destroy();
    expect(destroyed).toBe(1);
  });
});
