import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { DEMO } from "../../src/emulator/dataset.js";
import { post } from "../support/http.js";
import { runGateway, spawnGateway } from "../support/processes.js";

// EMULATOR_URL lets the gateway use an emulator running in another process (`npm run emulator`, the
// benchmark's), so several gateways can share one emulator and its call accounting.
describe("EMULATOR_URL", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ quota: false });
  });
  afterAll(() => emulator?.close());

  it("sends every upstream call to the emulator at that URL instead of an embedded one", async () => {
    const gateway = await spawnGateway({ EMULATOR_URL: emulator.url, CACHE_TTL_SECONDS: "0" });
    try {
      emulator.resetStats();
      const { body } = await post(gateway.url, {
        query: `query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id previousContact { id } } }`,
        variables: { i: DEMO.instanceId, c: DEMO.longChainTailId },
      });
      expect(body.errors).toBeUndefined();
      expect(body.data.contact.id).toBe(DEMO.longChainTailId);
      // Both contacts were read from this emulator, signed with the emulator's credentials.
      expect(emulator.calls.byApi.DescribeContact).toBe(2);
      expect(emulator.calls.unauthenticated).toBe(0);
      expect(gateway.output()).toContain("an external Amazon Connect emulator");
      expect(gateway.output()).toContain(`Emulator:     ${emulator.url}`);
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });

  it("refuses a value that is not a URL, in one line, before starting anything", async () => {
    const { code, stderr } = await runGateway([], { EMULATOR_URL: "localhost:4010" });
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain("EMULATOR_URL");
  });
});
