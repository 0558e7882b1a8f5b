import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createContactSource, type ContactSource, type ContactSourceOptions } from "../../src/upstream/contactSource.js";
import { QuotaWaitExceededError } from "../../src/upstream/quotaWaitExceeded.js";
import { createRelatedSource, type RelatedSourceOptions } from "../../src/upstream/relatedSource.js";
import { ManualClock } from "./manualClock.js";
import { RecordingUpstream } from "./recordingUpstream.js";

const CONFIG: ContactSourceOptions["config"] & RelatedSourceOptions["config"] = {
  CONNECT_MAX_RPS: 10,
  CONNECT_BURST: 15,
  CONNECT_API_QUOTAS: {},
  CONNECT_MAX_WAIT_MS: 0,
  CONNECT_MAX_CONCURRENCY: 1,
  CACHE_TTL_SECONDS: 300,
  CACHE_ACTIVE_TTL_SECONDS: 5,
  CACHE_RESOURCE_TTL_SECONDS: 3600,
  CACHE_NEGATIVE_TTL_SECONDS: 10,
  CACHE_MAX_ENTRIES: 1000,
  CACHE_MAX_MB: 16,
  REDIS_URL: undefined,
  REDIS_KEY_PREFIX: "test:",
  REDIS_TIMEOUT_MS: 500,
};

const region = "us-east-1";
const instanceId = "i-1";

let source: ContactSource | undefined;
afterEach(async () => {
  await source?.close();
  source = undefined;
});

/** The gateway's two sources over one recording upstream, sharing one pool, observing every wait. */
function sources(config: Partial<typeof CONFIG> = {}) {
  const clock = new ManualClock();
  const upstream = new RecordingUpstream();
  upstream.contacts.set("c-1", { Id: "c-1" });
  upstream.queues.set("q-1", { QueueId: "q-1", Name: "Sales" });
  const waits: Array<[string, string]> = [];
  const metrics = { observeLimiterWait: (api: string, _seconds: number, outcome = "acquired") => void waits.push([api, outcome]) };
  const merged = { ...CONFIG, ...config };
  source = createContactSource({ config: merged, upstream, logger: pino({ level: "silent" }), metrics, clock });
  const related = createRelatedSource({ config: merged, upstream, pool: source.pool, metrics, clock });
  return { contacts: source, related, upstream, waits, clock };
}

describe("the related source", () => {
  it("counts every API's waits and refusals under that API: a DescribeQueue refused the slot DescribeContact holds, a SearchContacts refused by its quota", async () => {
    const { contacts, related, upstream, waits } = sources();
    const release = upstream.hold();
    const contact = contacts.fetchContact({ region, instanceId, contactId: "c-1" });
    await expect(related.fetch.describeQueue({ region, instanceId, id: "q-1" })).rejects.toBeInstanceOf(QuotaWaitExceededError);
    release();
    await contact;
    // SearchContacts: 0.5/s burst 1 by default, so a second call at once would have to wait 2.3 s.
    const search = { region, input: { InstanceId: instanceId, TimeRange: undefined } } as never;
    await related.fetch.searchContacts(search);
    await expect(related.fetch.searchContacts(search)).rejects.toBeInstanceOf(QuotaWaitExceededError);
    expect(waits).toEqual([
      ["DescribeContact", "acquired"],
      ["DescribeQueue", "rejected"],
      ["SearchContacts", "acquired"],
      ["SearchContacts", "rejected"],
    ]);
    expect(upstream.calls).toEqual(["DescribeContact c-1", "SearchContacts i-1"]);
  });

  it("caches queues for CACHE_RESOURCE_TTL_SECONDS by their own key, and a missing one for CACHE_NEGATIVE_TTL_SECONDS", async () => {
    const { related, upstream, clock } = sources({ CONNECT_MAX_WAIT_MS: 10_000 });
    const queue = { region, instanceId, id: "q-1" };
    const first = await related.fetch.describeQueue(queue);
    expect(first.name).toBe("Sales");
    await expect(related.fetch.describeQueue({ ...queue, id: "q-missing" })).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await clock.advance(9_999);
    expect(await related.fetch.describeQueue(queue)).toBe(first);
    await expect(related.fetch.describeQueue({ ...queue, id: "q-missing" })).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    expect(upstream.count("DescribeQueue")).toBe(2);
    await clock.advance(1);
    await expect(related.fetch.describeQueue({ ...queue, id: "q-missing" })).rejects.toMatchObject({ name: "ResourceNotFoundException" });
    await clock.advance(3_600_000 - 10_000);
    await related.fetch.describeQueue(queue);
    expect(upstream.calls).toEqual(["DescribeQueue q-1", "DescribeQueue q-missing", "DescribeQueue q-missing", "DescribeQueue q-1"]);
  });
});
