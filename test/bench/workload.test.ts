import { describe, expect, it } from "vitest";
import { buildDataset, DEMO } from "../../src/emulator/dataset.js";
import { CHAIN_DEPTH, chains, plan } from "../../bench/workload.js";

// `npm run bench` measures cold caches and call counts by giving every figure contacts no other
// figure touched. These specs keep that true as the seeded data set changes.
describe("the benchmark's workload", () => {
  const contacts = buildDataset(DEMO.seed).instances.get(DEMO.instanceId)!.contacts;
  const p = plan();
  const chainOf = new Map(chains().flatMap((chain) => chain.map((id) => [id, chain] as const)));
  const idsOf = (variables: Record<string, unknown>) =>
    Object.entries(variables).flatMap(([name, v]) => (name === "instanceId" ? [] : Array.isArray(v) ? v : [v])) as string[];

  it("names only contacts the emulator serves", () => {
    const named = [...p.workload.flatMap((op) => idsOf(op.variables)), ...p.latencyChains, p.warmContactId, p.singleContactId, ...p.quotaContactIds];
    expect(named.filter((id) => !contacts.has(id))).toEqual([]);
  });

  it("gives each figure chains no other figure reads", () => {
    const phases = [
      p.workload.flatMap((op) => idsOf(op.variables)),
      p.latencyChains,
      [p.warmContactId],
      [p.singleContactId],
      p.quotaContactIds,
    ].map((ids) => new Set(ids.flatMap((id) => chainOf.get(id) ?? [id])));
    for (let a = 0; a < phases.length; a++) {
      for (let b = a + 1; b < phases.length; b++) expect([...phases[a]!].filter((id) => phases[b]!.has(id))).toEqual([]);
    }
  });

  it("walks chains long enough for the latency figure and keeps 100 contacts for the quota figure", () => {
    expect(p.latencyChains.map((tail) => chainOf.get(tail)!.length >= CHAIN_DEPTH)).toEqual([true, true, true, true]);
    expect(new Set(p.quotaContactIds).size).toBe(100);
  });
});
