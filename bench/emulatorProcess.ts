/**
 * The benchmark's emulator process: the seeded data set (the one `DEMO` describes) plus, when
 * asked, a third instance of `BENCH_EXTRA_CONTACTS` synthetic contacts (realistic bodies cloned
 * from the main instance under new ids) so the cache can be filled with 100,000 distinct contacts.
 * Prints one JSON line `{ "url": ... }` once it listens; stops on SIGTERM.
 */
import type { Contact } from "@aws-sdk/client-connect";
import { startEmulator } from "../src/emulator/emulator.js";
import { buildDataset, contactArn, DEMO, type InstanceData } from "../src/emulator/dataset.js";

/** The instance holding the synthetic bulk (absent unless BENCH_EXTRA_CONTACTS > 0). */
export const BULK_INSTANCE_ID = "b3e0c4a1-5d6f-4a7b-8c9d-0e1f2a3b4c5d";

/** The id of the `i`-th synthetic contact (UUID-shaped, deterministic). */
export function bulkContactId(i: number): string {
  return `c0ffee00-0000-4000-8000-${i.toString(16).padStart(12, "0")}`;
}

async function main(): Promise<void> {
  const extra = Number(process.env.BENCH_EXTRA_CONTACTS ?? 0);
  const dataset = buildDataset(DEMO.seed);
  if (extra > 0) dataset.instances.set(BULK_INSTANCE_ID, bulkInstance(dataset.instances.get(DEMO.instanceId)!, extra));
  const emulator = await startEmulator({ dataset, quota: false, latencyMs: 0 });
  console.log(JSON.stringify({ url: emulator.url }));
  process.on("SIGTERM", () => void emulator.close().then(() => process.exit(0)));
}

// Private: standalone contacts (no chain links), each a shallow clone of a real one, so bodies have
// the size and shape of the seeded data set.
function bulkInstance(main: InstanceData, count: number): InstanceData {
  const templates = [...main.contacts.values()];
  const contacts = new Map<string, Contact>();
  for (let i = 0; i < count; i++) {
    const id = bulkContactId(i);
    const { PreviousContactId: _p, InitialContactId: _i, RelatedContactId: _r, ...body } = templates[i % templates.length]!;
    contacts.set(id, { ...body, Id: id, Arn: contactArn(BULK_INSTANCE_ID, id) });
  }
  return {
    instanceId: BULK_INSTANCE_ID,
    instanceArn: `arn:aws:connect:${DEMO.region}:${DEMO.accountId}:instance/${BULK_INSTANCE_ID}`,
    contacts,
    queues: new Map(),
    users: new Map(),
    attributes: new Map(),
    references: new Map(),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
