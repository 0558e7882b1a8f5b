/**
 * `node --expose-gc --import tsx test/upstream/collectedValue.ts`, run by contactCache.test.ts: a
 * contact cache reads a contact (Dates nested as the SDK gives them), the collector is made to drop
 * the object it handed out, and the contact is read again. Only a process started with `--expose-gc` can make the
 * collector run; the spec asserts on the one JSON line this prints.
 */
import type { Contact } from "@aws-sdk/client-connect";
import { isDeepStrictEqual } from "node:util";
import { contactKey, toContactModel, type ContactModel, type ContactRef } from "../../src/domain/contactRef.js";
import { contactFreshness } from "../../src/upstream/contactFreshness.js";
import { TieredCache } from "../../src/upstream/tieredCache.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

const ref: ContactRef = { region: "us-east-1", instanceId: "i-1", contactId: "c-1" };
const seeded: Contact = {
  Id: "c-1",
  Channel: "VOICE",
  InitiationTimestamp: new Date(1_700_000_000_000),
  DisconnectTimestamp: new Date(1_700_000_060_000),
  AgentInfo: { Id: "agent-1", ConnectedToAgentTimestamp: new Date(1_700_000_010_000) },
  QueueInfo: { Id: "queue-1", EnqueueTimestamp: new Date(1_700_000_005_000) },
  Attributes: { language: "fr", "priorité": "haute" },
  Tags: { team: "billing" },
};
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
    timestampsAreIso: again.initiationTimestamp === seeded.InitiationTimestamp?.toISOString() && again.agentInfo?.connectedToAgentTimestamp === seeded.AgentInfo?.ConnectedToAgentTimestamp?.toISOString(),
    sameObjectAfter: (await read()) === again,
    loads,
  }),
);
