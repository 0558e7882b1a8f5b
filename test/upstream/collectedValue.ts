/**
 * `node --expose-gc --import tsx test/upstream/collectedValue.ts`, run by contactCache.test.ts: a
 * contact cache reads one of the emulator's contacts, the collector is made to drop the object it
 * handed out, and the contact is read again. Only a process started with `--expose-gc` can make the
 * collector run; the spec asserts on the one JSON line this prints.
 */
import { isDeepStrictEqual } from "node:util";
import { contactKey, toContactModel, type ContactModel, type ContactRef } from "../../src/domain/contactRef.js";
import { buildDataset, DEMO } from "../../src/emulator/dataset.js";
import { contactFreshness } from "../../src/upstream/contactFreshness.js";
import { TieredCache } from "../../src/upstream/tieredCache.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

const ref: ContactRef = { region: DEMO.region, instanceId: DEMO.instanceId, contactId: DEMO.fullContactId };
const seeded = buildDataset(DEMO.seed).instances.get(DEMO.instanceId)!.contacts.get(DEMO.fullContactId)!;
const cache = new TieredCache<ContactModel>({
  name: "contact",
  freshness: contactFreshness({ ttlSeconds: 300, activeTtlSeconds: 300, negativeTtlSeconds: 10 }),
  maxEntries: 10,
  maxBytes: 1 << 20,
});
let loads = 0;
const read = () =>
  cache.read(contactKey(ref), async () => {
    loads++;
    return toContactModel(structuredClone(seeded), ref);
  });

// Read inside a function of its own, so no stack slot of this one keeps the handed-out object alive.
const dropped = await (async () => new WeakRef(await read()))();
await new Promise((resolve) => setImmediate(resolve)); // WeakRefs are cleared only after the current job
for (let i = 0; i < 4; i++) gc();
const again = await read();
console.log(
  JSON.stringify({
    collected: dropped.deref() === undefined,
    sameData: isDeepStrictEqual(again, toContactModel(structuredClone(seeded), ref)),
    datesAreDates: again.InitiationTimestamp instanceof Date,
    sameObjectAfter: (await read()) === again,
    loads,
  }),
);
