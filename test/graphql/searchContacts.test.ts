import type { Contact } from "@aws-sdk/client-connect";
import { SignJWT } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { startStack, type Stack } from "../support/stack.js";

const I = DEMO.instanceId;
const START = "2026-10-10T00:00:00.000Z";
const END = "2026-10-17T00:00:00.000Z";

/** The gateway's limiters at rates no test reaches, except where a test is about the quota. */
const FAST = { CONNECT_MAX_RPS: "1000", CONNECT_BURST: "1000", CONNECT_API_QUOTAS: "SearchContacts=1000/1000,DescribeQueue=1000/1000" };

const SEARCH = (selection: string) => `
  query ($i: ID!, $start: DateTime!, $end: DateTime!, $channels: [String!], $first: Int, $after: String) {
    searchContacts(instanceId: $i, timeRange: { startTime: $start, endTime: $end }, criteria: { channels: $channels }, first: $first, after: $after) {
      ${selection}
    }
  }`;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { ...FAST, CACHE_TTL_SECONDS: "0" } });
});
afterAll(() => stack?.close());
beforeEach(() => stack.resetCalls());

/** What Connect's search should find: VOICE contacts initiated in the range, newest first (ties by id). */
function expectedVoice(): Contact[] {
  const from = Date.parse(START);
  const to = Date.parse(END);
  return [...stack.emulator.dataset.instances.get(I)!.contacts.values()]
    .filter((c) => c.Channel === "VOICE" && c.InitiationTimestamp!.getTime() >= from && c.InitiationTimestamp!.getTime() <= to)
    .sort((a, b) => b.InitiationTimestamp!.getTime() - a.InitiationTimestamp!.getTime() || (a.Id! < b.Id! ? -1 : 1));
}

describe("searchContacts", () => {
  it("pages through the contacts of a time range and channel, one SearchContacts call per page and no DescribeContact", async () => {
    const expected = expectedVoice();
    expect(expected.length).toBeGreaterThan(50);
    const seen: Array<{ id: string; channel: string; initiationTimestamp: string; queueInfo: { id: string } | null; agentInfo: { id: string } | null }> = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const { body }: { body: { data?: any; errors?: unknown } } = await stack.query(
        SEARCH(`totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id channel initiationTimestamp queueInfo { id } agentInfo { id } } }`),
        { i: I, start: START, end: END, channels: ["VOICE"], first: 25, after },
      );
      expect(body.errors).toBeUndefined();
      const page: any = body.data.searchContacts;
      pages++;
      expect(page.totalCount).toBe(expected.length);
      expect(page.pageInfo.hasPreviousPage).toBe(false);
      seen.push(...page.edges.map((e: { node: (typeof seen)[number] }) => e.node));
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1).cursor);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(pages).toBe(Math.ceil(expected.length / 25));
    expect(seen.map((c) => c.id)).toEqual(expected.map((c) => c.Id));
    seen.forEach((c, i) => {
      const sdk = expected[i]!;
      expect(c.channel).toBe("VOICE");
      expect(c.initiationTimestamp).toBe(sdk.InitiationTimestamp!.toISOString());
      expect(c.queueInfo?.id ?? null).toBe(sdk.QueueInfo?.Id ?? null);
      expect(c.agentInfo?.id ?? null).toBe(sdk.AgentInfo?.Id ?? null);
    });
    const calls = stack.emulator.calls;
    expect(calls.byApi.SearchContacts).toBe(pages);
    expect(calls.byApi.DescribeContact).toBe(0);
  });

  it("reads DescribeContact for each node once a field outside the summary is selected", async () => {
    const expected = expectedVoice().slice(0, 10);
    const { body } = await stack.query(SEARCH(`nodes { id disconnectReason agentInfo { id afterContactWorkDuration } }`), { i: I, start: START, end: END, channels: ["VOICE"], first: 10 });
    expect(body.errors).toBeUndefined();
    expect(body.data.searchContacts.nodes).toEqual(
      expected.map((c) => ({ id: c.Id, disconnectReason: c.DisconnectReason ?? null, agentInfo: c.AgentInfo ? { id: c.AgentInfo.Id, afterContactWorkDuration: c.AgentInfo.AfterContactWorkDuration ?? null } : null })),
    );
    expect(stack.emulator.calls.byApi.SearchContacts).toBe(1);
    // Each contact once, though two of its fields (disconnectReason, agentInfo's) need it.
    expect(stack.emulator.calls.byContact).toEqual(Object.fromEntries(expected.map((c) => [`${I}/${c.Id}`, 1])));
  });

  it("reads the full contact only for nodes that have the partly summarized object", async () => {
    const expected = expectedVoice().slice(0, 20);
    const { body } = await stack.query(SEARCH(`nodes { agentInfo { hierarchyGroups { level1 { arn } } } }`), { i: I, start: START, end: END, channels: ["VOICE"], first: 20 });
    expect(body.errors).toBeUndefined();
    const withAgent = expected.filter((c) => c.AgentInfo);
    expect(withAgent.length).toBeLessThan(expected.length);
    expect(stack.emulator.calls.byApi.DescribeContact).toBe(withAgent.length);
  });

  it("joins queues into search results with one DescribeQueue per distinct queue and no DescribeContact", async () => {
    const expected = expectedVoice().slice(0, 25);
    const queues = stack.emulator.dataset.instances.get(I)!.queues;
    const { body } = await stack.query(SEARCH(`nodes { queueInfo { queue { name } } }`), { i: I, start: START, end: END, channels: ["VOICE"], first: 25 });
    expect(body.errors).toBeUndefined();
    expect(body.data.searchContacts.nodes.map((n: { queueInfo: { queue: { name: string } } | null }) => n.queueInfo?.queue.name ?? null)).toEqual(
      expected.map((c) => (c.QueueInfo?.Id ? queues.get(c.QueueInfo.Id)!.Name : null)),
    );
    expect(stack.emulator.calls.byApi.DescribeQueue).toBeLessThanOrEqual(new Set(expected.map((c) => c.QueueInfo?.Id).filter(Boolean)).size);
    expect(stack.emulator.calls.byApi.DescribeContact).toBe(0);
  });

  it("walks a search result's transfer chain reading only the earlier contacts", async () => {
    const expected = expectedVoice().slice(0, 25);
    const { body } = await stack.query(SEARCH(`nodes { id transferChain { id } }`), { i: I, start: START, end: END, channels: ["VOICE"], first: 25 });
    expect(body.errors).toBeUndefined();
    const earlier = new Set(body.data.searchContacts.nodes.flatMap((n: { id: string; transferChain: Array<{ id: string }> }) => n.transferChain.slice(0, -1).map((c) => c.id)));
    expect(body.data.searchContacts.nodes.map((n: { transferChain: Array<{ id: string }> }) => n.transferChain.at(-1)!.id)).toEqual(expected.map((c) => c.Id));
    expect(stack.emulator.calls.byApi.DescribeContact).toBe(earlier.size);
  });

  it("resumes from the cursor of a contact in the middle of a page", async () => {
    const expected = expectedVoice();
    const first = await stack.query(SEARCH(`edges { cursor node { id } }`), { i: I, start: START, end: END, channels: ["VOICE"], first: 10 });
    const cursor = first.body.data.searchContacts.edges[4].cursor;
    const next = await stack.query(SEARCH(`edges { node { id } } pageInfo { hasNextPage }`), { i: I, start: START, end: END, channels: ["VOICE"], first: 10, after: cursor });
    expect(next.body.errors).toBeUndefined();
    expect(next.body.data.searchContacts.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual(expected.slice(5, 15).map((c) => c.Id));
    expect(next.body.data.searchContacts.pageInfo.hasNextPage).toBe(true);
  });

  it("filters by queue and initiation method too", async () => {
    const sample = expectedVoice().find((c) => c.QueueInfo?.Id)!;
    const { body } = await stack.query(
      `query ($i: ID!, $q: ID!, $m: String!) { searchContacts(instanceId: $i, timeRange: { startTime: "${START}", endTime: "${END}" }, criteria: { queueIds: [$q], initiationMethods: [$m] }, first: 100) { nodes { queueInfo { id } initiationMethod } } }`,
      { i: I, q: sample.QueueInfo!.Id, m: sample.InitiationMethod },
    );
    expect(body.errors).toBeUndefined();
    const nodes = body.data.searchContacts.nodes;
    expect(nodes.length).toBeGreaterThan(0);
    for (const n of nodes) expect(n).toEqual({ queueInfo: { id: sample.QueueInfo!.Id }, initiationMethod: sample.InitiationMethod });
  });

  it("refuses bad arguments and foreign cursors with BAD_USER_INPUT and no upstream call", async () => {
    const base = { i: I, start: START, end: END, channels: ["VOICE"] };
    const cursor = (await stack.query(SEARCH(`pageInfo { endCursor }`), { ...base, first: 2 })).body.data.searchContacts.pageInfo.endCursor;
    stack.resetCalls();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, first: 0 }, "first"],
      [{ ...base, first: 101 }, "first"],
      [{ ...base, start: END, end: START }, "timeRange"],
      [{ ...base, channels: ["voice"] }, "criteria.channels[0]"],
      [{ ...base, after: "not-a-cursor" }, "after"],
      [{ ...base, channels: ["CHAT"], after: cursor }, "after"],
    ];
    for (const [variables, argument] of cases) {
      const { body } = await stack.query(SEARCH(`totalCount`), variables);
      expect(body.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", argument });
    }
    expect(stack.emulator.calls.total).toBe(0);
  });

  it("refuses criteria past Amazon Connect's limits with BAD_USER_INPUT naming them, and no SearchContacts call; at the limits it searches", async () => {
    const query = `
      query ($i: ID!, $start: DateTime!, $end: DateTime!, $criteria: ContactSearchCriteriaInput) {
        searchContacts(instanceId: $i, timeRange: { startTime: $start, endTime: $end }, criteria: $criteria) { totalCount }
      }`;
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `id-${i}`);
    const values = (n: number, length = 5) => Array.from({ length: n }, (_, i) => String(i).padStart(length, "v"));
    const criteria = (n: number, each: (i: number) => { key: string; values: string[] } = (i) => ({ key: `k${i}`, values: ["v"] })) => ({ criteria: Array.from({ length: n }, (_, i) => each(i)) });
    const refused: Array<[Record<string, unknown>, string]> = [
      [{ queueIds: ids(101) }, "criteria.queueIds"],
      [{ agentIds: ids(101) }, "criteria.agentIds"],
      [{ agentHierarchyGroups: { l3Ids: ids(11) } }, "criteria.agentHierarchyGroups.l3Ids"],
      [{ searchableContactAttributes: criteria(16) }, "criteria.searchableContactAttributes.criteria"],
      [{ searchableContactAttributes: criteria(1, () => ({ key: "k".repeat(101), values: ["v"] })) }, "criteria.searchableContactAttributes.criteria[0].key"],
      [{ searchableContactAttributes: criteria(1, () => ({ key: "k", values: values(21) })) }, "criteria.searchableContactAttributes.criteria[0].values"],
      [{ searchableContactAttributes: criteria(1, () => ({ key: "k", values: ["v", "x".repeat(101)] })) }, "criteria.searchableContactAttributes.criteria[0].values[1]"],
      [{ searchableSegmentAttributes: criteria(1, () => ({ key: "k".repeat(65), values: ["v"] })) }, "criteria.searchableSegmentAttributes.criteria[0].key"],
      [{ searchableSegmentAttributes: criteria(1, () => ({ key: "k", values: [] })) }, "criteria.searchableSegmentAttributes.criteria[0].values"],
      [{ searchableSegmentAttributes: criteria(1, () => ({ key: "k", values: ["x".repeat(129)] })) }, "criteria.searchableSegmentAttributes.criteria[0].values[0]"],
    ];
    for (const [criterion, argument] of refused) {
      const { body } = await stack.query(query, { i: I, start: START, end: END, criteria: criterion });
      expect(body.data, argument).toEqual({ searchContacts: null });
      expect(body.errors![0]!.extensions, argument).toMatchObject({ code: "BAD_USER_INPUT", argument });
    }
    expect(stack.emulator.calls.total).toBe(0);

    const atTheLimits = {
      queueIds: ids(100),
      agentIds: ids(100),
      agentHierarchyGroups: { l3Ids: ids(10) },
      searchableSegmentAttributes: criteria(15, (i) => ({ key: "k".repeat(64), values: values(20, 128).map((v) => v + i).map((v) => v.slice(-128)) })),
    };
    const { body } = await stack.query(query, { i: I, start: START, end: END, criteria: atTheLimits });
    expect(body.errors).toBeUndefined();
    expect(body.data.searchContacts.totalCount).toBe(0);
    expect(stack.emulator.calls.byApi.SearchContacts).toBe(1);
  });
});

describe("searchContacts in an instance ARN of another partition or account", () => {
  const FOREIGN = "999999999999";
  const instanceArn = (account: string = DEMO.accountId, partition = "aws") => `arn:${partition}:connect:${DEMO.region}:${account}:instance/${I}`;
  const QUERY = `
    query ($i: ID!, $start: DateTime!, $end: DateTime!, $criteria: ContactSearchCriteriaInput) {
      searchContacts(instanceId: $i, timeRange: { startTime: $start, endTime: $end }, criteria: $criteria, first: 3) { totalCount nodes { id arn } }
    }`;

  it("refuses an instance ARN, or a queue ARN of its criteria, in another partition than its region's, and a queue ARN of another account than the search's, with BAD_USER_INPUT and no call", async () => {
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ i: instanceArn(DEMO.accountId, "aws-cn") }, "instanceId", 'names the partition "aws-cn"'],
      [{ i: instanceArn(DEMO.accountId, "awsxyz") }, "instanceId", 'names the partition "awsxyz"'],
      [{ i: I, criteria: { queueIds: [`${instanceArn(DEMO.accountId, "aws-us-gov")}/queue/${DEMO.queueId}`] } }, "criteria.queueIds[0]", 'names the partition "aws-us-gov"'],
      [{ i: instanceArn(), criteria: { queueIds: [`${instanceArn(FOREIGN)}/queue/${DEMO.queueId}`] } }, "criteria.queueIds[0]", "another instance, account or region"],
    ];
    for (const [variables, argument, message] of cases) {
      const { body } = await stack.query(QUERY, { start: START, end: END, ...variables });
      expect(body.data).toEqual({ searchContacts: null });
      expect(body.errors![0]!.extensions).toMatchObject({ code: "BAD_USER_INPUT", argument });
      expect(body.errors![0]!.message).toContain(message);
    }
    expect(stack.emulator.calls.total).toBe(0);
  });

  it("answers NOT_FOUND for a search in an instance ARN of another account, never this account's contacts; one call until the account is known, then none", async () => {
    const fresh = await startStack({ env: { ...FAST, CACHE_TTL_SECONDS: "0" } });
    try {
      const variables = { i: instanceArn(FOREIGN), start: START, end: END };
      const first = await fresh.query(QUERY, variables);
      expect(first.body.data).toEqual({ searchContacts: null });
      expect(first.body.errors!.map((e) => e.extensions!.code)).toEqual(["NOT_FOUND"]);
      expect(first.body.errors![0]!.message).toContain(`not found in account ${FOREIGN}`);
      expect(fresh.emulator.calls.byApi.SearchContacts).toBe(1);

      fresh.resetCalls();
      const again = await fresh.query(QUERY, variables);
      expect(again.body.errors!.map((e) => e.extensions!.code)).toEqual(["NOT_FOUND"]);
      expect(fresh.emulator.calls.total).toBe(0);

      // The own account's instance ARN still searches, one call.
      fresh.resetCalls();
      const own = await fresh.query(QUERY, { ...variables, i: instanceArn() });
      expect(own.body.errors).toBeUndefined();
      expect(own.body.data.searchContacts.nodes).toHaveLength(3);
      for (const node of own.body.data.searchContacts.nodes) expect(node.arn.startsWith(`${instanceArn()}/contact/`)).toBe(true);
      expect(fresh.emulator.calls.byApi.SearchContacts).toBe(1);
      expect(fresh.emulator.calls.total).toBe(1);
    } finally {
      await fresh.close();
    }
  });
});

describe("searchContacts by values @pii masks", () => {
  const SECRET = "search-pii-test-secret-0123456789abcdef-0123456789";
  const CRITERIA = `
    query ($i: ID!, $start: DateTime!, $end: DateTime!, $criteria: ContactSearchCriteriaInput) {
      searchContacts(instanceId: $i, timeRange: { startTime: $start, endTime: $end }, criteria: $criteria) { totalCount nodes { id } }
    }`;
  const bearer = async (scope: string) => ({
    authorization: `Bearer ${await new SignJWT({ scope, connect_instances: ["*"] }).setProtectedHeader({ alg: "HS256" }).setExpirationTime("10m").sign(new TextEncoder().encode(SECRET))}`,
  });
  let secured: Stack;
  beforeAll(async () => {
    secured = await startStack({ env: { ...FAST, CACHE_TTL_SECONDS: "0", AUTH_MODE: "jwt", AUTH_JWT_SECRET: SECRET } });
  });
  afterAll(() => secured?.close());
  beforeEach(() => secured.resetCalls());

  const personal = {
    searchableContactAttributes: { criteria: [{ key: "accountNumber", values: ["AC-00480147"] }] },
    name: { searchText: ["Refund"] },
  };

  it("refuses each criterion on masked values with FORBIDDEN, naming it, to a caller without contacts:pii, and calls nothing", async () => {
    const headers = await bearer("contacts:read");
    for (const [name, criterion] of Object.entries(personal)) {
      const { body } = await secured.query(CRITERIA, { i: I, start: START, end: END, criteria: { channels: ["VOICE"], [name]: criterion } }, headers);
      expect(body.data).toEqual({ searchContacts: null });
      expect(body.errors).toEqual([expect.objectContaining({ path: ["searchContacts"], extensions: { code: "FORBIDDEN", argument: `criteria.${name}` } })]);
    }
    expect(secured.emulator.calls.total).toBe(0);
  });

  it("searches by them for a caller with contacts:pii, and by unmasked criteria (segment attributes too) for anyone", async () => {
    const pii = await secured.query(CRITERIA, { i: I, start: START, end: END, criteria: personal }, await bearer("contacts:read contacts:pii"));
    expect(pii.body.errors).toBeUndefined();
    const readOnly = await bearer("contacts:read");
    const plain = await secured.query(CRITERIA, { i: I, start: START, end: END, criteria: { channels: ["VOICE"] } }, readOnly);
    expect(plain.body.errors).toBeUndefined();
    expect(plain.body.data.searchContacts.totalCount).toBeGreaterThan(0);
    const segments = { searchableSegmentAttributes: { criteria: [{ key: "connect:Subtype", values: ["connect:Chat"] }] } };
    expect((await secured.query(CRITERIA, { i: I, start: START, end: END, criteria: segments }, readOnly)).body.errors).toBeUndefined();
    expect(secured.emulator.calls.byApi.SearchContacts).toBe(3);
  });
});

describe("searchContacts under Connect's default quota", () => {
  it("waits for SearchContacts' low quota (0.5/s, burst 1) instead of being throttled", async () => {
    const quota = await startStack({ env: { CACHE_TTL_SECONDS: "0" }, emulator: { quota: true } });
    try {
      const q = `query ($start: DateTime!) { searchContacts(instanceId: "${I}", timeRange: { startTime: $start, endTime: "${END}" }, first: 1) { totalCount } }`;
      // Two different searches at once: the second waits for the bucket to refill.
      const [a, b] = await Promise.all([quota.query(q, { start: START }), quota.query(q, { start: "2026-10-11T00:00:00.000Z" })]);
      expect(a.body.errors).toBeUndefined();
      expect(b.body.errors).toBeUndefined();
      expect(quota.emulator.calls.byApi.SearchContacts).toBe(2);
      expect(quota.emulator.calls.throttledByApi.SearchContacts).toBe(0);
    } finally {
      await quota.close();
    }
  });
});
