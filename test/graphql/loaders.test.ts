import { describe, expect, it } from "vitest";
import { contactKey, toContactModel, type ContactModel, type ContactRef } from "../../src/domain/contactRef.js";
import { createLoaders, type UpstreamRead } from "../../src/graphql/loaders.js";
import { createUpstreamBudget } from "../../src/graphql/upstreamBudget.js";
import type { CachedContact, FetchContact } from "../../src/upstream/fetchContact.js";

const ACCOUNT = "123456789012";
const ref = (contactId: string): ContactRef => ({ region: "us-east-1", instanceId: "i-1", contactId });
const model = (contactId: string): ContactModel =>
  toContactModel({ Id: contactId, Arn: `arn:aws:connect:us-east-1:${ACCOUNT}:instance/i-1/contact/${contactId}`, DisconnectTimestamp: new Date(1_700_000_060_000) }, ref(contactId));
/** `ref(contactId)` as an ARN of `account` names it. */
const named = (contactId: string, account: string): ContactRef => ({ ...ref(contactId), accountId: account });

/** Loaders over a cache holding `cached` and an upstream that records every read and batch. */
function loadersOver(cached: string[], options: { budget?: number; noCache?: boolean } = {}) {
  const held = new Map(cached.map((id) => [contactKey(ref(id)), model(id)]));
  const fetched: string[] = [];
  const batches: number[] = [];
  const announced: string[] = [];
  const fetchContact: FetchContact = async (r) => {
    fetched.push(r.contactId);
    return model(r.contactId);
  };
  const cachedContact: CachedContact = (r, o = {}) => (o.noCache ? undefined : held.get(contactKey(r)));
  const budget = createUpstreamBudget(options.budget ?? 100);
  const loaders = createLoaders(fetchContact, {
    cachedContact,
    fetchOptions: { noCache: options.noCache ?? false },
    onBatch: (size) => batches.push(size),
    beforeRead: (read: UpstreamRead) => {
      announced.push(read.resource);
      budget.charge(read);
    },
  });
  return { loaders, fetched, batches, announced, held };
}

describe("readContact", () => {
  it("returns a contact the cache holds as a value, announced once, with no batch and no read, and loads of it share that object", async () => {
    const { loaders, fetched, batches, announced, held } = loadersOver(["a"]);
    const first = loaders.readContact(ref("a"));
    expect(first).toBe(held.get(contactKey(ref("a"))));
    const again = loaders.readContact(ref("a"));
    expect(again).toBeInstanceOf(Promise);
    expect(await again).toBe(first);
    expect(await loaders.contact.load(ref("a"))).toBe(first);
    expect(announced).toEqual(["Contact a in instance i-1 (us-east-1)"]);
    expect(fetched).toEqual([]);
    expect(batches).toEqual([]);
  });

  it("loads what the cache does not hold, and everything with no-cache, in one batch per tick", async () => {
    const { loaders, fetched, batches } = loadersOver(["a"]);
    const reads = [loaders.readContact(ref("b")), loaders.readContact(ref("c"))];
    expect(reads.every((r) => r instanceof Promise)).toBe(true);
    expect((await Promise.all(reads)).map((c) => c.id)).toEqual(["b", "c"]);
    expect(fetched).toEqual(["b", "c"]);
    expect(batches).toEqual([2]);

    const bypass = loadersOver(["a"], { noCache: true });
    expect(bypass.loaders.readContact(ref("a"))).toBeInstanceOf(Promise);
    await bypass.loaders.readContact(ref("a"));
    expect(bypass.fetched).toEqual(["a"]);
  });

  it("charges a cached contact to the upstream budget like a read, and refuses it past the budget with the same coded error, once", async () => {
    const { loaders, fetched, announced } = loadersOver(["a", "b"], { budget: 1 });
    expect(loaders.readContact(ref("a"))).toMatchObject({ id: "a" });
    const refused = loaders.readContact(ref("b"));
    await expect(refused).rejects.toMatchObject({ extensions: { code: "UPSTREAM_BUDGET_EXCEEDED", limit: "MAX_UPSTREAM_READS" } });
    await expect(loaders.readContact(ref("b"))).rejects.toMatchObject({ extensions: { code: "UPSTREAM_BUDGET_EXCEEDED" } });
    expect(announced).toHaveLength(2);
    expect(fetched).toEqual([]);
  });
});

describe("readContact of a contact named by an ARN (with its account)", () => {
  it("serves a cached contact of the ARN's account as a value, and refuses one of another account with NOT_FOUND, read once", async () => {
    const { loaders, fetched, announced, held } = loadersOver(["a"]);
    const foreign = loaders.readContact(named("a", "999999999999"));
    await expect(foreign).rejects.toMatchObject({ message: "Contact a in instance i-1 (us-east-1) was not found in account 999999999999.", extensions: { code: "NOT_FOUND" } });
    expect(loaders.readContact(named("a", ACCOUNT))).toBeInstanceOf(Promise);
    expect(await loaders.readContact(named("a", ACCOUNT))).toBe(held.get(contactKey(ref("a"))));
    expect(announced).toEqual(["Contact a in instance i-1 (us-east-1)"]);
    expect(fetched).toEqual([]);
  });

  it("loads an uncached contact once for the ARNs of two accounts, answering only its own account's", async () => {
    const { loaders, fetched, batches } = loadersOver([]);
    const [own, foreign] = [loaders.readContact(named("b", ACCOUNT)), loaders.readContact(named("b", "999999999999"))];
    expect(await own).toMatchObject({ id: "b", $ref: ref("b") });
    await expect(foreign).rejects.toMatchObject({ extensions: { code: "NOT_FOUND" } });
    expect(fetched).toEqual(["b"]);
    expect(batches).toEqual([1]);
  });

  it("refuses an ARN of another account with no read, once an answer told the instance's account", async () => {
    const { loaders, fetched, announced } = loadersOver([]);
    await loaders.readContact(ref("c"));
    expect(loaders.accounts.accountOf(ref("c"))).toBe(ACCOUNT);
    await expect(loaders.readContact(named("d", "999999999999"))).rejects.toMatchObject({ extensions: { code: "NOT_FOUND" } });
    expect(fetched).toEqual(["c"]);
    expect(announced).toEqual(["Contact c in instance i-1 (us-east-1)"]);
  });
});
