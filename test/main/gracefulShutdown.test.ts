import type { Contact } from "@aws-sdk/client-connect";
import { describe, expect, it } from "vitest";
import { DEMO, buildDataset } from "../../src/emulator/dataset.js";
import { chainBack } from "../support/chains.js";
import { post } from "../support/http.js";
import { embeddedEmulatorUrl, emulatorStats, spawnGateway } from "../support/processes.js";

const I = DEMO.instanceId;
const CHAIN = `query Chain($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id previousContact { id previousContact { id } } initialContact { id } } }`;

/** `count` contacts, each the tail of a chain at least three deep, so each operation makes three rounds of calls. */
function chainTails(count: number): Contact[] {
  const dataset = buildDataset();
  const contacts = [...dataset.instances.get(I)!.contacts.values()];
  return contacts.filter((c) => chainBack(dataset, I, c.Id!).length >= 3).slice(0, count);
}

describe("graceful shutdown", () => {
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
    const emulatorUrl = await embeddedEmulatorUrl(proc);
    const inFlight = tails.map((c) => post(proc.url, { query: CHAIN, variables: { i: I, c: c.Id } }));
    // Every operation has reached the emulator (its first call is held there by the latency): all 20 are in flight.
    await expect
      .poll(async () => {
        const stats = await emulatorStats(emulatorUrl);
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

  it("lets an operation longer than the SSE streams' 5 s drain finish within SHUTDOWN_GRACE_MS, and exits 0", async () => {
    const proc = await spawnGateway({ EMULATOR_LATENCY_MS: "6500", CONNECT_REQUEST_TIMEOUT_MS: "30000", CONNECT_MAX_ATTEMPTS: "1", SHUTDOWN_GRACE_MS: "20000", CACHE_TTL_SECONDS: "0" });
    const emulatorUrl = await embeddedEmulatorUrl(proc);
    const slow = post(proc.url, { query: `query($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id } }`, variables: { i: I, c: DEMO.longChainTailId } });
    await expect.poll(async () => (await emulatorStats(emulatorUrl)).total, { timeout: 10_000, interval: 50 }).toBe(1);
    const exit = proc.stop("SIGTERM");
    const { status, body } = await slow;
    expect(status).toBe(200);
    expect(body.data.contact.id).toBe(DEMO.longChainTailId);
    expect(await exit).toBe(0);
  }, 30_000);

  it("exits 1 when in-flight operations outlast SHUTDOWN_GRACE_MS", async () => {
    const proc = await spawnGateway({ EMULATOR_LATENCY_MS: "20000", CONNECT_REQUEST_TIMEOUT_MS: "30000", SHUTDOWN_GRACE_MS: "300", CACHE_TTL_SECONDS: "0" });
    const emulatorUrl = await embeddedEmulatorUrl(proc);
    const stuck = post(proc.url, { query: CHAIN, variables: { i: I, c: DEMO.longChainTailId } }).catch((error: unknown) => error);
    await expect.poll(async () => (await emulatorStats(emulatorUrl)).total, { timeout: 10_000, interval: 50 }).toBe(1);
    expect(await proc.stop("SIGINT")).toBe(1);
    expect(proc.output()).toContain("in-flight operations did not finish in time");
    await stuck;
  });
});
