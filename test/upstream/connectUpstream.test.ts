import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectUpstream } from "../../src/upstream/connectUpstream.js";
import { EMULATOR_CREDENTIALS, startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { DEMO } from "../../src/emulator/dataset.js";

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
});
