import type { Contact } from "@aws-sdk/client-connect";
import { afterEach, describe, expect, it } from "vitest";
import { ContactCache, contactTtlSeconds, requestBypassesCache, type ContactCacheOptions } from "../src/cache.js";
import type { ContactRef } from "../src/contactRef.js";
import { DEMO } from "../src/emulatorData.js";
import { startStack, type Stack } from "./support/stack.js";

const I = DEMO.instanceId;
const CONTACT = `query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id initiationTimestamp disconnectTimestamp agentInfo { connectedToAgentTimestamp } } }`;

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const policy = { ttlSeconds: 300, activeTtlSeconds: 5, negativeTtlSeconds: 10 };
const ref = (contactId: string): ContactRef => ({ region: "us-east-1", instanceId: "i-1", contactId });

/** A cache over a fake upstream that records every call. */
function cacheWithCalls(options: Partial<ContactCacheOptions> = {}, answer: (ref: ContactRef) => Contact = (r) => finished(r.contactId)) {
  const calls: string[] = [];
  const cache = new ContactCache({ ...policy, maxEntries: 1000, maxBytes: 1 << 20, ...options });
  const fetch = cache.wrap(async (r) => {
    calls.push(r.contactId);
    return answer(r);
  });
  return { cache, fetch, calls };
}

function finished(id: string): Contact {
  return { Id: id, InitiationTimestamp: new Date(1_700_000_000_000), DisconnectTimestamp: new Date(1_700_000_060_000) };
}

describe("freshness policy", () => {
  it("keeps a finished contact CACHE_TTL_SECONDS, one in progress or in after-contact work CACHE_ACTIVE_TTL_SECONDS", () => {
    const started = new Date(1_700_000_000_000);
    const ended = new Date(1_700_000_060_000);
    expect(contactTtlSeconds({ Id: "a", DisconnectTimestamp: ended }, policy)).toBe(300);
    expect(contactTtlSeconds({ Id: "a", InitiationTimestamp: started }, policy)).toBe(5);
    expect(contactTtlSeconds({ Id: "a", DisconnectTimestamp: ended, AgentInfo: { AfterContactWorkStartTimestamp: ended } }, policy)).toBe(5);
    expect(
      contactTtlSeconds({ Id: "a", DisconnectTimestamp: ended, AgentInfo: { AfterContactWorkStartTimestamp: ended, AfterContactWorkEndTimestamp: ended } }, policy),
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

describe("ContactCache", () => {
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

  it("holds at most CACHE_MAX_MB of serialized contacts", async () => {
    const big = (id: string): Contact => ({ ...finished(id), Description: "x".repeat(600) });
    const { fetch, calls } = cacheWithCalls({ maxBytes: 1000 }, (r) => big(r.contactId));
    await fetch(ref("a"));
    await fetch(ref("b")); // the two do not fit together: a goes
    await fetch(ref("b"));
    await fetch(ref("a"));
    expect(calls).toEqual(["a", "b", "a"]);
  });

  it("never caches an upstream error other than not-found", async () => {
    const calls: string[] = [];
    const cache = new ContactCache({ ...policy, maxEntries: 10, maxBytes: 1 << 20 });
    const fetch = cache.wrap(async (r) => {
      calls.push(r.contactId);
      throw Object.assign(new Error("boom"), { name: "InternalServiceException" });
    });
    await expect(fetch(ref("a"))).rejects.toThrow("boom");
    await expect(fetch(ref("a"))).rejects.toThrow("boom");
    expect(calls).toEqual(["a", "a"]);
  });
});

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
