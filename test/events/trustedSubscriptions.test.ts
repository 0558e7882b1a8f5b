import { fileURLToPath } from "node:url";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { startLiveStack, waitUntil, type LiveStack } from "../support/liveStack.js";

// The example front end's manifest (examples/contact-client, written by its codegen).
const MANIFEST = fileURLToPath(new URL("../../examples/contact-client/src/gql/persisted-documents.json", import.meta.url));
const SUBSCRIPTION_ID = Object.entries(JSON.parse(readFileSync(MANIFEST, "utf8")) as Record<string, string>).find(([, document]) => document.startsWith("subscription"))![0];

let stack: LiveStack;
beforeAll(async () => {
  stack = await startLiveStack({ env: { TRUSTED_DOCUMENTS_FILE: MANIFEST } });
});
afterAll(async () => {
  await stack?.close();
});

describe("subscriptions with TRUSTED_DOCUMENTS_FILE", () => {
  it("run a listed subscription by its hash over WebSocket (documentId) and SSE (persisted-query extension)", async () => {
    const hash = SUBSCRIPTION_ID.replace(/^sha256:/, "");
    const received: unknown[][] = [[], []];
    const ws = stack.ws();
    ws.subscribe({ query: "", documentId: SUBSCRIPTION_ID, variables: { instanceId: DEMO.instanceId } } as never, { next: (r) => void received[0]!.push(r), error: () => {}, complete: () => {} });
    const sse = stack.sse();
    sse.subscribe(
      { query: "", variables: { instanceId: DEMO.instanceId }, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } },
      { next: (r) => void received[1]!.push(r), error: () => {}, complete: () => {} },
    );
    await stack.subscribers(2);
    stack.emulator.events.emit({ eventType: "INITIATED" });
    await waitUntil(() => received.every((r) => r.length === 1), "the event over both transports");
    for (const [result] of received) expect(result).toMatchObject({ data: { contactEvents: { eventType: "INITIATED" } } });
  });

  it("refuse a raw subscription document with TRUSTED_DOCUMENT_REQUIRED before subscribing", async () => {
    const raw = stack.subscribe(stack.ws(), `subscription($i: ID!) { contactEvents(instanceId: $i) { eventId } }`, { i: DEMO.instanceId });
    await waitUntil(() => raw.ended !== undefined, "the refusal");
    expect(JSON.stringify(raw.ended!.error)).toContain("TRUSTED_DOCUMENT_REQUIRED");
    await waitUntil(() => stack.gateway.events!.hub.size === 2, "only the earlier two subscriptions");
  });

  it("run a listed subscription over SSE sent without a query, by documentId (POST or GET) or the persisted-query extension", async () => {
    const hash = SUBSCRIPTION_ID.replace(/^sha256:/, "");
    const variables = { instanceId: DEMO.instanceId };
    const requests: Array<[string, RequestInit]> = [
      ["", { method: "POST", body: JSON.stringify({ documentId: SUBSCRIPTION_ID, variables }) }],
      ["", { method: "POST", body: JSON.stringify({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } }, variables }) }],
      [`?documentId=${encodeURIComponent(SUBSCRIPTION_ID)}&variables=${encodeURIComponent(JSON.stringify(variables))}`, { method: "GET" }],
    ];
    const open = stack.gateway.events!.hub.size;
    for (const [search, init] of requests) {
      const aborted = new AbortController();
      const response = await fetch(`${stack.url}/stream${search}`, { ...init, headers: { "content-type": "application/json", accept: "text/event-stream" }, signal: aborted.signal });
      expect({ search, body: init.body, status: response.status }).toEqual({ search, body: init.body, status: 200 });
      await waitUntil(() => stack.gateway.events!.hub.size === open + 1, "the subscription");
      aborted.abort();
      await waitUntil(() => stack.gateway.events!.hub.size === open, "the subscription to end");
    }
    // Naming no document at all: refused as a raw document is.
    const none = await fetch(`${stack.url}/stream`, { method: "POST", headers: { "content-type": "application/json", accept: "text/event-stream" }, body: JSON.stringify({ variables }) });
    expect(none.status).toBe(400);
    expect(((await none.json()) as { errors: Array<{ extensions: { code: string } }> }).errors.map((e) => e.extensions.code)).toEqual(["TRUSTED_DOCUMENT_REQUIRED"]);
  });
});
