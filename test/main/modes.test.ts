import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMULATOR_CREDENTIALS, startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { DEMO } from "../../src/emulator/dataset.js";
import { EMULATOR_SETTINGS } from "../../src/emulator/settings.js";
import { post } from "../support/http.js";
import { runGateway, spawnGateway } from "../support/processes.js";

const CHAIN_QUERY = {
  query: `query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id previousContact { id } } }`,
  variables: { i: DEMO.instanceId, c: DEMO.longChainTailId },
};

describe("CONNECT_MODE=emulator (the default)", () => {
  it("starts the embedded emulator and serves its synthetic data, saying so in a banner", async () => {
    const gateway = await spawnGateway({});
    try {
      const { body } = await post(gateway.url, CHAIN_QUERY);
      expect(body.data.contact.id).toBe(DEMO.longChainTailId);
      expect(body.data.contact.previousContact.id).toEqual(expect.any(String));
      expect(gateway.output()).toContain("SYNTHETIC");
      expect(gateway.output()).toContain(DEMO.instanceId);
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });

  it("serves the demo data in the gateway's own region too, so an AWS_REGION exported for other tools does not hide it", async () => {
    const gateway = await spawnGateway({ AWS_REGION: "eu-west-2" });
    try {
      const { body } = await post(gateway.url, CHAIN_QUERY);
      expect(body.errors).toBeUndefined();
      expect(body.data.contact.id).toBe(DEMO.longChainTailId);
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });
});

describe("the embedded emulator's settings", () => {
  it("are listed by --help after the gateway's, each with its default", async () => {
    const { code, stdout } = await runGateway(["--help"], {});
    expect(code).toBe(0);
    const lines = stdout.split("\n");
    const gatewayRow = lines.findIndex((l) => l.trimStart().startsWith("PORT "));
    for (const [name, s] of Object.entries(EMULATOR_SETTINGS)) {
      const row = lines.findIndex((l) => l.trimStart().startsWith(`${name} `));
      expect(row, name).toBeGreaterThan(gatewayRow);
      if (s.default) expect(lines[row], name).toContain(s.default);
    }
  });

  it("stop start-up on an invalid EMULATOR_* value with exit code 2 and one line naming the setting", async () => {
    const { code, stdout, stderr } = await runGateway([], { PORT: "0", EMULATOR_QUOTA_RPS: "fast" });
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr.trim()).toMatch(/^connect-graphql: Invalid setting EMULATOR_QUOTA_RPS="fast": expected a number\./);
    expect(stdout).not.toContain("listening");
  });
});

describe("CONNECT_MODE=aws", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator();
  });
  afterAll(() => emulator?.close());

  it("uses the SDK's standard configuration: credentials from the environment, AWS_REGION, AWS_ENDPOINT_URL_CONNECT", async () => {
    const gateway = await spawnGateway({
      CONNECT_MODE: "aws",
      AUTH_MODE: "none",
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: EMULATOR_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: EMULATOR_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_CONNECT: emulator.url,
      CACHE_TTL_SECONDS: "0",
    });
    try {
      emulator.resetStats();
      const { body } = await post(gateway.url, CHAIN_QUERY);
      expect(body.errors).toBeUndefined();
      expect(body.data.contact.id).toBe(DEMO.longChainTailId);
      // Signed by the real SDK (the emulator refuses unsigned requests) and sent to the override.
      expect(emulator.calls.byApi.DescribeContact).toBe(2);
      expect(emulator.calls.unauthenticated).toBe(0);
      expect(gateway.output()).not.toContain("SYNTHETIC");
    } finally {
      await gateway.stop();
    }
  });

  it("refuses to start without a JWT key unless AUTH_MODE=none is explicit", async () => {
    const { code, stderr } = await runGateway([], { CONNECT_MODE: "aws", AWS_REGION: "us-east-1" });
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("AUTH_MODE=jwt needs a key");
  });
});
