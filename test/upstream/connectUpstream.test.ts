import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ConnectUpstream } from "../../src/upstream/connectUpstream.js";
import { EMULATOR_CREDENTIALS, startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { DEMO } from "../../src/emulator/dataset.js";
import { ConnectClient, DescribeContactCommand, ResourceNotFoundException } from "@aws-sdk/client-connect";
import { contactAnswerJson, toContactModel } from "../../src/domain/contactRef.js";
import { ANSWER_JSON, type AnswerJson, type QuotaScope } from "../../src/upstream/upstream.js";

describe("the upstream client", () => {
  let emulator: Emulator;
  let upstream: ConnectUpstream;
  beforeAll(async () => {
    emulator = await startEmulator({ quota: false });
    upstream = new ConnectUpstream({ endpoint: emulator.url, credentials: EMULATOR_CREDENTIALS });
  });
  afterAll(async () => {
    upstream?.destroy();
    await emulator?.close();
  });

  // The gateway gives the SDK no logger; the SDK's logger middleware would still copy every answer
  // through its sensitive-data filter to log it nowhere (bench/README.md).
  it("leaves out the SDK's logger middleware and still reads a signed DescribeContact", async () => {
    const client = upstream.client(DEMO.region);
    expect(client.middlewareStack.identify().some((m) => m.startsWith("loggerMiddleware"))).toBe(false);
    const contact = await upstream.describeContact({ region: DEMO.region, instanceId: DEMO.instanceId, contactId: DEMO.fullContactId });
    expect(contact.Id).toBe(DEMO.fullContactId);
    expect(emulator.calls.byApi.DescribeContact).toBe(1);
    expect(emulator.calls.unauthenticated).toBe(0);
  });

  // Issue #11: one parse per answer. The SDK still signs and sends the call and makes exceptions of
  // errors; a success's body is parsed once, by JSON.parse, and kept as the cache's entry.
  it("parses a DescribeContact answer once and keeps the body Connect sent, byte for byte", async () => {
    const ref = { region: DEMO.region, instanceId: DEMO.instanceId, contactId: DEMO.fullContactId };
    const answer = (await upstream.describeContact(ref)) as AnswerJson;
    const sent = await fetch(`${emulator.url}/contacts/${DEMO.instanceId}/${DEMO.fullContactId}`, {
      headers: { authorization: `AWS4-HMAC-SHA256 Credential=AKID/20261014/${DEMO.region}/connect/aws4_request, SignedHeaders=host, Signature=0` },
    }).then((r) => r.text());
    expect(answer[ANSWER_JSON]).toBe(sent);
    // The answer's members are the wire's: timestamps still epoch seconds, nothing made by the SDK.
    expect(typeof answer.InitiationTimestamp).toBe("number");
    // The cache's entry is that body as it came, not the model serialized again.
    expect(contactAnswerJson(toContactModel(answer, ref, answer[ANSWER_JSON]))).toBe(sent);
  });

  it("builds the same model from the answer's JSON as from the SDK's own parse of it, every member of the full contact", async () => {
    const ref = { region: DEMO.region, instanceId: DEMO.instanceId, contactId: DEMO.fullContactId };
    const sdk = new ConnectClient({ region: DEMO.region, endpoint: emulator.url, credentials: EMULATOR_CREDENTIALS });
    const parsedBySdk = (await sdk.send(new DescribeContactCommand({ InstanceId: ref.instanceId, ContactId: ref.contactId }))).Contact!;
    sdk.destroy();
    const fromJson = toContactModel(await upstream.describeContact(ref), ref);
    expect(fromJson).toEqual(toContactModel(parsedBySdk, ref));
    expect(fromJson.disconnectTimestamp).toBe(parsedBySdk.DisconnectTimestamp!.toISOString());
  });

  it("still answers an error response with the SDK's exception, and parses nothing of it", async () => {
    const ref = { region: DEMO.region, instanceId: DEMO.instanceId, contactId: "no-such-contact" };
    const before = emulator.calls.byApi.DescribeContact;
    await expect(upstream.describeContact(ref)).rejects.toBeInstanceOf(ResourceNotFoundException);
    expect(emulator.calls.byApi.DescribeContact - before).toBe(1);
  });

  it("answers a success whose body is not Connect's answer with a coded error that keeps the status and request id", async () => {
    const bodies = ["not json", "{}", ""];
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "x-amzn-requestid": "req-1" });
      res.end(bodies.shift());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const odd = new ConnectUpstream({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, credentials: EMULATOR_CREDENTIALS, maxAttempts: 1 });
    const ref = { region: DEMO.region, instanceId: DEMO.instanceId, contactId: "c-1" };
    try {
      const metadata = { httpStatusCode: 200, requestId: "req-1" };
      await expect(odd.describeContact(ref)).rejects.toMatchObject({ name: "MalformedResponse", $metadata: metadata });
      await expect(odd.describeContact(ref)).rejects.toMatchObject({ name: "EmptyResponse", $metadata: metadata });
      await expect(odd.describeContact(ref)).rejects.toMatchObject({ name: "EmptyResponse", $metadata: metadata });
    } finally {
      odd.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  // The SDK client keeps the handler it resolves for a command class (`cacheMiddleware`), instead
  // of cloning, concatenating and sorting the whole middleware stack for every call.
  it("resolves the SDK's middleware stack once per command class, not once per call", async () => {
    const fresh = new ConnectUpstream({ endpoint: emulator.url, credentials: EMULATOR_CREDENTIALS });
    const resolve = vi.spyOn(DescribeContactCommand.prototype, "resolveMiddleware");
    try {
      const ref = { region: DEMO.region, instanceId: DEMO.instanceId, contactId: DEMO.fullContactId };
      const first = (await fresh.describeContact(ref)) as AnswerJson;
      const second = (await fresh.describeContact(ref, { beforeAttempt: async () => {} })) as AnswerJson;
      expect(resolve).toHaveBeenCalledTimes(1);
      expect(second[ANSWER_JSON]).toBe(first[ANSWER_JSON]);
    } finally {
      resolve.mockRestore();
      fresh.destroy();
    }
  });

  it("keeps its middlewares on the client: the gate after the retry middleware and before signing, the body reader inside the deserializer", () => {
    const names = upstream.client(DEMO.region).middlewareStack.identify().map((m) => m.split(" ")[0]);
    const at = (name: string) => names.indexOf(name);
    expect(at("retryMiddleware")).toBeGreaterThanOrEqual(0);
    expect(at("quotaLimiterMiddleware")).toBe(at("retryMiddleware") + 1);
    expect(at("httpSigningMiddleware")).toBe(at("quotaLimiterMiddleware") + 1);
    expect(at("keepingJsonMiddleware")).toBe(at("deserializerMiddleware") + 1);
  });

  // One handler serves every call of a class at once; each call's state is its own.
  it("gives each of many concurrent calls its own answer body and its own gate, gated and ungated calls mixed", async () => {
    const ids = [...emulator.dataset.instances.get(DEMO.instanceId)!.contacts.keys()].slice(0, 12);
    const scopes = ids.map(() => [] as [QuotaScope, number][]);
    const answers = await Promise.all(
      ids.map((contactId, n) => {
        const ref = { region: DEMO.region, instanceId: DEMO.instanceId, contactId };
        // Gates that finish in the reverse of the order they started in, so the calls interleave.
        const beforeAttempt = async (scope: QuotaScope, attempt: number) => {
          await sleep((ids.length - n) * 2);
          scopes[n]!.push([scope, attempt]);
        };
        return upstream.describeContact(ref, n % 3 === 0 ? {} : { beforeAttempt });
      }),
    );
    for (const [n, answer] of (answers as AnswerJson[]).entries()) {
      expect(answer.Id).toBe(ids[n]);
      expect(JSON.parse(answer[ANSWER_JSON]!).Contact.Id).toBe(ids[n]);
      expect(scopes[n]).toEqual(n % 3 === 0 ? [] : [[{ api: "DescribeContact", region: DEMO.region, identity: EMULATOR_CREDENTIALS.accessKeyId }, 1]]);
    }
  });

  it("awaits a call's gate before every attempt, a retried one included, counting each call's attempts apart", async () => {
    const ids = [DEMO.fullContactId, DEMO.relatedChainContactId];
    const before = emulator.calls.byApi.DescribeContact;
    emulator.failNext(1, 500, "DescribeContact");
    const attempts = ids.map(() => [] as number[]);
    const answers = await Promise.all(
      ids.map((contactId, n) =>
        upstream.describeContact({ region: DEMO.region, instanceId: DEMO.instanceId, contactId }, { beforeAttempt: async (_scope, attempt) => void attempts[n]!.push(attempt) }),
      ),
    );
    expect(answers.map((a) => a.Id)).toEqual(ids);
    // One of the two met the injected failure and was retried once; the other went through at once.
    expect(attempts.map((a) => a.join()).sort()).toEqual(["1", "1,2"]);
    expect(emulator.calls.byApi.DescribeContact - before).toBe(3);
  });

  // The reviewer's repro: 2,000 ARNs of invented regions made 2,000 clients (and quota buckets), kept
  // for the life of the process. Refs are refused as they are parsed; the client map refuses too.
  it("makes no client, no quota gate and no call for a region the gateway may not call", async () => {
    const fresh = new ConnectUpstream({ endpoint: emulator.url, credentials: EMULATOR_CREDENTIALS });
    const clients = (fresh as unknown as { clients: Map<string, unknown> }).clients;
    const before = emulator.calls.total;
    const gate = vi.fn(async () => {});
    try {
      expect(() => fresh.client("us-east-7")).toThrow(expect.objectContaining({ name: "RegionNotAllowed" }));
      for (let n = 3; n < 40; n++) {
        const region = `us-east-${n}`;
        const refused = expect.objectContaining({ name: "RegionNotAllowed" });
        const ref = { region, instanceId: DEMO.instanceId, contactId: DEMO.fullContactId };
        await expect(fresh.describeContact(ref, { beforeAttempt: gate })).rejects.toEqual(refused);
        await expect(fresh.describeQueue({ region, instanceId: DEMO.instanceId, id: "q-1" })).rejects.toEqual(refused);
        await expect(fresh.getContactAttributes(ref, { beforeAttempt: gate })).rejects.toEqual(refused);
        await expect(fresh.searchContacts(region, { InstanceId: DEMO.instanceId, TimeRange: undefined as never })).rejects.toEqual(refused);
      }
      expect(clients.size).toBe(0);
      expect(gate).not.toHaveBeenCalled();
      expect(emulator.calls.total - before).toBe(0);
      // A region it may call still gets its one client.
      expect(fresh.client("eu-west-2")).toBe(fresh.client("eu-west-2"));
      expect([...clients.keys()]).toEqual(["eu-west-2"]);
    } finally {
      fresh.destroy();
    }
  });

  // A signal has to reach the SDK in `send`'s options, which bypasses the cached handler for that call.
  it("still honours a caller's abort signal, and answers the calls after it", async () => {
    const ref = { region: DEMO.region, instanceId: DEMO.instanceId, contactId: DEMO.fullContactId };
    await expect(upstream.describeContact(ref, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: "AbortError" });
    expect((await upstream.describeContact(ref)).Id).toBe(DEMO.fullContactId);
  });
});
