import { describe, expect, it } from "vitest";
import { buildDataset, DEMO } from "../../src/emulator/dataset.js";
import { toWireJson } from "../../src/emulator/wireInstance.js";
import { contactMemberPaths, coverage } from "../../bench/contactCoverage.js";
import { enrichInstance } from "../../bench/emulatorProcess.js";

// `npm run bench` serves contacts as rich as Connect's (most of the SDK's member paths populated),
// not the seeded data set's light ones. These specs keep that true, and keep the chains the
// workload walks.
describe("the benchmark's rich contacts", () => {
  const seeded = buildDataset(DEMO.seed).instances.get(DEMO.instanceId)!;
  const rich = buildDataset(DEMO.seed).instances.get(DEMO.instanceId)!;
  enrichInstance(rich);
  const share = (c: unknown) => {
    const { populated, paths } = coverage(JSON.parse(toWireJson({ Contact: c })).Contact);
    return populated / paths;
  };

  it("walks the whole SDK shape, and the full contact populates all of it", () => {
    expect(contactMemberPaths().length).toBeGreaterThan(200);
    expect(share(seeded.contacts.get(DEMO.fullContactId))).toBe(1);
  });

  it("populates at least 95% of the member paths on nearly every contact (the seeded ones: about a quarter)", () => {
    const shares = [...rich.contacts.values()].map(share);
    expect(shares.filter((s) => s >= 0.95).length / shares.length).toBeGreaterThan(0.95);
    const light = [...seeded.contacts.values()].map(share).sort((a, b) => a - b);
    expect(light[Math.floor(light.length / 2)]).toBeLessThan(0.5);
  });

  it("keeps every contact's id, chain links, channel and times", () => {
    for (const [id, c] of seeded.contacts) {
      const r = rich.contacts.get(id)!;
      expect([r.Id, r.PreviousContactId, r.InitialContactId, r.Channel, r.InitiationMethod, r.InitiationTimestamp, r.DisconnectTimestamp]).toEqual([
        c.Id,
        c.PreviousContactId,
        c.InitialContactId,
        c.Channel,
        c.InitiationMethod,
        c.InitiationTimestamp,
        c.DisconnectTimestamp,
      ]);
      const next = r.NextContacts?.[0]?.NextContactMetadata?.QuickConnectContactData?.ContactId;
      if (next !== undefined) expect(rich.contacts.get(next)!.PreviousContactId).toBe(id);
    }
  });
});
