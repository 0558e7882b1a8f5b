import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { DEMO } from "../../src/emulator/dataset.js";
import type { Gateway } from "../../src/http/gateway.js";
import { startLoggedGateway, type LogLine } from "../support/loggedGateway.js";

// The operation log line's `upstreamCalls` comes from a scope each request passes down with its
// reads (no AsyncLocalStorage, see src/upstream/operationScope.ts). These specs follow it through every path
// an upstream call can take.
describe("upstream calls counted per operation", () => {
  let emulator: Emulator;
  let gateway: Gateway;
  let url: string;
  const lines: Array<LogLine & { upstreamCalls?: number }> = [];

  beforeAll(async () => {
    emulator = await startEmulator({ quota: false });
    // The contact cache on (its default TTL), so coalesced and cached reads are followed too.
    ({ gateway, url } = await startLoggedGateway(emulator.url, lines, { CACHE_TTL_SECONDS: "300" }));
    url = `${url}/graphql`;
  });
  afterAll(async () => {
    await gateway?.close();
    await emulator?.close();
  });
  beforeEach(() => {
    lines.length = 0;
    emulator.resetStats();
    gateway.contactSource?.cache.clear();
  });

  const post = (query: string, requestId: string) =>
    fetch(url, { method: "POST", headers: { "content-type": "application/json", "x-request-id": requestId }, body: JSON.stringify({ query }) }).then(
      (r) => r.json() as Promise<any>,
    );
  const logged = (requestId: string) => lines.find((l) => l.msg === "operation" && l.requestId === requestId)?.upstreamCalls;

  it("counts the queue, agent and reference reads of an operation along with its contacts", async () => {
    const body = await post(
      `{ contact(instanceId: "${DEMO.instanceId}", contactId: "${DEMO.fullContactId}") { id queueInfo { queue { name } } agentInfo { agent { id } } references { __typename } } }`,
      "joins",
    );
    expect(body.errors).toBeUndefined();
    const calls = emulator.calls.byApi;
    expect(calls.DescribeQueue).toBe(1);
    expect(calls.DescribeUser).toBe(1);
    expect(calls.ListContactReferences).toBeGreaterThan(0);
    expect(logged("joins")).toBe(emulator.calls.total);
  });

  it("counts a call that two concurrent operations share once, for the operation that sent it", async () => {
    const query = `{ contact(instanceId: "${DEMO.instanceId}", contactId: "${DEMO.fullContactId}") { id } }`;
    const [a, b] = await Promise.all([post(query, "first"), post(query, "second")]);
    expect(a.data.contact.id).toBe(DEMO.fullContactId);
    expect(b.data.contact.id).toBe(DEMO.fullContactId);
    expect(emulator.calls.byApi.DescribeContact).toBe(1);
    expect([logged("first"), logged("second")].sort()).toEqual([0, 1]);
  });
});
