import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { startStack, type GraphQLResponse, type Stack } from "../support/stack.js";
import { defaultReferenceCalls } from "../support/references.js";

/**
 * MAX_UPSTREAM_READS bounds every upstream read one operation may cause, whatever the Connect API:
 * each DescribeContact, DescribeQueue, DescribeUser and GetContactAttributes, each page of
 * ListContactReferences and of SearchContacts. Each distinct read is charged once, cache hits
 * included; a read past the budget fails with UPSTREAM_BUDGET_EXCEEDED before anything goes out.
 * (Budgets of contacts alone, relation chains and HTTP batches: hostileInput.test.ts.)
 */

const I = DEMO.instanceId;
const START = "2026-10-10T00:00:00.000Z";
const END = "2026-10-17T00:00:00.000Z";

/** Every limiter at a rate no test reaches: these specs count reads, they do not wait for quota. */
const FAST = {
  CONNECT_MAX_RPS: "1000",
  CONNECT_BURST: "1000",
  CONNECT_API_QUOTAS: "DescribeQueue=1000/1000,DescribeUser=1000/1000,GetContactAttributes=1000/1000,ListContactReferences=1000/1000,SearchContacts=1000/1000",
};

const VOICE_SEARCH = (selection: string) => `
  query ($i: ID!, $start: DateTime!, $end: DateTime!, $first: Int) {
    searchContacts(instanceId: $i, timeRange: { startTime: $start, endTime: $end }, criteria: { channels: ["VOICE"] }, first: $first) { ${selection} }
  }`;

/** What a read refused by a budget of `max` carries. */
const refused = (api: string, max: number) => ({ code: "UPSTREAM_BUDGET_EXCEEDED", limit: "MAX_UPSTREAM_READS", max, api });

/** Error paths in document order (the order errors are listed in is not part of the contract). */
const pathsOf = (body: GraphQLResponse["body"]) =>
  (body.errors ?? []).map((e) => e.path!).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b), "en", { numeric: true }));

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ quota: false });
});
afterAll(() => emulator?.close());
beforeEach(() => emulator.resetStats());

/** A gateway on the shared emulator with `env` over FAST, closed after `use`. */
async function withGateway(env: Record<string, string>, use: (stack: Stack) => Promise<void>): Promise<void> {
  const stack = await startStack({ sharedEmulator: emulator, env: { ...FAST, ...env } });
  try {
    await use(stack);
  } finally {
    await stack.close();
  }
}

describe("the upstream budget (MAX_UPSTREAM_READS)", () => {
  it("refuses the DescribeUser reads of a search's agents past the budget, with no call for them", async () => {
    await withGateway({ CACHE_TTL_SECONDS: "0", MAX_UPSTREAM_READS: "11" }, async (stack) => {
      const { body } = await stack.query(VOICE_SEARCH(`nodes { id agentInfo { id agent { username } } }`), { i: I, start: START, end: END, first: 25 });
      const nodes: Array<{ id: string; agentInfo: { id: string; agent: { username: string } | null } | null }> = body.data.searchContacts.nodes;
      expect(nodes).toHaveLength(25);
      // Users in the order the nodes name them: the search and the first ten fit in 11 reads.
      const agentIds = [...new Set(nodes.flatMap((n) => (n.agentInfo ? [n.agentInfo.id] : [])))];
      expect(agentIds.length).toBeGreaterThan(10);
      const read = new Set(agentIds.slice(0, 10));

      const calls = emulator.calls;
      expect(calls.byApi.SearchContacts).toBe(1);
      expect(calls.byApi.DescribeUser).toBe(10);
      expect(calls.total).toBe(11);
      expect(Object.keys(calls.byKey.DescribeUser).sort()).toEqual([...read].map((id) => `${I}/${id}`).sort());

      const users = emulator.dataset.instances.get(I)!.users;
      const refusedPaths: Array<Array<string | number>> = [];
      nodes.forEach((node, i) => {
        if (!node.agentInfo) return;
        if (read.has(node.agentInfo.id)) {
          expect(node.agentInfo.agent).toEqual({ username: users.get(node.agentInfo.id)!.Username });
        } else {
          expect(node.agentInfo.agent).toBeNull();
          refusedPaths.push(["searchContacts", "nodes", i, "agentInfo", "agent"]);
        }
      });
      expect(refusedPaths.length).toBeGreaterThan(0);
      expect(pathsOf(body)).toEqual(refusedPaths);
      for (const error of body.errors!) expect(error.extensions).toEqual(refused("DescribeUser", 11));
    });
  });

  it("counts queue joins, and charges queues served from the cache: a repeat is refused the same reads", async () => {
    await withGateway({ CACHE_TTL_SECONDS: "0", MAX_UPSTREAM_READS: "4" }, async (stack) => {
      const query = VOICE_SEARCH(`nodes { id queueInfo { id queue { name } } }`);
      const first = await stack.query(query, { i: I, start: START, end: END, first: 25 });
      const nodes: Array<{ queueInfo: { id: string; queue: { name: string } | null } | null }> = first.body.data.searchContacts.nodes;
      const queueIds = [...new Set(nodes.flatMap((n) => (n.queueInfo ? [n.queueInfo.id] : [])))];
      expect(queueIds.length).toBeGreaterThan(3);
      const read = new Set(queueIds.slice(0, 3));
      expect(emulator.calls.byApi.SearchContacts).toBe(1);
      expect(emulator.calls.byApi.DescribeQueue).toBe(3);
      expect(emulator.calls.total).toBe(4);
      const queues = emulator.dataset.instances.get(I)!.queues;
      nodes.forEach((node) => {
        if (node.queueInfo) expect(node.queueInfo.queue).toEqual(read.has(node.queueInfo.id) ? { name: queues.get(node.queueInfo.id)!.Name } : null);
      });
      expect(first.body.errors!.length).toBe(nodes.filter((n) => n.queueInfo && !read.has(n.queueInfo.id)).length);
      for (const error of first.body.errors!) expect(error.extensions).toEqual(refused("DescribeQueue", 4));

      // The three queues now come from the resource cache, and still count.
      emulator.resetStats();
      const again = await stack.query(query, { i: I, start: START, end: END, first: 25 });
      expect(emulator.calls.byApi.DescribeQueue).toBe(0);
      expect(emulator.calls.total).toBe(1);
      expect(again.body.data).toEqual(first.body.data);
      expect(pathsOf(again.body)).toEqual(pathsOf(first.body));
      for (const error of again.body.errors!) expect(error.extensions).toEqual(refused("DescribeQueue", 4));
    });
  });

  it("charges a contact served from the cache, so whether an operation fits does not depend on the cache", async () => {
    const finished = [...emulator.dataset.instances.get(I)!.contacts.values()]
      .filter((c) => c.DisconnectTimestamp && !Object.values(DEMO).includes(c.Id! as never))
      .slice(0, 3)
      .map((c) => c.Id!);
    const [a, b, c] = finished;
    const query = `query ($i: ID!, $ids: [ID!]!) { contacts(instanceId: $i, contactIds: $ids) { id } }`;
    await withGateway({ MAX_UPSTREAM_READS: "2" }, async (stack) => {
      const warm = await stack.query(query, { i: I, ids: [a, b] });
      expect(warm.body.errors).toBeUndefined();
      expect(emulator.calls.byApi.DescribeContact).toBe(2);

      // a and b are cached: no call for them, yet they fill the budget, and c is refused.
      emulator.resetStats();
      const cached = await stack.query(query, { i: I, ids: [a, b, c] });
      expect(emulator.calls.total).toBe(0);
      expect(cached.body.data.contacts).toEqual([{ id: a }, { id: b }, null]);
      expect(cached.body.errors).toHaveLength(1);
      expect(cached.body.errors![0]!.path).toEqual(["contacts", 2]);
      expect(cached.body.errors![0]!.extensions).toEqual(refused("DescribeContact", 2));

      // The same operation skipping the cache reads a and b again and gets the same answer.
      emulator.resetStats();
      const uncached = await stack.query(query, { i: I, ids: [a, b, c] }, { "cache-control": "no-cache" });
      expect(emulator.calls.byApi.DescribeContact).toBe(2);
      expect(emulator.calls.byKey.DescribeContact).toEqual({ [`${I}/${a}`]: 1, [`${I}/${b}`]: 1 });
      expect(uncached.body).toEqual(cached.body);
    });
  });

  it("refuses the same fields whether the contacts read are cached or not: cached and read ones are charged in the order they are asked for", async () => {
    const candidates = [...emulator.dataset.instances.get(I)!.contacts.values()].filter(
      (c) => c.DisconnectTimestamp && c.PreviousContactId && !Object.values(DEMO).includes(c.Id! as never),
    );
    // Two contacts of different chains: neither is the other's previous, nor do they share one.
    const first = candidates[0]!;
    const second = candidates.find((c) => c.InitialContactId !== first.InitialContactId)!;
    const [tail, other] = [first.Id!, second.Id!];
    const query = `query ($i: ID!, $ids: [ID!]!) { contacts(instanceId: $i, contactIds: $ids) { id previousContact { id } } }`;
    const variables = { i: I, ids: [tail, other] };
    let cold: GraphQLResponse["body"] | undefined;
    await withGateway({ MAX_UPSTREAM_READS: "2" }, async (stack) => {
      cold = (await stack.query(query, variables)).body;
    });
    // Both contacts of the list fit; both previous contacts are refused.
    expect(cold!.data.contacts.map((c: { id: string } | null) => c?.id)).toEqual([tail, other]);
    expect(cold!.data.contacts.map((c: { previousContact: unknown }) => c.previousContact)).toEqual([null, null]);
    expect(pathsOf(cold!)).toEqual([
      ["contacts", 0, "previousContact"],
      ["contacts", 1, "previousContact"],
    ]);

    await withGateway({ MAX_UPSTREAM_READS: "2" }, async (stack) => {
      // The first contact and its previous one are cached; the second contact is not.
      const warm = await stack.query(`query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id previousContact { id } } }`, { i: I, c: tail });
      expect(warm.body.errors).toBeUndefined();
      emulator.resetStats();
      const { body } = await stack.query(query, variables);
      expect(body).toEqual(cold);
      expect(emulator.calls.byKey.DescribeContact).toEqual({ [`${I}/${other}`]: 1 });
    });
  });

  it("counts each ListContactReferences page: references that need one page more than the budget has fail with no call for it", async () => {
    const references = emulator.dataset.instances.get(I)!.references.get(DEMO.fullContactId)!;
    const pages = defaultReferenceCalls(references); // two groups of types, pages of 3
    expect(pages).toBeGreaterThan(1);
    const query = `query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id references { type } } }`;

    await withGateway({ CACHE_TTL_SECONDS: "0", MAX_UPSTREAM_READS: String(1 + pages) }, async (stack) => {
      const { body } = await stack.query(query, { i: I, c: DEMO.fullContactId });
      expect(body.errors).toBeUndefined();
      expect(body.data.contact.references).toHaveLength(references.length);
      expect(emulator.calls.byApi.ListContactReferences).toBe(pages);
      expect(emulator.calls.total).toBe(1 + pages);
    });

    emulator.resetStats();
    await withGateway({ CACHE_TTL_SECONDS: "0", MAX_UPSTREAM_READS: String(pages) }, async (stack) => {
      const { body } = await stack.query(query, { i: I, c: DEMO.fullContactId });
      expect(body.data.contact).toEqual({ id: DEMO.fullContactId, references: null });
      expect(body.errors).toHaveLength(1);
      expect(body.errors![0]!.path).toEqual(["contact", "references"]);
      expect(body.errors![0]!.extensions).toEqual(refused("ListContactReferences", pages));
      expect(emulator.calls.byApi.ListContactReferences).toBe(pages - 1);
      expect(emulator.calls.total).toBe(pages);
    });
  });

  it("counts each SearchContacts page: a field that needs a second page past the budget fails with no call for it", async () => {
    // A cursor in the middle of a full page: resuming from it with first 100 reads the rest of that
    // page, then the next one.
    const search = `query ($i: ID!, $first: Int, $after: String) {
      searchContacts(instanceId: $i, timeRange: { startTime: "${START}", endTime: "${END}" }, first: $first, after: $after) { edges { cursor node { id } } }
    }`;
    let cursor = "";
    await withGateway({ CACHE_TTL_SECONDS: "0", MAX_UPSTREAM_READS: "2" }, async (stack) => {
      const page = await stack.query(search, { i: I, first: 100 });
      expect(page.body.errors).toBeUndefined();
      expect(page.body.data.searchContacts.edges).toHaveLength(100);
      cursor = page.body.data.searchContacts.edges[49].cursor;
      emulator.resetStats();
      const resumed = await stack.query(search, { i: I, first: 100, after: cursor });
      expect(resumed.body.errors).toBeUndefined();
      expect(resumed.body.data.searchContacts.edges).toHaveLength(100);
      expect(emulator.calls.byApi.SearchContacts).toBe(2);
    });

    emulator.resetStats();
    await withGateway({ CACHE_TTL_SECONDS: "0", MAX_UPSTREAM_READS: "1" }, async (stack) => {
      const { body } = await stack.query(search, { i: I, first: 100, after: cursor });
      expect(body.data.searchContacts).toBeNull();
      expect(body.errors).toHaveLength(1);
      expect(body.errors![0]!.path).toEqual(["searchContacts"]);
      expect(body.errors![0]!.extensions).toEqual(refused("SearchContacts", 1));
      expect(emulator.calls.byApi.SearchContacts).toBe(1);
      expect(emulator.calls.total).toBe(1);
    });
  });

  it("counts GetContactAttributes when DescribeContact leaves the attributes out", async () => {
    const stack = await startStack({ env: { ...FAST, CACHE_TTL_SECONDS: "0", MAX_UPSTREAM_READS: "1" }, emulator: { quota: false, describeContactAttributes: false } });
    try {
      const { body } = await stack.query(`query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id attributes { key } } }`, { i: I, c: DEMO.fullContactId });
      expect(body.data.contact).toEqual({ id: DEMO.fullContactId, attributes: null });
      expect(body.errors).toHaveLength(1);
      expect(body.errors![0]!.path).toEqual(["contact", "attributes"]);
      expect(body.errors![0]!.extensions).toEqual(refused("GetContactAttributes", 1));
      expect(stack.emulator.calls.byApi.DescribeContact).toBe(1);
      expect(stack.emulator.calls.byApi.GetContactAttributes).toBe(0);
    } finally {
      await stack.close();
    }
  });
});
