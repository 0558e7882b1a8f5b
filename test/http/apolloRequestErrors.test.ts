import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { startLoggedGateway, type LogLine } from "../support/loggedGateway.js";

/**
 * Apollo Server's own refusals of a malformed request: every one answers with a stable code the
 * client can act on, costs no upstream call, and writes no error-level log line (any client could
 * otherwise fill the error log).
 */

let emulator: Emulator;
let url: string;
let close: () => Promise<void>;
const lines: LogLine[] = [];

beforeAll(async () => {
  emulator = await startEmulator({ quota: false });
  const started = await startLoggedGateway(emulator.url, lines);
  url = `${started.url}/graphql`;
  close = () => started.gateway.close();
});
afterAll(async () => {
  await close?.();
  await emulator?.close();
});

async function post(body: unknown): Promise<{ status: number; body: { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> } }> {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as never };
}

describe("a malformed persisted-query extension", () => {
  it.each([
    ["an unsupported version", { query: "{ __typename }", extensions: { persistedQuery: { version: 2 } } }, "Unsupported persisted query version"],
    ["a sha256Hash that does not match the query", { query: "{ __typename }", extensions: { persistedQuery: { version: 1, sha256Hash: "abc" } } }, "provided sha does not match query"],
  ])("with %s is BAD_REQUEST with Apollo's message, HTTP 400, logged at no error level, and calls nothing", async (_, body, message) => {
    lines.length = 0;
    emulator.resetStats();
    const answer = await post(body);
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toEqual([{ message, extensions: { code: "BAD_REQUEST" } }]);
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(emulator.calls.total).toBe(0);
  });
});
