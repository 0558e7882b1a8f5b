import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Contact } from "@aws-sdk/client-connect";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SETTINGS } from "../../src/config/config.js";
import { EMULATOR_CREDENTIALS, startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { DEMO, buildDataset, findContact } from "../../src/emulator/dataset.js";
import type { Gateway } from "../../src/http/gateway.js";
import { runGateway, spawnGateway, type GatewayProcess } from "../support/processes.js";
import { startLoggedGateway, type LogLine } from "../support/loggedGateway.js";
import { startStack, type Stack } from "../support/stack.js";

const I = DEMO.instanceId;
const CHAIN = `query Chain($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id previousContact { id previousContact { id } } initialContact { id } } }`;

/** `text` without terminal colour codes. */
const plain = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, "");

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let emulator: Emulator;
let gateway: Gateway;
let base: string;
const lines: LogLine[] = [];
const operationLines = () => lines.filter((l) => l.msg === "operation");

beforeAll(async () => {
  emulator = await startEmulator({ quota: false });
  ({ gateway, url: base } = await startLoggedGateway(emulator.url, lines));
});
afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});
beforeEach(() => {
  lines.length = 0;
  emulator.resetStats();
});

describe("health", () => {
  it("GET /healthz answers 200 while the process serves HTTP", async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });

  it("GET /readyz answers 200 when Connect (here the emulator) answers, without spending a DescribeContact call", async () => {
    const response = await fetch(`${base}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ready", checks: { configuration: "ok", connect: "ok" } });
    expect(emulator.calls.total).toBe(0);
  });

  it("GET /readyz answers 503 naming the failed check when the upstream cannot be reached", async () => {
    const port = await deadPort();
    const { gateway: unready, url } = await startLoggedGateway(`http://127.0.0.1:${port}`, []);
    try {
      const response = await fetch(`${url}/readyz`);
      expect(response.status).toBe(503);
      const body = (await response.json()) as { status: string; checks: Record<string, string> };
      expect(body.status).toBe("not ready");
      expect(body.checks.configuration).toBe("ok");
      expect(body.checks.connect).toBe(`failed: 127.0.0.1:${port} unreachable (ECONNREFUSED)`);
      // Liveness is unaffected: the process itself is fine.
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      await unready.close();
    }
  });

  it("reports Redis in /readyz without making readiness depend on it (the gateway serves without Redis)", async () => {
    const redisUp = await new Promise<boolean>((resolve) => {
      const socket = connect(6379, "127.0.0.1", () => (socket.destroy(), resolve(true))).once("error", () => resolve(false));
    });
    if (!redisUp) throw new Error("This test needs a real Redis at 127.0.0.1:6379 and none answers (CI's .ci/run starts one).");
    const [up, down] = await Promise.all([
      startStack({ env: { REDIS_URL: "redis://127.0.0.1:6379", REDIS_KEY_PREFIX: `readyz-${process.pid}:` }, sharedEmulator: emulator }),
      startStack({ env: { REDIS_URL: `redis://127.0.0.1:${await deadPort()}` }, sharedEmulator: emulator }),
    ]);
    try {
      const readyz = async (stack: Stack) => {
        const response = await fetch(stack.url.replace(/\/graphql$/, "/readyz"));
        return { status: response.status, body: (await response.json()) as { status: string; info?: Record<string, string> } };
      };
      await expect.poll(async () => (await readyz(up)).body.info?.redis).toBe("ok");
      expect((await readyz(up)).status).toBe(200);
      const unavailable = await readyz(down);
      expect(unavailable.status).toBe(200);
      expect(unavailable.body.info?.redis).toMatch(/^unavailable/);
    } finally {
      await Promise.all([up.close(), down.close()]);
    }
  });

  it("in aws mode, checks the SDK's credentials and the endpoint it would call (AWS_ENDPOINT_URL_CONNECT)", async () => {
    const aws = { CONNECT_MODE: "aws", AUTH_MODE: "none", AWS_REGION: "us-east-1", AWS_ENDPOINT_URL_CONNECT: emulator.url, AWS_EC2_METADATA_DISABLED: "true" };
    const noAwsFiles = mkdtempSync(join(tmpdir(), "no-aws-"));
    const [withCredentials, without] = await Promise.all([
      spawnGateway({ ...aws, AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey }),
      spawnGateway({ ...aws, HOME: noAwsFiles }),
    ]);
    try {
      const ready = await fetch(withCredentials.url.replace(/\/graphql$/, "/readyz"));
      expect(ready.status).toBe(200);
      const unready = await fetch(without.url.replace(/\/graphql$/, "/readyz"));
      expect(unready.status).toBe(503);
      expect(((await unready.json()) as { checks: Record<string, string> }).checks.connect).toMatch(/^failed: no AWS credentials/);
      expect(emulator.calls.total).toBe(0);
    } finally {
      await Promise.all([withCredentials.stop(), without.stop()]);
    }
  });
});

describe("operation log", () => {
  it("writes one JSON line per operation: request id from x-request-id, operation name, duration, upstream calls, outcome", async () => {
    const { status, headers } = await post(`${base}/graphql`, { query: CHAIN, variables: { i: I, c: DEMO.longChainTailId } }, { "x-request-id": "trace-123" });
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
    const { headers } = await post(`${base}/graphql`, { query: `{ contact(instanceId: "${I}", contactId: "${DEMO.fullContactId}") { id } }` });
    const id = headers.get("x-request-id");
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(operationLines()[0]).toMatchObject({ requestId: id, operationName: null, upstreamCalls: 1, outcome: "ok" });
  });

  it("counts each operation's own upstream calls when operations run at the same time", async () => {
    await Promise.all([
      post(`${base}/graphql`, { query: CHAIN, variables: { i: I, c: DEMO.longChainTailId } }, { "x-request-id": "chain" }),
      post(`${base}/graphql`, { query: `query One { contact(instanceId: "${I}", contactId: "${DEMO.fullContactId}") { id } }` }, { "x-request-id": "one" }),
      post(`${base}/graphql`, { query: `query None { __typename }` }, { "x-request-id": "none" }),
    ]);
    const byId = Object.fromEntries(operationLines().map((l) => [l.requestId, l.upstreamCalls]));
    expect(byId).toEqual({ chain: 4, one: 1, none: 0 });
    expect(emulator.calls.byApi.DescribeContact).toBe(5);
  });

  it("counts every request sent to Connect, the SDK's retries included", async () => {
    emulator.failNext(1, 500, "DescribeContact");
    const { body } = await post(`${base}/graphql`, { query: `query Retried { contact(instanceId: "${I}", contactId: "${DEMO.fullContactId}") { id } }` });
    expect(body.data.contact.id).toBe(DEMO.fullContactId);
    expect(emulator.calls.byApi.DescribeContact).toBe(2);
    expect(operationLines()[0]).toMatchObject({ operationName: "Retried", upstreamCalls: 2, outcome: "ok" });
  });

  it("records errors by code, with outcome partial when data came back alongside them", async () => {
    await post(`${base}/graphql`, { query: `query Missing { contact(instanceId: "${I}", contactId: "${DEMO.missingContactId}") { id } }` });
    await post(`${base}/graphql`, { query: `query Invalid { contact { id } }` });
    const [missing, invalid] = operationLines();
    expect(missing).toMatchObject({ operationName: "Missing", outcome: "partial", errorCodes: ["NOT_FOUND"], upstreamCalls: 1 });
    expect(invalid).toMatchObject({ operationName: "Invalid", outcome: "error", errorCodes: ["GRAPHQL_VALIDATION_FAILED"], upstreamCalls: 0 });
  });

  it("never logs the query text, its variables or contact data", async () => {
    const contact = findContact(emulator.dataset, I, DEMO.fullContactId)!;
    const personal = [contact.Name, contact.Description, contact.CustomerEndpoint?.Address, contact.SystemEndpoint?.Address].filter(Boolean) as string[];
    expect(personal.length).toBeGreaterThan(2);
    const { body } = await post(`${base}/graphql`, {
      query: `query Personal($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { name description customerEndpoint { address } systemEndpoint { address } } }`,
      variables: { i: I, c: DEMO.fullContactId, note: "secret-variable-value" },
    });
    expect(body.data.contact.name).toBe(contact.Name); // the response has it; the log must not
    const text = JSON.stringify(lines);
    for (const value of [...personal, "secret-variable-value", "customerEndpoint"]) expect(text).not.toContain(value);
    expect(operationLines()).toHaveLength(1);
  });

  it("is human-readable with LOG_FORMAT=pretty (the default on a terminal)", async () => {
    const child = spawn(fileURLToPath(new URL("../../node_modules/.bin/tsx", import.meta.url)), ["src/main.ts"], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
      env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: "0", HOST: "127.0.0.1", LOG_FORMAT: "pretty" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", () => {
          const match = /connect-graphql listening[\s\S]*?url: "(http:\/\/[^"]+)"/.exec(plain(out));
          if (match) resolve(match[1]!);
        });
        child.once("exit", () => reject(new Error(out)));
      });
      await post(url, { query: `query Pretty { __typename }` }, { "x-request-id": "pretty-1" });
      await expect.poll(() => plain(out)).toMatch(/INFO.*: operation/);
      const lineStart = plain(out).slice(plain(out).search(/INFO.*: operation/));
      expect(lineStart).toMatch(/requestId: "pretty-1"/);
      expect(lineStart).toMatch(/operationName: "Pretty"/);
      expect(out).not.toMatch(/^\{"level"/m);
    } finally {
      child.kill("SIGTERM");
      await new Promise((resolve) => child.once("exit", resolve));
    }
  });
});

describe("configuration", () => {
  it("--help prints every setting with its default", async () => {
    const { code, stdout } = await runGateway(["--help"], {});
    expect(code).toBe(0);
    for (const [name, s] of Object.entries(SETTINGS)) {
      const row = stdout.split("\n").find((l) => l.trimStart().startsWith(`${name} `));
      expect(row, name).toBeDefined();
      if (s.default) expect(row, name).toContain(s.default);
    }
  });

  it("stops start-up on an invalid value with exit code 2 and one line naming the setting", async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: "abc" }, /^connect-graphql: Invalid setting PORT="abc": expected a whole number\./],
      [{ CONNECT_MODE: "aws", AUTH_MODE: "none" }, /^connect-graphql: Missing setting AWS_REGION/],
    ];
    const results = await Promise.all(cases.map(([env]) => runGateway([], { ...env, PORT: env.PORT ?? "0" })));
    results.forEach(({ code, stdout, stderr }, i) => {
      expect(code).toBe(2);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr.trim()).toMatch(cases[i]![1]);
      expect(stdout).not.toContain("listening");
    });
  });
});

describe("graceful shutdown", () => {
  /** The embedded emulator's URL, from the banner the gateway prints after its "listening" line. */
  async function emulatorUrlOf(proc: GatewayProcess): Promise<string> {
    await expect.poll(() => proc.output()).toMatch(/Emulator:\s+http/);
    return /Emulator:\s+(http:\/\/\S+)/.exec(proc.output())![1]!;
  }

  /** 20 contacts, each the tail of a chain at least three deep, so each operation makes three rounds of calls. */
  function chainTails(count: number): Contact[] {
    const dataset = buildDataset();
    const contacts = [...dataset.instances.get(I)!.contacts.values()];
    const depth = (c: Contact | undefined): number => (c?.PreviousContactId ? 1 + depth(findContact(dataset, I, c.PreviousContactId)) : 0);
    return contacts.filter((c) => depth(c) >= 2).slice(0, count);
  }

  it("on SIGTERM under load, refuses new connections, finishes every in-flight operation and exits 0", async () => {
    const tails = chainTails(20);
    expect(tails).toHaveLength(20);
    const proc = await spawnGateway({
      EMULATOR_LATENCY_MS: "300",
      EMULATOR_QUOTA_RPS: "0",
      CACHE_TTL_SECONDS: "0",
      CONNECT_MAX_RPS: "1000",
      CONNECT_BURST: "1000",
    });
    const emulatorUrl = await emulatorUrlOf(proc);
    const inFlight = tails.map((c) => post(proc.url, { query: CHAIN, variables: { i: I, c: c.Id } }));
    // Every operation has reached the emulator (its first call is held there by the latency): all 20 are in flight.
    await expect
      .poll(async () => {
        const stats = (await (await fetch(`${emulatorUrl}/_emulator/stats`)).json()) as { byContact: Record<string, number> };
        return tails.filter((c) => stats.byContact[`${I}/${c.Id}`]).length;
      }, { timeout: 15_000, interval: 50 })
      .toBe(20);

    const exit = proc.stop("SIGTERM");
    await expect.poll(() => proc.output(), { timeout: 5_000, interval: 20 }).toContain("shutting down");
    // No longer accepting: the connection is refused, or answered 503 if it raced the close.
    const late = await fetch(proc.url, { method: "POST" }).then((r) => r.status, () => "refused");
    expect(["refused", 503]).toContain(late);

    const responses = await Promise.all(inFlight);
    for (const [i, { status, body }] of responses.entries()) {
      expect(status).toBe(200);
      expect(body.errors).toBeUndefined();
      expect(body.data.contact.id).toBe(tails[i]!.Id);
      expect(body.data.contact.previousContact.id).toBe(tails[i]!.PreviousContactId);
      expect(body.data.contact.previousContact.previousContact.id).toEqual(expect.any(String));
    }
    expect(await exit).toBe(0);
    expect(proc.output()).toContain('"msg":"stopped"');
  });

  it("exits 1 when in-flight operations outlast SHUTDOWN_GRACE_MS", async () => {
    const proc = await spawnGateway({ EMULATOR_LATENCY_MS: "20000", CONNECT_REQUEST_TIMEOUT_MS: "30000", SHUTDOWN_GRACE_MS: "300", CACHE_TTL_SECONDS: "0" });
    const emulatorUrl = await emulatorUrlOf(proc);
    const stuck = post(proc.url, { query: CHAIN, variables: { i: I, c: DEMO.longChainTailId } }).catch((error: unknown) => error);
    await expect
      .poll(async () => ((await (await fetch(`${emulatorUrl}/_emulator/stats`)).json()) as { total: number }).total, { timeout: 10_000, interval: 50 })
      .toBe(1);
    expect(await proc.stop("SIGINT")).toBe(1);
    expect(proc.output()).toContain("in-flight operations did not finish in time");
    await stuck;
  });
});
