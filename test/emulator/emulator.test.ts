import {
  ConnectClient,
  ConnectServiceException,
  Contact$,
  DescribeContactCommand,
  DescribeQueueCommand,
  DescribeUserCommand,
  GetContactAttributesCommand,
  InternalServiceException,
  InvalidParameterException,
  InvalidRequestException,
  ListContactReferencesCommand,
  ResourceNotFoundException,
  SearchContactsCommand,
  ThrottlingException,
  paginateListContactReferences,
  paginateSearchContacts,
  type Contact,
  type ContactSearchSummary,
  type ReferenceSummary,
  type SearchContactsCommandInput,
} from "@aws-sdk/client-connect";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMULATOR_CREDENTIALS, startEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/emulator.js";
import { buildDataset, DEMO, type Dataset, type InstanceData } from "../../src/emulator/dataset.js";
import { referenceTypeOf } from "../support/references.js";

// One data set for the whole file: building it is the slow part of starting an emulator.
const dataset: Dataset = buildDataset();
const main: InstanceData = dataset.instances.get(DEMO.instanceId)!;
const second: InstanceData = dataset.instances.get(DEMO.secondInstanceId)!;
const contactOf = (id: string): Contact => main.contacts.get(id)!;
const AUTH = "AWS4-HMAC-SHA256 Credential=AKIAEMULATOR00000000/20261014/us-east-1/connect/aws4_request, SignedHeaders=host;x-amz-date, Signature=00";

const clients: ConnectClient[] = [];
function clientFor(emulator: Emulator): ConnectClient {
  const client = new ConnectClient({ endpoint: emulator.url, region: "us-east-1", credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 });
  clients.push(client);
  return client;
}

const emulators: Emulator[] = [];
async function emulatorWith(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await startEmulator({ dataset, ...options });
  emulators.push(emulator);
  return emulator;
}

afterAll(async () => {
  for (const client of clients) client.destroy();
  await Promise.all(emulators.map((e) => e.close()));
});

/** Runs `send` and returns the rejection (or fails when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<ConnectServiceException> {
  try {
    await promise;
  } catch (error) {
    return error as ConnectServiceException;
  }
  throw new Error("expected the call to fail");
}

// Private: walking the SDK's runtime schema (see test/schemaCoverage.test.ts for the tuple format).

type SdkSchema = number | readonly unknown[] | (() => SdkSchema);

function resolve(s: unknown): number | readonly unknown[] {
  let value = s;
  while (typeof value === "function") value = (value as () => unknown)();
  // A member with member traits is wrapped: [schema, traits].
  if (Array.isArray(value) && value.length === 2) return resolve(value[0]);
  if (Array.isArray(value) && value[0] === 0) return 0; // a named simple type (e.g. a sensitive string)
  return value as number | readonly unknown[];
}

/**
 * Member paths of `schema`, following structures, unions, lists (`[]`) and maps (`{}`); a
 * recursive shape is listed where it repeats but not followed further. With `value`, only paths
 * populated in it (non-empty lists and maps) are listed.
 */
function memberPaths(schema: SdkSchema, value?: unknown, path = "Contact", ancestors: readonly unknown[] = [], out = new Set<string>()): Set<string> {
  const walkValue = value !== undefined;
  const visit = (s: unknown, v: unknown, p: string, anc: readonly unknown[]): void => {
    const r = resolve(s);
    if (typeof r === "number") return;
    const kind = r[0] as number;
    if (kind === 1) {
      if (!walkValue) return visit(r[4], undefined, `${p}[]`, anc);
      for (const item of v as unknown[]) visit(r[4], item, `${p}[]`, anc);
      return;
    }
    if (kind === 2) {
      if (!walkValue) return visit(r[5], undefined, `${p}{}`, anc);
      for (const item of Object.values(v as object)) visit(r[5], item, `${p}{}`, anc);
      return;
    }
    if (anc.includes(r)) return;
    const names = r[4] as string[];
    const schemas = r[5] as unknown[];
    names.forEach((member, i) => {
      const child = walkValue ? (v as Record<string, unknown>)[member] : undefined;
      if (walkValue && (child === undefined || (Array.isArray(child) && child.length === 0) || (typeof child === "object" && !(child instanceof Date) && Object.keys(child as object).length === 0))) return;
      out.add(`${p}.${member}`);
      visit(schemas[i], child, `${p}.${member}`, [...anc, r]);
    });
  };
  visit(schema, value, path, ancestors);
  return out;
}

function chainOf(instance: InstanceData, id: string): Contact[] {
  const chain: Contact[] = [];
  for (let c = instance.contacts.get(id); c; c = c.PreviousContactId ? instance.contacts.get(c.PreviousContactId) : undefined) chain.unshift(c);
  return chain;
}

describe("the data set", () => {
  it("is deterministic for a seed and keeps the DEMO ids for other seeds", () => {
    const again = buildDataset(1).instances.get(DEMO.instanceId)!;
    expect([...again.contacts.keys()]).toEqual([...main.contacts.keys()]);
    expect(again.contacts.get(DEMO.fullContactId)).toEqual(contactOf(DEMO.fullContactId));
    expect([...again.contacts.values()]).toEqual([...main.contacts.values()]);
    const other = buildDataset(7).instances.get(DEMO.instanceId)!;
    expect([...other.contacts.keys()]).not.toEqual([...main.contacts.keys()]);
    for (const id of [DEMO.longChainTailId, DEMO.fullContactId, DEMO.relatedChainContactId, DEMO.inProgressContactId, DEMO.unknownEnumContactId]) {
      expect(other.contacts.has(id)).toBe(true);
    }
  });

  it("holds at least 1,000 contacts over all four channels, and a second small instance", () => {
    expect(main.contacts.size).toBeGreaterThanOrEqual(1000);
    const channels = new Set([...main.contacts.values()].map((c) => c.Channel));
    expect([...channels].sort()).toEqual(["CHAT", "EMAIL", "TASK", "VOICE"]);
    expect(second.contacts.size).toBeGreaterThanOrEqual(15);
    expect(second.contacts.size).toBeLessThanOrEqual(25);
    expect(second.contacts.has(DEMO.secondInstanceContactId)).toBe(true);
    expect(main.contacts.has(DEMO.secondInstanceContactId)).toBe(false);
    for (const instance of dataset.instances.values()) expect(instance.contacts.has(DEMO.missingContactId)).toBe(false);
  });

  it("forms transfer chains the way Connect does, several of them at least 10 long", () => {
    for (const instance of dataset.instances.values()) {
      for (const contact of instance.contacts.values()) {
        expect(contact.Arn).toBe(`arn:aws:connect:us-east-1:123456789012:instance/${instance.instanceId}/contact/${contact.Id}`);
        const chain = chainOf(instance, contact.Id!);
        const [first] = chain;
        expect(first!.PreviousContactId).toBeUndefined();
        expect(first!.InitialContactId).toBeUndefined();
        for (const later of chain.slice(1)) expect(later.InitialContactId).toBe(first!.Id);
        chain.slice(1).forEach((later, i) => {
          const before = chain[i]!;
          expect(later.InitiationTimestamp!.getTime()).toBeGreaterThan((before.DisconnectTimestamp ?? before.InitiationTimestamp)!.getTime());
        });
        if (contact.RelatedContactId) expect(instance.contacts.has(contact.RelatedContactId)).toBe(true);
        for (const next of contact.NextContacts ?? []) {
          const data = next.NextContactMetadata?.QuickConnectContactData;
          expect(instance.contacts.get(data!.ContactId!)?.PreviousContactId).toBe(contact.Id);
        }
      }
    }
    const tails = [...main.contacts.values()].filter((c) => ![...main.contacts.values()].some((n) => n.PreviousContactId === c.Id));
    const lengths = tails.map((t) => chainOf(main, t.Id!).length);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(12);
    expect(lengths.filter((n) => n >= 10).length).toBeGreaterThanOrEqual(3);
    expect(chainOf(main, DEMO.longChainTailId)).toHaveLength(DEMO.longChainLength);
  });

  it("has the contacts DEMO names", () => {
    expect(chainOf(main, DEMO.relatedChainContactId).some((c) => c.RelatedContactId !== undefined)).toBe(true);
    expect(contactOf(DEMO.inProgressContactId).DisconnectTimestamp).toBeUndefined();
    expect(contactOf(DEMO.unknownEnumContactId).InitiationMethod).toBe("CAMPAIGN_PREVIEW");
    expect(contactOf(DEMO.unknownEnumContactId).AgentInfo?.StateTransitions?.map((s) => s.State)).toContain("PAUSED");
    expect(main.queues.has(DEMO.queueId)).toBe(true);
    expect(main.users.has(DEMO.userId)).toBe(true);
  });

  it("populates every member path of the SDK's Contact shape on the full contact, and somewhere in the bulk", () => {
    const all = memberPaths(Contact$ as SdkSchema);
    expect(all.size).toBeGreaterThanOrEqual(220);
    const onFull = memberPaths(Contact$ as SdkSchema, contactOf(DEMO.fullContactId));
    expect([...all].filter((p) => !onFull.has(p))).toEqual([]);
    const populated = new Set<string>();
    for (const contact of main.contacts.values()) {
      if (contact.Id !== DEMO.fullContactId) memberPaths(Contact$ as SdkSchema, contact, "Contact", [], populated);
    }
    // The bulk is realistic, not exhaustive; still, every top-level member appears on some bulk contact.
    const topLevel = [...all].filter((p) => p.split(".").length === 2);
    expect(topLevel).toHaveLength(48);
    expect(topLevel.filter((p) => !populated.has(p))).toEqual([]);
  });

  it("keeps per-channel values realistic", () => {
    for (const c of main.contacts.values()) {
      if (c.Id === DEMO.fullContactId) continue; // the deliberately synthetic one
      if (c.ChatMetrics) expect(c.Channel).toBe("CHAT");
      if (c.AdditionalEmailRecipients) expect(c.Channel).toBe("EMAIL");
      if (c.Recordings) expect(c.Channel).toBe("VOICE");
      if (c.TaskTemplateInfo) expect(c.Channel).toBe("TASK");
      if (["MONITOR", "QUEUE_TRANSFER", "CALLBACK"].includes(c.InitiationMethod!)) expect(c.SystemEndpoint).toBeUndefined();
    }
    const voice = [...main.contacts.values()].filter((c) => c.Channel === "VOICE" && c.Recordings);
    expect(voice.length).toBeGreaterThan(100);
  });

  it("uses timestamps after 2021-11-12 with at most millisecond precision, and 64-bit numbers", () => {
    const cutoff = Date.UTC(2021, 10, 12);
    let big = 0;
    const visit = (v: unknown): void => {
      if (v instanceof Date) {
        expect(Number.isInteger(v.getTime())).toBe(true);
        expect(v.getTime()).toBeGreaterThanOrEqual(cutoff);
      } else if (typeof v === "number") {
        if (v > 2 ** 31) big++;
      } else if (v && typeof v === "object") Object.values(v).forEach(visit);
    };
    main.contacts.forEach(visit);
    expect(big).toBeGreaterThanOrEqual(2);
    expect(contactOf(DEMO.fullContactId).ChatMetrics?.ChatContactMetrics?.ConversationCloseTimeInMillis).toBeGreaterThan(2 ** 31);
  });

  it("points queue and agent ids at existing queues and users", () => {
    for (const instance of dataset.instances.values()) {
      for (const c of instance.contacts.values()) {
        if (c.QueueInfo?.Id) expect(instance.queues.has(c.QueueInfo.Id)).toBe(true);
        if (c.AgentInfo?.Id) expect(instance.users.has(c.AgentInfo.Id)).toBe(true);
      }
    }
  });
});

describe("DescribeContact", () => {
  let emulator: Emulator;
  let client: ConnectClient;
  beforeAll(async () => {
    emulator = await emulatorWith();
    client = clientFor(emulator);
  });

  it("finds an instance only in its region and account: another region's endpoint, or an ARN of another region or account, is ResourceNotFoundException", async () => {
    const input = { InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId };
    const west = new ConnectClient({ endpoint: emulator.url, region: "eu-west-2", credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 });
    clients.push(west);
    expect(await rejection(west.send(new DescribeContactCommand(input)))).toBeInstanceOf(ResourceNotFoundException);
    const arn = (region: string, account: string) => `arn:aws:connect:${region}:${account}:instance/${DEMO.instanceId}`;
    expect((await client.send(new DescribeContactCommand({ ...input, InstanceId: arn("us-east-1", DEMO.accountId) }))).Contact?.Id).toBe(DEMO.fullContactId);
    expect(await rejection(client.send(new DescribeContactCommand({ ...input, InstanceId: arn("eu-west-2", DEMO.accountId) })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await rejection(client.send(new DescribeContactCommand({ ...input, InstanceId: arn("us-east-1", "999999999999") })))).toBeInstanceOf(ResourceNotFoundException);
    // Served in the regions it is told to serve.
    const everywhere = await emulatorWith({ regions: ["us-east-1", "eu-west-2"] });
    const westOfEverywhere = new ConnectClient({ endpoint: everywhere.url, region: "eu-west-2", credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 });
    clients.push(westOfEverywhere);
    expect((await westOfEverywhere.send(new DescribeContactCommand(input))).Contact?.Id).toBe(DEMO.fullContactId);
  });

  it("answers DescribeContact in the wire format the SDK parses", async () => {
    const out = await client.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId }));
    expect(out.$metadata.httpStatusCode).toBe(200);
    expect(out.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.Contact).toStrictEqual(contactOf(DEMO.fullContactId));
  });

  it("round-trips every contact of both instances exactly through the SDK, Dates included", async () => {
    for (const instance of dataset.instances.values()) {
      const ids = [...instance.contacts.keys()];
      for (let i = 0; i < ids.length; i += 50) {
        const batch = ids.slice(i, i + 50);
        const outs = await Promise.all(batch.map((id) => client.send(new DescribeContactCommand({ InstanceId: instance.instanceId, ContactId: id }))));
        outs.forEach((out, j) => expect(out.Contact).toStrictEqual(instance.contacts.get(batch[j]!)));
      }
    }
  });

  it("passes enumeration values the SDK does not know through unchanged", async () => {
    const out = await client.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.unknownEnumContactId }));
    expect(out.Contact?.InitiationMethod).toBe("CAMPAIGN_PREVIEW");
    expect(out.Contact).toStrictEqual(contactOf(DEMO.unknownEnumContactId));
  });

  it("writes PascalCase members, epoch-second timestamps and omits absent members on the wire", async () => {
    const response = await fetch(`${emulator.url}/contacts/${DEMO.instanceId}/${DEMO.inProgressContactId}`, { headers: { authorization: AUTH } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(response.headers.get("x-amzn-requestid")).toBeTruthy();
    const body = (await response.json()) as { Contact: Record<string, unknown> };
    expect(Object.keys(body)).toEqual(["Contact"]);
    expect(body.Contact.Id).toBe(DEMO.inProgressContactId);
    expect(body.Contact.InitiationTimestamp).toBe(contactOf(DEMO.inProgressContactId).InitiationTimestamp!.getTime() / 1000);
    expect("DisconnectTimestamp" in body.Contact).toBe(false);
    expect(JSON.stringify(body)).not.toContain("null");
  });

  it("decodes URL-encoded path labels and accepts an instance ARN", async () => {
    const viaArn = await client.send(new DescribeContactCommand({ InstanceId: DEMO.instanceArn, ContactId: DEMO.longChainTailId }));
    expect(viaArn.Contact?.Id).toBe(DEMO.longChainTailId);
    const encoded = await fetch(`${emulator.url}/contacts/${DEMO.instanceId}/${encodeURIComponent(DEMO.fullContactId).replace(/-/g, "%2D")}`, { headers: { authorization: AUTH } });
    expect(encoded.status).toBe(200);
    const slash = await rejection(client.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: "a/b?c=d#e" })));
    expect(slash).toBeInstanceOf(ResourceNotFoundException);
    expect(slash.message).toContain("a/b?c=d#e");
  });

  it("throws ResourceNotFoundException for an unknown contact, an unknown instance, or another instance's contact", async () => {
    for (const [InstanceId, ContactId] of [
      [DEMO.instanceId, DEMO.missingContactId],
      ["00000000-0000-4000-8000-000000000000", DEMO.fullContactId],
      [DEMO.instanceId, DEMO.secondInstanceContactId],
    ] as const) {
      const error = await rejection(client.send(new DescribeContactCommand({ InstanceId, ContactId })));
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error.$metadata.httpStatusCode).toBe(404);
    }
    const other = await client.send(new DescribeContactCommand({ InstanceId: DEMO.secondInstanceId, ContactId: DEMO.secondInstanceContactId }));
    expect(other.Contact).toStrictEqual(second.contacts.get(DEMO.secondInstanceContactId));
  });

  it("throws InvalidParameterException for ids of the wrong length", async () => {
    const longContact = await rejection(client.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: "x".repeat(257) })));
    expect(longContact).toBeInstanceOf(InvalidParameterException);
    expect(longContact.$metadata.httpStatusCode).toBe(400);
    const longInstance = await rejection(client.send(new DescribeContactCommand({ InstanceId: "i".repeat(101), ContactId: DEMO.fullContactId })));
    expect(longInstance).toBeInstanceOf(InvalidParameterException);
    const empty = await fetch(`${emulator.url}/contacts/${DEMO.instanceId}/`, { headers: { authorization: AUTH } });
    expect(empty.status).toBe(400);
    expect(empty.headers.get("x-amzn-errortype")).toBe("InvalidParameterException");
  });

  it("refuses unsigned requests with 403, unless requireAuth is off", async () => {
    const unsigned = await fetch(`${emulator.url}/contacts/${DEMO.instanceId}/${DEMO.fullContactId}`);
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get("x-amzn-errortype")).toBe("MissingAuthenticationTokenException");
    expect(await unsigned.json()).toEqual({ Message: "Missing Authentication Token" });
    const wrongScheme = await fetch(`${emulator.url}/contacts/${DEMO.instanceId}/${DEMO.fullContactId}`, { headers: { authorization: "Bearer abc" } });
    expect(wrongScheme.status).toBe(403);
    const wrongService = await fetch(`${emulator.url}/contacts/${DEMO.instanceId}/${DEMO.fullContactId}`, { headers: { authorization: AUTH.replace("/connect/", "/s3/") } });
    expect(wrongService.status).toBe(403);
    const open = await emulatorWith({ requireAuth: false });
    expect((await fetch(`${open.url}/contacts/${DEMO.instanceId}/${DEMO.fullContactId}`)).status).toBe(200);
  });

  it("answers unknown operations, bad JSON and garbage without crashing", async () => {
    const unknown = await fetch(`${emulator.url}/contacts/${DEMO.instanceId}`, { headers: { authorization: AUTH } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("x-amzn-errortype")).toBe("UnknownOperationException");
    const badJson = await fetch(`${emulator.url}/search-contacts`, { method: "POST", headers: { authorization: AUTH }, body: "{not json" });
    expect(badJson.status).toBe(400);
    expect(badJson.headers.get("x-amzn-errortype")).toBe("SerializationException");
    const badEncoding = await fetch(`${emulator.url}/contacts/${DEMO.instanceId}/%E0%A4%A`, { headers: { authorization: AUTH } });
    expect(badEncoding.status).toBe(400);
    const garbage = ["/", "//", "/contacts//", "/../../etc/passwd", "/contact/attributes/x", "/search-contacts?x", "/_emulator/nope", "/%00"];
    for (const path of garbage) {
      for (const method of ["GET", "POST", "PUT", "DELETE"]) {
        const response = await fetch(`${emulator.url}${path}`, { method, headers: { authorization: AUTH }, ...(method === "GET" ? {} : { body: "[1,2" }) });
        expect(response.status).toBeGreaterThanOrEqual(400);
        expect(response.status).toBeLessThan(500);
      }
    }
    for (const body of ["null", "[]", '"x"', "{}", '{"InstanceId":5}', '{"InstanceId":"x","TimeRange":{}}']) {
      const response = await fetch(`${emulator.url}/search-contacts`, { method: "POST", headers: { authorization: AUTH }, body });
      expect([400, 404]).toContain(response.status);
    }
    const still = await client.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId }));
    expect(still.Contact?.Id).toBe(DEMO.fullContactId);
  });

  it("counts calls per API and per contact key, and resets the counts", async () => {
    const counted = await emulatorWith();
    const c = clientFor(counted);
    await c.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId }));
    await c.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId }));
    await rejection(c.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.missingContactId })));
    await c.send(new DescribeQueueCommand({ InstanceId: DEMO.instanceId, QueueId: DEMO.queueId }));
    const calls = counted.calls;
    expect(calls.total).toBe(4);
    expect(calls.byApi.DescribeContact).toBe(3);
    expect(calls.byApi.DescribeQueue).toBe(1);
    expect(calls.byContact).toEqual({ [`${DEMO.instanceId}/${DEMO.fullContactId}`]: 2, [`${DEMO.instanceId}/${DEMO.missingContactId}`]: 1 });
    expect(calls.byKey.DescribeQueue).toEqual({ [`${DEMO.instanceId}/${DEMO.queueId}`]: 1 });
    expect(calls.maxPerSecond).toBe(4);
    expect(calls.throttled).toBe(0);
    counted.resetStats();
    expect(counted.calls.total).toBe(0);
    expect(counted.calls.byContact).toEqual({});
    expect(counted.calls.maxPerSecond).toBe(0);
  });
});

describe("quotas, failures and latency", () => {
  it("throttles over quota with ThrottlingException and counts the 429s", async () => {
    const emulator = await emulatorWith({ quota: { rps: 0.01, burst: 5 } });
    const client = clientFor(emulator);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => client.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId }))));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => r.reason as ConnectServiceException);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(5);
    expect(failures).toHaveLength(3);
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(ThrottlingException);
      expect(failure.$metadata.httpStatusCode).toBe(429);
    }
    expect(emulator.calls.throttled).toBe(3);
    expect(emulator.calls.throttledByApi.DescribeContact).toBe(3);
    expect(emulator.calls.maxPerSecond).toBe(8);
    expect(emulator.calls.maxAcceptedPerSecond).toBe(5);
    // Each API has its own bucket.
    await client.send(new DescribeQueueCommand({ InstanceId: DEMO.instanceId, QueueId: DEMO.queueId }));
  });

  it("uses Connect's default quotas when enabled: DescribeContact 10/s burst 15, SearchContacts 0.5/s burst 1", async () => {
    const emulator = await emulatorWith({ quota: true });
    const client = clientFor(emulator);
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => client.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId }))));
    const ok = results.filter((r) => r.status === "fulfilled").length;
    expect(ok).toBeGreaterThanOrEqual(15);
    expect(ok).toBeLessThanOrEqual(19); // the bucket refills 10 tokens/s while the burst is in flight
    expect(emulator.calls.throttled).toBe(20 - ok);
    const search: SearchContactsCommandInput = { InstanceId: DEMO.instanceId, TimeRange: { Type: "INITIATION_TIMESTAMP", StartTime: new Date("2026-10-01"), EndTime: new Date("2026-12-01") }, MaxResults: 1 };
    await client.send(new SearchContactsCommand(search));
    expect(await rejection(client.send(new SearchContactsCommand(search)))).toBeInstanceOf(ThrottlingException);
  });

  it("refills the bucket over time and lets setOptions change the quota at run time", async () => {
    const emulator = await emulatorWith({ quota: { rps: 20, burst: 1 } });
    const client = clientFor(emulator);
    const send = () => client.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId }));
    await send();
    await new Promise((r) => setTimeout(r, 120));
    await send();
    emulator.setOptions({ quota: false });
    await Promise.all(Array.from({ length: 10 }, send));
    expect(emulator.calls.throttled).toBe(0);
  });

  it("injects failNext failures as InternalServiceException, then answers normally", async () => {
    const emulator = await emulatorWith();
    const client = clientFor(emulator);
    emulator.failNext(2);
    const send = () => client.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId }));
    for (let i = 0; i < 2; i++) {
      const error = await rejection(send());
      expect(error).toBeInstanceOf(InternalServiceException);
      expect(error.$metadata.httpStatusCode).toBe(500);
    }
    expect((await send()).Contact?.Id).toBe(DEMO.fullContactId);
    expect(emulator.calls.injectedFailures).toBe(2);
    emulator.failNext(1, 429, "DescribeQueue");
    expect((await send()).Contact?.Id).toBe(DEMO.fullContactId);
    expect(await rejection(client.send(new DescribeQueueCommand({ InstanceId: DEMO.instanceId, QueueId: DEMO.queueId })))).toBeInstanceOf(ThrottlingException);
    expect(emulator.calls.throttled).toBe(0); // injected 429s are not quota throttles
    expect(emulator.calls.injectedFailures).toBe(3);
  });

  it("injects failures at a seeded rate, reproducibly", async () => {
    const pattern = async (): Promise<boolean[]> => {
      const emulator = await emulatorWith({ failures: { rate: 0.3, status: 503, seed: 42 } });
      const client = clientFor(emulator);
      const out: boolean[] = [];
      for (let i = 0; i < 40; i++) {
        try {
          await client.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId }));
          out.push(true);
        } catch (error) {
          expect((error as ConnectServiceException).$metadata.httpStatusCode).toBe(503);
          out.push(false);
        }
      }
      expect(emulator.calls.injectedFailures).toBe(out.filter((ok) => !ok).length);
      return out;
    };
    const first = await pattern();
    expect(await pattern()).toEqual(first);
    const failed = first.filter((ok) => !ok).length;
    expect(failed).toBeGreaterThan(4);
    expect(failed).toBeLessThan(24);
  });

  it("adds the configured latency to every answer, changeable at run time", async () => {
    const emulator = await emulatorWith({ latencyMs: 120 });
    const client = clientFor(emulator);
    const send = () => client.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId }));
    await send(); // warm the connection
    let started = performance.now();
    await send();
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    started = performance.now();
    await rejection(client.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.missingContactId })));
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    emulator.setOptions({ latencyMs: 0 });
    started = performance.now();
    await send();
    expect(performance.now() - started).toBeLessThan(100);
  });

  it("serves the admin surface: stats, reset and config", async () => {
    const emulator = await emulatorWith();
    const client = clientFor(emulator);
    await client.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId }));
    const stats = (await (await fetch(`${emulator.url}/_emulator/stats`)).json()) as Emulator["calls"];
    expect(stats.byApi.DescribeContact).toBe(1);
    const config = await fetch(`${emulator.url}/_emulator/config`, { method: "POST", body: JSON.stringify({ quota: { rps: 0.01, burst: 1 }, latencyMs: 1, failNext: { count: 1, status: 500 } }) });
    expect(config.status).toBe(200);
    expect(await config.json()).toMatchObject({ latencyMs: 1, quota: { rps: 0.01, burst: 1 } });
    expect(await rejection(client.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId })))).toBeInstanceOf(InternalServiceException);
    expect(await rejection(client.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId })))).toBeInstanceOf(ThrottlingException);
    expect((await fetch(`${emulator.url}/_emulator/config`, { method: "POST", body: '{"latencyMs":-1}' })).status).toBe(400);
    // Past Node's longest timer delay a latency would answer after 1 ms instead.
    const tooLong = await fetch(`${emulator.url}/_emulator/config`, { method: "POST", body: '{"latencyMs":2147483648}' });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.text()).toContain("latencyMs must be a number from 0 to 2147483647");
    expect(emulator.options.latencyMs).toBe(1);
    expect((await fetch(`${emulator.url}/_emulator/reset`, { method: "POST" })).status).toBe(200);
    expect(emulator.calls.total).toBe(0);
    await client.send(new DescribeContactCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId })); // the bucket is full again
    expect(await (await fetch(`${emulator.url}/_emulator/demo`)).json()).toEqual(DEMO);
  });
});

describe("the other read APIs", () => {
  let emulator: Emulator;
  let client: ConnectClient;
  beforeAll(async () => {
    emulator = await emulatorWith();
    client = clientFor(emulator);
  });

  it("answers DescribeQueue and DescribeUser with the data set's queues and users", async () => {
    for (const queue of main.queues.values()) {
      const out = await client.send(new DescribeQueueCommand({ InstanceId: DEMO.instanceId, QueueId: queue.QueueId }));
      expect(out.Queue).toStrictEqual(queue);
    }
    for (const user of main.users.values()) {
      const out = await client.send(new DescribeUserCommand({ InstanceId: DEMO.instanceId, UserId: user.Id }));
      expect(out.User).toStrictEqual(user);
    }
    expect(await rejection(client.send(new DescribeQueueCommand({ InstanceId: DEMO.instanceId, QueueId: DEMO.missingContactId })))).toBeInstanceOf(ResourceNotFoundException);
    expect(await rejection(client.send(new DescribeUserCommand({ InstanceId: DEMO.secondInstanceId, UserId: DEMO.userId })))).toBeInstanceOf(ResourceNotFoundException);
  });

  it("answers GetContactAttributes with the chain's attributes for its initial contact", async () => {
    const chain = chainOf(main, DEMO.fullContactId);
    const initial = chain[0]!.Id!;
    const out = await client.send(new GetContactAttributesCommand({ InstanceId: DEMO.instanceId, InitialContactId: initial }));
    expect(out.Attributes).toEqual(main.attributes.get(initial));
    expect(out.Attributes).toEqual(contactOf(DEMO.fullContactId).Attributes);
    // A later contact of the chain resolves to the same attributes.
    const later = await client.send(new GetContactAttributesCommand({ InstanceId: DEMO.instanceId, InitialContactId: DEMO.fullContactId }));
    expect(later.Attributes).toEqual(out.Attributes);
    const without = [...main.contacts.values()].find((c) => !c.InitialContactId && !main.attributes.has(c.Id!))!;
    expect((await client.send(new GetContactAttributesCommand({ InstanceId: DEMO.instanceId, InitialContactId: without.Id }))).Attributes).toEqual({});
    expect(await rejection(client.send(new GetContactAttributesCommand({ InstanceId: DEMO.instanceId, InitialContactId: DEMO.missingContactId })))).toBeInstanceOf(ResourceNotFoundException);
  });

  it("paginates ListContactReferences in small pages and filters by reference type", async () => {
    // Connect takes at most 6 types a call: every type is two calls' worth.
    const typeGroups = [
      ["URL", "ATTACHMENT", "EMAIL_MESSAGE", "EMAIL_MESSAGE_REDACTED", "EMAIL_MESSAGE_PLAIN_TEXT", "EMAIL_MESSAGE_PLAIN_TEXT_REDACTED"],
      ["STRING", "NUMBER", "DATE", "EMAIL", "CONTACT_ANALYSIS"],
    ] as const;
    const pages: ReferenceSummary[][] = [];
    const all = main.references.get(DEMO.fullContactId)!;
    for (const group of typeGroups) {
      const before = pages.length;
      for await (const page of paginateListContactReferences({ client }, { InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId, ReferenceTypes: [...group] })) {
        pages.push(page.ReferenceSummaryList ?? []);
      }
      const listed = pages.slice(before).flat();
      expect(listed.length).toBeGreaterThan(0);
      expect(listed).toStrictEqual(all.filter((r) => (group as readonly string[]).includes(referenceTypeOf(r))));
    }
    expect(pages.length).toBeGreaterThan(2);
    expect(pages.flat()).toHaveLength(all.length);
    const seven = await rejection(client.send(new ListContactReferencesCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId, ReferenceTypes: [...typeGroups[0], "STRING"] })));
    expect(seven).toBeInstanceOf(InvalidParameterException);
    const urls = await client.send(new ListContactReferencesCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId, ReferenceTypes: ["URL", "DATE"] }));
    expect(urls.ReferenceSummaryList?.map((r) => Object.keys(r)[0])).toEqual(["Url", "Date"]);
    expect(urls.NextToken).toBeUndefined();
    const none = await client.send(new ListContactReferencesCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.longChainTailId, ReferenceTypes: ["URL"] }));
    expect(none.ReferenceSummaryList).toEqual([]);
    const badToken = await rejection(client.send(new ListContactReferencesCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.fullContactId, ReferenceTypes: ["URL"], NextToken: "nope" })));
    expect(badToken).toBeInstanceOf(InvalidParameterException);
    const noTypes = await fetch(`${emulator.url}/contact/references/${DEMO.instanceId}/${DEMO.fullContactId}`, { headers: { authorization: AUTH } });
    expect(noTypes.status).toBe(400);
    expect(await rejection(client.send(new ListContactReferencesCommand({ InstanceId: DEMO.instanceId, ContactId: DEMO.missingContactId, ReferenceTypes: ["URL"] })))).toBeInstanceOf(ResourceNotFoundException);
  });

  const october = { Type: "INITIATION_TIMESTAMP", StartTime: new Date("2026-10-01T00:00:00Z"), EndTime: new Date("2026-10-31T23:59:59Z") } as const;
  const inOctober = (c: Contact) => c.InitiationTimestamp!.getTime() >= october.StartTime.getTime() && c.InitiationTimestamp!.getTime() <= october.EndTime.getTime();

  async function searchAll(input: Omit<SearchContactsCommandInput, "InstanceId">): Promise<{ contacts: ContactSearchSummary[]; totals: number[]; pages: number }> {
    const contacts: ContactSearchSummary[] = [];
    const totals: number[] = [];
    let pages = 0;
    for await (const page of paginateSearchContacts({ client }, { InstanceId: DEMO.instanceId, ...input })) {
      contacts.push(...(page.Contacts ?? []));
      totals.push(page.TotalCount!);
      pages++;
    }
    return { contacts, totals, pages };
  }

  it("searches contacts by time range and paginates with NextToken and TotalCount", async () => {
    const expected = [...main.contacts.values()].filter((c) => inOctober(c) && c.Channel === "CHAT");
    const { contacts, totals, pages } = await searchAll({ TimeRange: october, SearchCriteria: { Channels: ["CHAT"] }, MaxResults: 25 });
    expect(pages).toBe(Math.ceil(expected.length / 25));
    expect(new Set(totals)).toEqual(new Set([expected.length]));
    expect(contacts.map((c) => c.Id).sort()).toEqual(expected.map((c) => c.Id).sort());
    // Newest first by default.
    const times = contacts.map((c) => c.InitiationTimestamp!.getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);
  });

  it("answers ContactSearchSummary members consistent with DescribeContact", async () => {
    const out = await client.send(new SearchContactsCommand({ InstanceId: DEMO.instanceId, TimeRange: { Type: "INITIATION_TIMESTAMP", StartTime: new Date("2026-10-14T00:00:00Z"), EndTime: new Date("2026-10-15T00:00:00Z") }, MaxResults: 100 }));
    const summary = out.Contacts!.find((c) => c.Id === DEMO.fullContactId)!;
    const full = contactOf(DEMO.fullContactId);
    expect(summary).toMatchObject({
      Arn: full.Arn,
      InitialContactId: full.InitialContactId,
      PreviousContactId: full.PreviousContactId,
      InitiationMethod: full.InitiationMethod,
      Channel: full.Channel,
      QueueInfo: full.QueueInfo,
      AgentInfo: { Id: full.AgentInfo!.Id, ConnectedToAgentTimestamp: full.AgentInfo!.ConnectedToAgentTimestamp },
      InitiationTimestamp: full.InitiationTimestamp,
      DisconnectTimestamp: full.DisconnectTimestamp,
      ScheduledTimestamp: full.ScheduledTimestamp,
      Name: full.Name,
      RoutingCriteria: full.RoutingCriteria,
      Tags: full.Tags,
      GlobalResiliencyMetadata: full.GlobalResiliencyMetadata,
    });
    expect(summary.SegmentAttributes?.["customer:Profile"]).toEqual(full.SegmentAttributes!["customer:Profile"]);
    expect(summary.AiAgentInfo).toHaveLength(2);
  });

  it("filters SearchContacts by initiation method, queue, agent, contact attributes and tags", async () => {
    const all = [...main.contacts.values()].filter(inOctober);
    const full = contactOf(DEMO.fullContactId);
    const cases: [NonNullable<SearchContactsCommandInput["SearchCriteria"]>, (c: Contact) => boolean][] = [
      [{ InitiationMethods: ["CALLBACK", "MONITOR"] }, (c) => c.InitiationMethod === "CALLBACK" || c.InitiationMethod === "MONITOR"],
      [{ QueueIds: [DEMO.queueId] }, (c) => c.QueueInfo?.Id === DEMO.queueId],
      [{ AgentIds: [DEMO.userId], Channels: ["VOICE"] }, (c) => c.AgentInfo?.Id === DEMO.userId && c.Channel === "VOICE"],
      [
        { SearchableContactAttributes: { Criteria: [{ Key: "customerTier", Values: ["Platinum"] }, { Key: "language", Values: ["fr-CA"] }], MatchType: "MATCH_ALL" } },
        (c) => c.Attributes?.customerTier === "Platinum" && c.Attributes?.language === "fr-CA",
      ],
      [
        { SearchableContactAttributes: { Criteria: [{ Key: "customerTier", Values: ["Platinum"] }, { Key: "language", Values: ["fr-CA"] }], MatchType: "MATCH_ANY" } },
        (c) => c.Attributes?.customerTier === "Platinum" || c.Attributes?.language === "fr-CA",
      ],
      [
        { SearchableContactAttributes: { Criteria: [{ Key: "customerTier", Values: ["Platinum"] }, { Key: "language", Values: ["fr-CA"] }], MatchType: "MATCH_NONE" } },
        (c) => c.Attributes?.customerTier !== "Platinum" && c.Attributes?.language !== "fr-CA",
      ],
      [
        // Two criteria, so MATCH_EXACT (every one, values whole) differs from MATCH_ANY.
        { SearchableContactAttributes: { Criteria: [{ Key: "customerTier", Values: ["Platinum"] }, { Key: "language", Values: ["fr-CA"] }], MatchType: "MATCH_EXACT" } },
        (c) => c.Attributes?.customerTier === "Platinum" && c.Attributes?.language === "fr-CA",
      ],
      [{ SearchableSegmentAttributes: { Criteria: [{ Key: "connect:Subtype", Values: ["connect:SMS"] }] } }, (c) => c.SegmentAttributes?.["connect:Subtype"]?.ValueString === "connect:SMS"],
      [{ Name: { SearchText: ["refund"], MatchType: "MATCH_NONE" } }, (c) => !(c.Name ?? "").toLowerCase().includes("refund")],
      [{ ContactTags: { TagCondition: { TagKey: "Department", TagValue: "Billing" } } }, (c) => c.Tags?.Department === "Billing"],
      [{ AgentHierarchyGroups: { L5Ids: [full.AgentInfo!.HierarchyGroups!.Level5!.Arn!.split("/").pop()!] } }, (c) => c.AgentInfo?.HierarchyGroups?.Level5?.Arn === full.AgentInfo!.HierarchyGroups!.Level5!.Arn],
    ];
    for (const [criteria, predicate] of cases) {
      const expected = all.filter(predicate).map((c) => c.Id).sort();
      expect(expected.length).toBeGreaterThan(0);
      const { contacts } = await searchAll({ TimeRange: october, SearchCriteria: criteria, MaxResults: 100 });
      expect(contacts.map((c) => c.Id).sort()).toEqual(expected);
    }
  });

  it("sorts SearchContacts results and refuses what it cannot honour", async () => {
    const { contacts } = await searchAll({ TimeRange: october, SearchCriteria: { Channels: ["TASK"] }, Sort: { FieldName: "INITIATION_TIMESTAMP", Order: "ASCENDING" }, MaxResults: 100 });
    const times = contacts.map((c) => c.InitiationTimestamp!.getTime());
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    const tooMany = await rejection(client.send(new SearchContactsCommand({ InstanceId: DEMO.instanceId, TimeRange: october, MaxResults: 101 })));
    expect(tooMany).toBeInstanceOf(InvalidParameterException);
    const unknownInstance = await rejection(client.send(new SearchContactsCommand({ InstanceId: DEMO.missingContactId, TimeRange: october })));
    expect(unknownInstance).toBeInstanceOf(ResourceNotFoundException);
    const badToken = await rejection(client.send(new SearchContactsCommand({ InstanceId: DEMO.instanceId, TimeRange: october, NextToken: "WzUsIngiXQ" })));
    expect(badToken).toBeInstanceOf(InvalidParameterException);
    const unsupported = await rejection(client.send(new SearchContactsCommand({ InstanceId: DEMO.instanceId, TimeRange: october, SearchCriteria: { ContactAnalysis: { Transcript: { Criteria: [{ ParticipantRole: "AGENT", SearchText: ["refund"], MatchType: "MATCH_ANY" }] } } } })));
    expect(unsupported).toBeInstanceOf(InvalidRequestException);
  });

  it("refuses SearchContacts criteria past Connect's limits with InvalidParameterException", async () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `id-${i}`);
    const over: NonNullable<SearchContactsCommandInput["SearchCriteria"]>[] = [
      { QueueIds: ids(101) },
      { AgentIds: ids(101) },
      { AgentHierarchyGroups: { L2Ids: ids(11) } },
      { SearchableContactAttributes: { Criteria: ids(16).map((k) => ({ Key: k, Values: ["v"] })) } },
      { SearchableContactAttributes: { Criteria: [{ Key: "k".repeat(101), Values: ["v"] }] } },
      { SearchableContactAttributes: { Criteria: [{ Key: "k", Values: ids(21) }] } },
      { SearchableSegmentAttributes: { Criteria: [{ Key: "k", Values: [] }] } },
      { SearchableSegmentAttributes: { Criteria: [{ Key: "k", Values: ["x".repeat(129)] }] } },
      { SearchableContactAttributes: { Criteria: [{ Key: "k", Values: ["v"] }], MatchType: "MATCH_SOME" as never } },
      { Name: { SearchText: ["a"], MatchType: "MATCH_SOME" as never } },
    ];
    for (const criteria of over) {
      expect(await rejection(client.send(new SearchContactsCommand({ InstanceId: DEMO.instanceId, TimeRange: october, SearchCriteria: criteria }))), JSON.stringify(criteria).slice(0, 80)).toBeInstanceOf(InvalidParameterException);
    }
    const atLimits = await client.send(new SearchContactsCommand({ InstanceId: DEMO.instanceId, TimeRange: october, SearchCriteria: { QueueIds: ids(100), AgentHierarchyGroups: { L2Ids: ids(10) } } }));
    expect(atLimits.TotalCount).toBe(0);
  });
});

describe("the emulator CLI", () => {
  it("prints its URL and the demo ids, serves requests, and exits cleanly on SIGTERM", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/emulator/cli.ts"], {
      env: { ...process.env, EMULATOR_PORT: "0", EMULATOR_LATENCY_MS: "1", EMULATOR_QUOTA_RPS: "100", EMULATOR_QUOTA_BURST: "100" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      let output = "";
      child.stdout.setEncoding("utf8");
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (chunk: string) => {
          output += chunk;
          const match = /listening on (http:\/\/\S+)/.exec(output);
          if (match && output.includes(DEMO.missingContactId)) resolve(match[1]!);
        });
        child.once("exit", (code) => reject(new Error(`exited early with ${code}: ${output}`)));
      });
      for (const id of [DEMO.instanceId, DEMO.longChainTailId, DEMO.fullContactId, DEMO.inProgressContactId]) expect(output).toContain(id);
      const response = await fetch(`${url}/contacts/${DEMO.instanceId}/${DEMO.fullContactId}`, { headers: { authorization: AUTH } });
      expect(response.status).toBe(200);
      const config = (await (await fetch(`${url}/_emulator/config`)).json()) as Record<string, unknown>;
      expect(config).toMatchObject({ latencyMs: 1, quota: { perApi: { DescribeContact: { rps: 100, burst: 100 } } } });
      const exited = once(child, "exit");
      child.kill("SIGTERM");
      const [code] = await exited;
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
