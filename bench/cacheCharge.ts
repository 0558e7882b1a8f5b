/**
 * `node --expose-gc --import tsx bench/cacheCharge.ts [entries]`: what the contact cache charges an
 * entry (`TieredCache.usage().bytes`, what `CACHE_MAX_MB` bounds) beside what the entry costs this
 * process, measured between full collections (V8's heap in use plus ArrayBuffer memory), per entry.
 * Two shapes: the emulator's seeded contacts, and the same with 20 attributes named per contact
 * (names V8 cannot share between entries). Prints one JSON line; `bench/run.ts` runs it for figure
 * 5b, which the charge meets when it is at least what was measured and less than twice that.
 */
import type { Contact } from "@aws-sdk/client-connect";
import { contactKey, toContactModel, type ContactModel, type ContactRef } from "../src/domain/contactRef.js";
import { buildDataset, DEMO } from "../src/emulator/dataset.js";
import { contactFreshness } from "../src/upstream/contactFreshness.js";
import { TieredCache } from "../src/upstream/tieredCache.js";

export interface ChargeMeasurement {
  shape: string;
  entries: number;
  /** Heap in use plus ArrayBuffer memory the filled cache keeps alive, bytes per entry. */
  measuredBytesPerEntry: number;
  /** What the cache charges, bytes per entry. */
  chargedBytesPerEntry: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

async function main(): Promise<void> {
  if (!gc) throw new Error("run with node --expose-gc");
  const entries = Number(process.argv[2] ?? 3000);
  const seeded = [...buildDataset(DEMO.seed).instances.get(DEMO.instanceId)!.contacts.values()];
  const ownNames = seeded.map((contact, i) => ({
    ...contact,
    Attributes: Object.fromEntries(Array.from({ length: 20 }, (_, k) => [`attribute-${k}-of-${i}`, `valeur ${k} du contact n° ${i}`])),
  }));
  const results: ChargeMeasurement[] = [];
  for (const [shape, contacts] of [
    ["seeded contacts", seeded],
    ["20 attributes named per contact", ownNames],
  ] as const) {
    results.push({ shape, entries, ...(await measure(entries, (i) => structuredClone(contacts[i % contacts.length]!))) });
  }
  console.log(JSON.stringify(results));
}

// Private: fills a contact cache with `n` contacts through its public surface, between two full
// collections, and divides both what it keeps alive and what it charges by `n`.
async function measure(n: number, make: (i: number) => Contact): Promise<Omit<ChargeMeasurement, "shape" | "entries">> {
  const holder: { cache?: TieredCache<ContactModel> } = {};
  // Filled inside a function of its own, so no stack slot of this one keeps a handed-out object alive.
  const fill = async () => {
    const cache = new TieredCache<ContactModel>({
      name: "contact",
      freshness: contactFreshness({ ttlSeconds: 300, activeTtlSeconds: 300, negativeTtlSeconds: 10 }),
      maxEntries: n,
      maxBytes: 2 ** 40,
    });
    for (let i = 0; i < n; i++) {
      const ref: ContactRef = { region: DEMO.region, instanceId: DEMO.instanceId, contactId: `bench-${i}` };
      await cache.read(contactKey(ref), async () => toContactModel(make(i), ref));
    }
    holder.cache = cache;
  };
  const before = await collectGarbage();
  await fill();
  const after = await collectGarbage();
  const charged = holder.cache!.usage().bytes / n;
  const measured = (after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers) / n;
  return { measuredBytesPerEntry: Math.round(measured), chargedBytesPerEntry: Math.round(charged) };
}

// Private: full collections once the current job is over (WeakRefs are cleared only then).
async function collectGarbage(): Promise<NodeJS.MemoryUsage> {
  await new Promise((resolve) => setImmediate(resolve));
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(1);
});
