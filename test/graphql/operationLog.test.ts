import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { DEMO, findContact } from "../../src/emulator/dataset.js";
import type { Gateway } from "../../src/http/gateway.js";
import { post } from "../support/http.js";
import { startLoggedGateway, type LogLine } from "../support/loggedGateway.js";
import { plain, prettyListeningUrl, spawnGateway } from "../support/processes.js";

const I = DEMO.instanceId;
/** The long chain's tail, two previous contacts and the initial one: four distinct contacts. */
const CHAIN = `query Chain($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id previousContact { id previousContact { id } } initialContact { id } } }`;

let emulator: Emulator;
let gateway: Gateway;
let url: string;
const lines: LogLine[] = [];
const operationLines = () => lines.filter((l) => l.msg === "operation");

beforeAll(async () => {
  emulator = await startEmulator({ quota: false });
  let base: string;
  ({ gateway, url: base } = await startLoggedGateway(emulator.url, lines));
  url = `${base}/graphql`;
});
afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});
beforeEach(() => {
  lines.length = 0;
  emulator.resetStats();
});

describe("the operation log", () => {
  it("writes one JSON line per operation: request id from x-request-id, operation name, duration, upstream calls, outcome", async () => {
    const { status, headers } = await post(url, { query: CHAIN, variables: { i: I, c: DEMO.longChainTailId } }, { "x-request-id": "trace-123" });
    expect(status).toBe(200);
    expect(headers.get("x-request-id")).toBe("trace-123");
    expect(operationLines()).toHaveLength(1);
    const line = operationLines()[0]!;
    expect(line).toMatchObject({ level: 30, requestId: "trace-123", operationName: "Chain", operationType: "query", upstreamCalls: 4, outcome: "ok" });
    expect(line.upstreamCalls).toBe(emulator.calls.byApi.DescribeContact);
    expect(line.durationMs).toEqual(expect.any(Number));
    expect(line).not.toHaveProperty("errorCodes");
  });

  it("generates a request id when none is sent, returns it in x-request-id and logs it", async () => {
    const { headers } = await post(url, { query: `{ contact(instanceId: "${I}", contactId: "${DEMO.fullContactId}") { id } }` });
    const id = headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(operationLines()[0]).toMatchObject({ requestId: id, operationName: null, upstreamCalls: 1, outcome: "ok" });
  });

  it("counts each operation's own upstream calls when operations run at the same time", async () => {
    await Promise.all([
      post(url, { query: CHAIN, variables: { i: I, c: DEMO.longChainTailId } }, { "x-request-id": "chain" }),
      post(url, { query: `query One { contact(instanceId: "${I}", contactId: "${DEMO.fullContactId}") { id } }` }, { "x-request-id": "one" }),
      post(url, { query: `query None { __typename }` }, { "x-request-id": "none" }),
    ]);
    const byId = Object.fromEntries(operationLines().map((l) => [l.requestId, l.upstreamCalls]));
    expect(byId).toEqual({ chain: 4, one: 1, none: 0 });
    expect(emulator.calls.byApi.DescribeContact).toBe(5);
  });

  it("counts every request sent to Connect, the SDK's retries included", async () => {
    emulator.failNext(1, 500, "DescribeContact");
    const { body } = await post(url, { query: `query Retried { contact(instanceId: "${I}", contactId: "${DEMO.fullContactId}") { id } }` });
    expect(body.data.contact.id).toBe(DEMO.fullContactId);
    expect(emulator.calls.byApi.DescribeContact).toBe(2);
    expect(operationLines()[0]).toMatchObject({ operationName: "Retried", upstreamCalls: 2, outcome: "ok" });
  });

  it("records errors by code, with outcome partial when data came back alongside them", async () => {
    await post(url, { query: `query Missing { contact(instanceId: "${I}", contactId: "${DEMO.missingContactId}") { id } }` });
    await post(url, { query: `query Invalid { contact { id } }` });
    const [missing, invalid] = operationLines();
    expect(missing).toMatchObject({ operationName: "Missing", outcome: "partial", errorCodes: ["NOT_FOUND"], upstreamCalls: 1 });
    expect(invalid).toMatchObject({ operationName: "Invalid", outcome: "error", errorCodes: ["GRAPHQL_VALIDATION_FAILED"], upstreamCalls: 0 });
  });

  it("never logs the query text, its variables or contact data", async () => {
    const contact = findContact(emulator.dataset, I, DEMO.fullContactId)!;
    const personal = [contact.Name, contact.Description, contact.CustomerEndpoint?.Address, contact.SystemEndpoint?.Address].filter(Boolean) as string[];
    expect(personal.length).toBeGreaterThan(2);
    const { body } = await post(url, {
      query: `query Personal($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { name description customerEndpoint { address } systemEndpoint { address } } }`,
      variables: { i: I, c: DEMO.fullContactId, note: "secret-variable-value" },
    });
    expect(body.data.contact.name).toBe(contact.Name); // the response has it; the log must not
    const text = JSON.stringify(lines);
    for (const value of [...personal, "secret-variable-value", "customerEndpoint"]) expect(text).not.toContain(value);
    expect(operationLines()).toHaveLength(1);
  });

  it("is human-readable with LOG_FORMAT=pretty (the default on a terminal)", async () => {
    const proc = await spawnGateway({ LOG_FORMAT: "pretty" }, 20_000, prettyListeningUrl);
    try {
      await post(proc.url, { query: `query Pretty { __typename }` }, { "x-request-id": "pretty-1" });
      await expect.poll(() => plain(proc.output())).toMatch(/INFO.*: operation/);
      const lineStart = plain(proc.output()).slice(plain(proc.output()).search(/INFO.*: operation/));
      expect(lineStart).toMatch(/requestId: "pretty-1"/);
      expect(lineStart).toMatch(/operationName: "Pretty"/);
      expect(proc.output()).not.toMatch(/^\{"level"/m);
    } finally {
      await proc.stop();
    }
  });
});
