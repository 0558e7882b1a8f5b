import type { Contact } from "@aws-sdk/client-connect";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { requestBypassesCache } from "../../src/http/cacheControl.js";
import { contactFreshness, contactTtlSeconds } from "../../src/upstream/contactFreshness.js";
import type { FetchContact } from "../../src/upstream/fetchContact.js";
import { TieredCache, type TieredCacheOptions } from "../../src/upstream/tieredCache.js";
import { SETTINGS } from "../../src/config/config.js";
import { contactKey, toContactModel, type ContactModel, type ContactRef } from "../../src/domain/contactRef.js";
import { buildDataset, DEMO } from "../../src/emulator/dataset.js";
import { createLoaders } from "../../src/graphql/loaders.js";
import { startStack, type Stack } from "../support/stack.js";

const I = DEMO.instanceId;
const CONTACT = `query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id initiationTimestamp disconnectTimestamp agentInfo { connectedToAgentTimestamp } } }`;

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const policy = { ttlSeconds: 300, activeTtlSeconds: 5, negativeTtlSeconds: 10 };
const ref = (contactId: string): ContactRef => ({ region: "us-east-1", instanceId: "i-1", contactId });

/** The contact cache (the contacts' freshness policy on a `TieredCache`) over a fake upstream that records every call. */
function cacheWithCalls(options: Partial<TieredCacheOptions<ContactModel>> = {}, answer: (ref: ContactRef) => Contact = (r) => finished(r.contactId)) {
  const calls: string[] = [];
  const cache = contactCache({ maxEntries: 1000, maxBytes: 1 << 20, ...options });
  const fetch: FetchContact = (r, o = {}) =>
    cache.read(
      contactKey(r),
      async () => {
        calls.push(r.contactId);
        return toContactModel(answer(r), r);
      },
      o,
    );
  return { cache, fetch, calls };
}

function contactCache(options: Partial<TieredCacheOptions<ContactModel>> & Pick<TieredCacheOptions<ContactModel>, "maxEntries" | "maxBytes">): TieredCache<ContactModel> {
  return new TieredCache<ContactModel>({ name: "contact", freshness: contactFreshness(policy), ...options });
}

function finished(id: string): Contact {
  return { Id: id, InitiationTimestamp: new Date(1_700_000_000_000), DisconnectTimestamp: new Date(1_700_000_060_000) };
}

const REF_A = { region: "us-east-1", instanceId: "i-1", contactId: "a" };

describe("freshness policy", () => {
  it("keeps a finished contact CACHE_TTL_SECONDS, one in progress or in after-contact work CACHE_ACTIVE_TTL_SECONDS", () => {
    const started = new Date(1_700_000_000_000);
    const ended = new Date(1_700_000_060_000);
    expect(contactTtlSeconds(toContactModel({ Id: "a", DisconnectTimestamp: ended }, REF_A), policy)).toBe(300);
    expect(contactTtlSeconds(toContactModel({ Id: "a", InitiationTimestamp: started }, REF_A), policy)).toBe(5);
    expect(contactTtlSeconds(toContactModel({ Id: "a", DisconnectTimestamp: ended, AgentInfo: { AfterContactWorkStartTimestamp: ended } }, REF_A), policy)).toBe(5);
    expect(
      contactTtlSeconds(toContactModel({ Id: "a", DisconnectTimestamp: ended, AgentInfo: { AfterContactWorkStartTimestamp: ended, AfterContactWorkEndTimestamp: ended } }, REF_A), policy),
    ).toBe(300);
  });

  it("recognises Cache-Control: no-cache and max-age=0, and Pragma: no-cache, as a request to bypass the cache", () => {
    expect(requestBypassesCache({ "cache-control": "no-cache" })).toBe(true);
    expect(requestBypassesCache({ "cache-control": "max-age=0, private" })).toBe(true);
    expect(requestBypassesCache({ pragma: "no-cache" })).toBe(true);
    expect(requestBypassesCache({ "cache-control": "max-age=60" })).toBe(false);
    expect(requestBypassesCache({ "cache-control": "no-cache-please" })).toBe(false);
    expect(requestBypassesCache({})).toBe(false);
  });
});

describe("the contact cache", () => {
  it("holds at most CACHE_MAX_ENTRIES contacts, dropping the least recently used", async () => {
    const { fetch, calls } = cacheWithCalls({ maxEntries: 2 });
    await fetch(ref("a"));
    await fetch(ref("b"));
    await fetch(ref("a"));
    await fetch(ref("c")); // evicts b
    await fetch(ref("a"));
    await fetch(ref("b"));
    expect(calls).toEqual(["a", "b", "c", "b"]);
  });

  it("holds contacts whose charged resident memory fits CACHE_MAX_MB, dropping the least recently used", async () => {
    const contacts = seededContacts();
    const maxBytes = 1 << 20;
    const { cache, fetch, calls } = cacheWithCalls({ maxBytes, maxEntries: 10_000 }, (r) => structuredClone(contacts[Number(r.contactId) % contacts.length]!));
    for (let i = 0; i < 1000; i++) await fetch(ref(String(i)));
    const { entries, bytes } = cache.usage();
    expect(bytes).toBeLessThanOrEqual(maxBytes);
    // About 4 KB each: the bound, not the entry count, decides how many stay.
    expect(entries).toBeGreaterThan(150);
    expect(entries).toBeLessThan(400);
    calls.length = 0;
    await fetch(ref("999"));
    await fetch(ref("0"));
    expect(calls).toEqual(["0"]);
  });

  // What an entry is measured to cost between full collections, against what it is charged, is
  // figure 5b of `npm run bench` (bench/cacheCharge.ts): measuring the heap needs a process of its own.
  it("charges a contact of the emulator's data set about 4 KB, so the default CACHE_MAX_MB holds CACHE_MAX_ENTRIES of them", async () => {
    const contacts = seededContacts();
    const { cache, fetch } = cacheWithCalls({ maxEntries: contacts.length, maxBytes: 2 ** 40 }, (r) => structuredClone(contacts[Number(r.contactId)]!));
    for (let i = 0; i < contacts.length; i++) await fetch(ref(String(i)));
    const { entries, bytes } = cache.usage();
    expect(entries).toBe(contacts.length);
    const average = bytes / entries;
    expect(average).toBeGreaterThan(3_500);
    expect(average).toBeLessThan(5_000);
    expect(Number(SETTINGS.CACHE_MAX_ENTRIES.default) * average).toBeLessThanOrEqual(Number(SETTINGS.CACHE_MAX_MB.default) * 2 ** 20);
  });

  it("hands every request the one object it keeps per contact (no copy per request or per reader)", async () => {
    const { fetch, calls } = cacheWithCalls();
    const first = await createLoaders(fetch).contact.load(ref("a"));
    const second = await createLoaders(fetch).contact.load(ref("a"));
    expect(second).toBe(first);
    expect(first.$ref).toEqual(ref("a"));
    expect(calls).toEqual(["a"]);
  });

  it("makes a cached contact again from its JSON once the collector dropped its object: same data, Dates as Dates, no upstream call", async () => {
    // The collector runs on demand only in a process started with --expose-gc (collectedValue.ts).
    const script = fileURLToPath(new URL("collectedValue.ts", import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ["--expose-gc", "--import", "tsx", script]);
    expect(JSON.parse(stdout.trim().split("\n").at(-1)!)).toEqual({ collected: true, sameData: true, timestampsAreIso: true, sameObjectAfter: true, loads: 1 });
  });

  it("never caches an upstream error other than not-found", async () => {
    const { fetch, calls } = cacheWithCalls({}, () => {
      throw Object.assign(new Error("boom"), { name: "InternalServiceException" });
    });
    await expect(fetch(ref("a"))).rejects.toThrow("boom");
    await expect(fetch(ref("a"))).rejects.toThrow("boom");
    expect(calls).toEqual(["a", "a"]);
  });
});

// Private: the emulator's seeded contacts, as the SDK would hand them over (Dates as Dates).
let seeded: Contact[] | undefined;
function seededContacts(): Contact[] {
  seeded ??= [...buildDataset(DEMO.seed).instances.get(DEMO.instanceId)!.contacts.values()];
  return seeded;
}

describe("the gateway's cross-request cache (emulator)", () => {
  it("answers a repeat query within the TTL with zero upstream calls and the same data, timestamps included", async () => {
    stack = await startStack();
    const first = await stack.query(CONTACT, { i: I, c: DEMO.fullContactId });
    expect(first.body.errors).toBeUndefined();
    expect(stack.describeContactCalls()).toBe(1);
    stack.resetCalls();
    const second = await stack.query(CONTACT, { i: I, c: DEMO.fullContactId });
    expect(second.body).toEqual(first.body);
    expect(stack.describeContactCalls()).toBe(0);
  });

  it("coalesces concurrent requests for the same uncached contact into one upstream call", async () => {
    stack = await startStack({ emulator: { latencyMs: 200 } });
    const responses = await Promise.all(Array.from({ length: 10 }, () => stack!.query(CONTACT, { i: I, c: DEMO.fullContactId })));
    for (const { body } of responses) expect(body.data.contact.id).toBe(DEMO.fullContactId);
    expect(stack.describeContactCalls()).toBe(1);
  });

  it("remembers a not-found contact for CACHE_NEGATIVE_TTL_SECONDS, so asking again costs no call", async () => {
    stack = await startStack();
    for (let n = 0; n < 3; n++) {
      const { body } = await stack.query(CONTACT, { i: I, c: DEMO.missingContactId });
      expect(body.data.contact).toBeNull();
      expect(body.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    }
    expect(stack.describeContactCalls()).toBe(1);
  });

  it("does not remember not-found contacts with CACHE_NEGATIVE_TTL_SECONDS=0", async () => {
    stack = await startStack({ env: { CACHE_NEGATIVE_TTL_SECONDS: "0" } });
    await stack.query(CONTACT, { i: I, c: DEMO.missingContactId });
    await stack.query(CONTACT, { i: I, c: DEMO.missingContactId });
    expect(stack.describeContactCalls()).toBe(2);
  });

  it("keeps a contact in progress no longer than CACHE_ACTIVE_TTL_SECONDS (0: not at all) while finished ones stay cached", async () => {
    stack = await startStack({ env: { CACHE_ACTIVE_TTL_SECONDS: "0" } });
    for (let n = 0; n < 2; n++) {
      await stack.query(CONTACT, { i: I, c: DEMO.inProgressContactId });
      await stack.query(CONTACT, { i: I, c: DEMO.fullContactId });
    }
    expect(stack.emulator.calls.byContact[`${I}/${DEMO.inProgressContactId}`]).toBe(2);
    expect(stack.emulator.calls.byContact[`${I}/${DEMO.fullContactId}`]).toBe(1);
  });

  it("reads Connect again for a request with Cache-Control: no-cache, and serves later requests the refreshed copy", async () => {
    stack = await startStack();
    await stack.query(CONTACT, { i: I, c: DEMO.fullContactId });
    const fresh = await stack.query(CONTACT, { i: I, c: DEMO.fullContactId }, { "cache-control": "no-cache" });
    expect(fresh.body.data.contact.id).toBe(DEMO.fullContactId);
    expect(stack.describeContactCalls()).toBe(2);
    await stack.query(CONTACT, { i: I, c: DEMO.fullContactId });
    expect(stack.describeContactCalls()).toBe(2);
  });

  it("turns off with CACHE_TTL_SECONDS=0: every request reads Connect", async () => {
    stack = await startStack({ env: { CACHE_TTL_SECONDS: "0" } });
    await stack.query(CONTACT, { i: I, c: DEMO.fullContactId });
    await stack.query(CONTACT, { i: I, c: DEMO.fullContactId });
    expect(stack.describeContactCalls()).toBe(2);
  });
});
