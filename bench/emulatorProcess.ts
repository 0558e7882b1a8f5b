/**
 * The benchmark's emulator process: the seeded data set (the one `DEMO` describes) plus, when
 * asked, a third instance of `BENCH_EXTRA_CONTACTS` synthetic contacts (realistic bodies cloned
 * from the main instance under new ids) so the cache can be filled with 100,000 distinct contacts.
 * Prints one JSON line `{ "url": ... }` once it listens; stops on SIGTERM.
 *
 * Rich contacts (unless `BENCH_RICH_CONTACTS=0`): the seeded contacts carry about a quarter of
 * the member paths the SDK's `Contact` shape knows (median 27%), where Connect's real contacts
 * carry most of them. Every finished contact of the main instance is served with the members of
 * `DEMO.fullContactId` (on which every member path is populated), its nested times shifted to the
 * contact's own start, keeping its own identity, chain links, channel, initiation method and
 * top-level times (`richContact`). Contacts still in progress keep their seeded body. The bulk
 * instance (figure 5's 100,000 contacts) is cloned from the seeded bodies, before enrichment, so
 * figure 5 keeps measuring the data set it was calibrated on.
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
  const main = dataset.instances.get(DEMO.instanceId)!;
  if (extra > 0) dataset.instances.set(BULK_INSTANCE_ID, bulkInstance(main, extra));
  if (process.env.BENCH_RICH_CONTACTS !== "0") enrichInstance(main);
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

/**
 * Serves every finished contact of `instance` (but `DEMO.fullContactId` itself) as `richContact`
 * makes it. Next contacts are linked within each chain.
 */
export function enrichInstance(instance: InstanceData): void {
  const full = instance.contacts.get(DEMO.fullContactId)!;
  const next = new Map<string, Contact>();
  for (const c of instance.contacts.values()) if (c.PreviousContactId) next.set(c.PreviousContactId, c);
  for (const [id, c] of instance.contacts) {
    if (id === DEMO.fullContactId || !c.DisconnectTimestamp) continue;
    instance.contacts.set(id, richContact(c, full, next.get(id)));
  }
}

/**
 * `seeded` with every member of `full`: `full`'s members deep-copied with their times shifted by
 * the difference of the two contacts' starts, then `seeded`'s identity (id, ARN), chain links
 * (previous, initial, related, association), channel, initiation method and top-level times. The
 * next-contact entry names the contact's real successor in its chain; a chain's last contact has
 * none, as in Connect.
 */
export function richContact(seeded: Contact, full: Contact, successor: Contact | undefined): Contact {
  const shiftMs = seeded.InitiationTimestamp!.getTime() - full.InitiationTimestamp!.getTime();
  const rich = shifted(full, shiftMs) as Contact;
  Object.assign(rich, {
    Id: seeded.Id,
    Arn: seeded.Arn,
    Channel: seeded.Channel,
    InitiationMethod: seeded.InitiationMethod,
    InitiationTimestamp: seeded.InitiationTimestamp,
    DisconnectTimestamp: seeded.DisconnectTimestamp,
    LastUpdateTimestamp: seeded.LastUpdateTimestamp ?? rich.LastUpdateTimestamp,
    PreviousContactId: seeded.PreviousContactId,
    InitialContactId: seeded.InitialContactId,
    ContactAssociationId: seeded.InitialContactId ?? seeded.Id,
    // Connect names a related contact on some contacts; the full contact's exists in this instance.
    RelatedContactId: seeded.RelatedContactId ?? full.RelatedContactId,
    Attributes: seeded.Attributes ?? rich.Attributes,
  } satisfies Contact);
  for (const key of ["PreviousContactId", "InitialContactId"] as const) if (rich[key] === undefined) delete rich[key];
  if (successor) {
    const entry = rich.NextContacts![0]!;
    const data = entry.NextContactMetadata!.QuickConnectContactData!;
    data.ContactId = successor.Id;
    data.InitiationTimestamp = successor.InitiationTimestamp;
    rich.NextContacts = [entry];
  } else delete rich.NextContacts;
  return rich;
}

// Private: a deep copy of `value` with every Date moved by `shiftMs`.
function shifted(value: unknown, shiftMs: number): unknown {
  if (value instanceof Date) return new Date(value.getTime() + shiftMs);
  if (Array.isArray(value)) return value.map((v) => shifted(v, shiftMs));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shifted(v, shiftMs)]));
  return value;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
