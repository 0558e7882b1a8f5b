import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify from "fastify";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { registerHealthRoutes } from "../../src/http/health.js";
import { EMULATOR_CREDENTIALS, startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import type { Gateway } from "../../src/http/gateway.js";
import { send } from "../support/http.js";
import { startLoggedGateway } from "../support/loggedGateway.js";
import { spawnGateway } from "../support/processes.js";
import { freePort, requireSharedRedis, SHARED_REDIS_URL } from "../support/redisServer.js";
import { startStack, type Stack } from "../support/stack.js";

let emulator: Emulator;
let gateway: Gateway;
let base: string;

beforeAll(async () => {
  emulator = await startEmulator({ quota: false });
  ({ gateway, url: base } = await startLoggedGateway(emulator.url, []));
});
afterAll(async () => {
  await gateway?.close();
  await emulator?.close();
});
beforeEach(() => emulator.resetStats());

describe("liveness (GET /healthz)", () => {
  it("answers 200 while the process serves HTTP", async () => {
    const response = await fetch(`${base}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ok" });
  });
});

describe("readiness (GET /readyz)", () => {
  it("answers 200 when Connect (here the emulator) answers, without spending a DescribeContact call", async () => {
    const response = await fetch(`${base}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "ready", checks: { configuration: "ok", connect: "ok" } });
    expect(emulator.calls.total).toBe(0);
  });

  it("answers 503 naming the failed check when the upstream cannot be reached, while liveness stays 200", async () => {
    const port = await freePort();
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

  it("runs a check once for any number of probes at a time, and a failed one at most once per failedCacheMs", async () => {
    let runs = 0;
    const app = Fastify();
    registerHealthRoutes(app, {
      failedCacheMs: 300,
      checks: {
        connect: async () => {
          runs++;
          await new Promise((resolve) => setTimeout(resolve, 50));
          throw new Error("unreachable");
        },
      },
    });
    const url = await app.listen({ port: 0, host: "127.0.0.1" });
    try {
      const probe = async () => {
        const response = await fetch(`${url}/readyz`);
        return [response.status, ((await response.json()) as { checks: Record<string, string> }).checks.connect];
      };
      const concurrent = await Promise.all(Array.from({ length: 20 }, probe));
      expect(concurrent).toEqual(Array.from({ length: 20 }, () => [503, "failed: unreachable"]));
      expect(runs).toBe(1);
      for (let i = 0; i < 5; i++) expect(await probe()).toEqual([503, "failed: unreachable"]);
      expect(runs).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 350));
      expect(await probe()).toEqual([503, "failed: unreachable"]);
      expect(runs).toBe(2);
    } finally {
      await app.close();
    }
  });

  it("reports Redis without making readiness depend on it (the gateway serves without Redis)", async () => {
    await requireSharedRedis();
    const [up, down] = await Promise.all([
      startStack({ env: { REDIS_URL: SHARED_REDIS_URL, REDIS_KEY_PREFIX: `readyz-${process.pid}:` }, sharedEmulator: emulator }),
      startStack({ env: { REDIS_URL: `redis://127.0.0.1:${await freePort()}` }, sharedEmulator: emulator }),
    ]);
    try {
      const readyz = (stack: Stack) => send<{ status: string; info?: Record<string, string> }>(stack.url.replace(/\/graphql$/, "/readyz"));
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
