import { Queue$, ReferenceSummary$, User$ } from "@aws-sdk/client-connect";
import { GraphQLObjectType, GraphQLString, getNamedType, isObjectType } from "graphql";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildDataset, DEMO } from "../../src/emulator/dataset.js";
import { piiFields } from "../../src/graphql/redaction.js";
import { buildSchema } from "../../src/graphql/schema.js";
import { transferChainOf } from "../support/chains.js";
import { defaultReferenceCalls } from "../support/references.js";
import { startStack, type Stack } from "../support/stack.js";

const I = DEMO.instanceId;

/** The gateway's limiter at a rate no test reaches, so tests do not wait for quota they do not test. */
const FAST = { CONNECT_MAX_RPS: "1000", CONNECT_BURST: "1000" };

const distinct = (values: Array<string | undefined>) => new Set(values.filter((v): v is string => v !== undefined));

const CONTACT_WITH_JOINS = `
  fragment Joined on Contact {
    id
    queueInfo { id queue { name queueArn status } }
    agentInfo { id agent { username identityInfo { firstName lastName email } } }
    attributes { key value }
  }
  query ($i: ID!, $c: ID!) {
    contact(instanceId: $i, contactId: $c) { ...Joined transferChain { ...Joined } }
  }`;

describe("joins: queue, agent, attributes and the transfer chain", () => {
  let stack: Stack;
  beforeAll(async () => {
    // Contacts are not cached across requests here, so repeats show what the resource cache saves.
    stack = await startStack({ env: { ...FAST, CACHE_TTL_SECONDS: "0" } });
  });
  afterAll(() => stack?.close());
  beforeEach(() => stack.resetCalls());

  it("returns a contact with its queue name, agent name, attributes and whole transfer chain, one upstream call per distinct resource", async () => {
    const dataset = stack.emulator.dataset;
    const chain = transferChainOf(dataset, I, DEMO.longChainTailId);
    expect(chain).toHaveLength(DEMO.longChainLength);
    const { body } = await stack.query(CONTACT_WITH_JOINS, { i: I, c: DEMO.longChainTailId });
    expect(body.errors).toBeUndefined();
    const contact = body.data.contact;
    expect(contact.transferChain.map((c: { id: string }) => c.id)).toEqual(chain.map((c) => c.Id));
    const { transferChain: _, ...self } = contact;
    expect(contact.transferChain.at(-1)).toEqual(self); // the chain ends with the contact itself

    const queues = dataset.instances.get(I)!.queues;
    const users = dataset.instances.get(I)!.users;
    for (const [i, c] of contact.transferChain.entries()) {
      const sdk = chain[i]!;
      if (sdk.QueueInfo?.Id) expect(c.queueInfo.queue.name).toBe(queues.get(sdk.QueueInfo.Id)!.Name);
      else expect(c.queueInfo).toBeNull();
      if (sdk.AgentInfo?.Id) {
        const user = users.get(sdk.AgentInfo.Id)!;
        expect(c.agentInfo.agent).toEqual({
          username: user.Username,
          identityInfo: { firstName: user.IdentityInfo!.FirstName, lastName: user.IdentityInfo!.LastName, email: user.IdentityInfo!.Email },
        });
      } else expect(c.agentInfo).toBeNull();
      expect(c.attributes).toEqual(Object.entries(sdk.Attributes ?? {}).map(([key, value]) => ({ key, value })));
    }

    const calls = stack.emulator.calls;
    expect(calls.byApi.DescribeContact).toBe(chain.length);
    expect(Object.values(calls.byKey.DescribeContact).every((n) => n === 1)).toBe(true);
    const queueIds = distinct(chain.map((c) => c.QueueInfo?.Id));
    const userIds = distinct(chain.map((c) => c.AgentInfo?.Id));
    expect(queueIds.size).toBeGreaterThan(0);
    expect(userIds.size).toBeGreaterThan(0);
    expect(calls.byApi.DescribeQueue).toBe(queueIds.size);
    expect(calls.byApi.DescribeUser).toBe(userIds.size);
    expect(Object.keys(calls.byKey.DescribeQueue).sort()).toEqual([...queueIds].map((q) => `${I}/${q}`).sort());
    // DescribeContact returned every contact's attributes: GetContactAttributes was not needed.
    expect(calls.byApi.GetContactAttributes).toBe(0);
    expect(calls.total).toBe(chain.length + queueIds.size + userIds.size);
  });

  it("serves queues and users from the cache on a repeat while contacts are read again", async () => {
    const chain = transferChainOf(stack.emulator.dataset, I, DEMO.longChainTailId);
    await stack.query(CONTACT_WITH_JOINS, { i: I, c: DEMO.longChainTailId });
    stack.resetCalls();
    const { body } = await stack.query(CONTACT_WITH_JOINS, { i: I, c: DEMO.longChainTailId });
    expect(body.errors).toBeUndefined();
    expect(body.data.contact.transferChain).toHaveLength(chain.length);
    expect(stack.emulator.calls.byApi.DescribeContact).toBe(chain.length);
    expect(stack.emulator.calls.byApi.DescribeQueue).toBe(0);
    expect(stack.emulator.calls.byApi.DescribeUser).toBe(0);
  });

  it("shares contacts between transferChain, previousContact and initialContact", async () => {
    const chain = transferChainOf(stack.emulator.dataset, I, DEMO.longChainTailId);
    const { body } = await stack.query(
      `query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) {
        initialContact { id } previousContact { id previousContact { id } } transferChain { id }
      } }`,
      { i: I, c: DEMO.longChainTailId },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.contact.initialContact.id).toBe(chain[0]!.Id);
    expect(stack.describeContactCalls()).toBe(chain.length);
  });

  it("answers a chain of one contact with that contact and no further call", async () => {
    const head = transferChainOf(stack.emulator.dataset, I, DEMO.longChainTailId)[0]!;
    const { body } = await stack.query(`query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id transferChain { id } } }`, { i: I, c: head.Id });
    expect(body.data.contact.transferChain).toEqual([{ id: head.Id }]);
    expect(stack.describeContactCalls()).toBe(1);
  });

  it("makes no DescribeQueue or DescribeUser call for a contact without queue or agent", async () => {
    const contacts = [...stack.emulator.dataset.instances.get(I)!.contacts.values()];
    const noQueue = contacts.find((c) => !c.QueueInfo)!;
    const noAgent = contacts.find((c) => !c.AgentInfo)!;
    const { body } = await stack.query(
      `query ($i: ID!, $a: ID!, $b: ID!) {
        a: contact(instanceId: $i, contactId: $a) { queueInfo { queue { name } } }
        b: contact(instanceId: $i, contactId: $b) { agentInfo { agent { username } } }
      }`,
      { i: I, a: noQueue.Id, b: noAgent.Id },
    );
    expect(body.data).toEqual({ a: { queueInfo: null }, b: { agentInfo: null } });
    expect(stack.emulator.calls.byApi.DescribeQueue).toBe(0);
    expect(stack.emulator.calls.byApi.DescribeUser).toBe(0);
  });

  it("lists every page of a contact's references, and only the types asked for", async () => {
    const refs = stack.emulator.dataset.instances.get(I)!.references.get(DEMO.fullContactId)!;
    expect(refs.length).toBeGreaterThan(3); // more than one emulator page (3)
    const { body } = await stack.query(
      `query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) {
        references { type url { name value } attachment { name status arn } contactAnalysis { analyticsMode isRedacted } }
        urls: references(referenceTypes: ["URL"]) { type url { value } }
      } }`,
      { i: I, c: DEMO.fullContactId },
    );
    expect(body.errors).toBeUndefined();
    const all = body.data.contact.references;
    expect(all).toHaveLength(refs.length);
    expect(all.map((r: { type: string }) => r.type)).toContain("CONTACT_ANALYSIS");
    expect(all.find((r: { type: string }) => r.type === "URL").url).toEqual({ name: refs.find((r) => r.Url)!.Url!.Name, value: refs.find((r) => r.Url)!.Url!.Value });
    expect(body.data.contact.urls).toEqual(refs.filter((r) => r.Url).map((r) => ({ type: "URL", url: { value: r.Url!.Value } })));
    // All types: two groups of at most six (Connect's limit a call), each in pages of 3; URL only: one page.
    expect(stack.emulator.calls.byApi.ListContactReferences).toBe(defaultReferenceCalls(refs) + 1);
  });

  it("refuses an unusable reference type without calling upstream", async () => {
    const { body } = await stack.query(`query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id references(referenceTypes: ["url"]) { type } } }`, { i: I, c: DEMO.fullContactId });
    expect(body.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
    expect(stack.emulator.calls.byApi.ListContactReferences).toBe(0);
  });
});

describe("attributes from GetContactAttributes", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { ...FAST, CACHE_TTL_SECONDS: "0" }, emulator: { describeContactAttributes: false } });
  });
  afterAll(() => stack?.close());
  beforeEach(() => stack.resetCalls());

  it("reads a chain's attributes once, keyed by its initial contact, when DescribeContact leaves them out", async () => {
    const dataset = stack.emulator.dataset;
    const chain = transferChainOf(dataset, I, DEMO.longChainTailId);
    const initialId = chain[0]!.Id!;
    const expected = dataset.instances.get(I)!.attributes.get(initialId) ?? {};
    const { body } = await stack.query(`query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { attributes { key value } transferChain { attributes { key value } } } }`, {
      i: I,
      c: DEMO.longChainTailId,
    });
    expect(body.errors).toBeUndefined();
    const entries = Object.entries(expected).map(([key, value]) => ({ key, value }));
    expect(body.data.contact.attributes).toEqual(entries);
    for (const c of body.data.contact.transferChain) expect(c.attributes).toEqual(entries);
    expect(stack.emulator.calls.byKey.GetContactAttributes).toEqual({ [`${I}/${initialId}`]: 1 });
  });

  it("answers an empty list for a chain without attributes", async () => {
    const instance = stack.emulator.dataset.instances.get(I)!;
    const bare = [...instance.contacts.values()].find((c) => !c.InitialContactId && !instance.attributes.has(c.Id!))!;
    const { body } = await stack.query(`query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { attributes { key } } }`, { i: I, c: bare.Id });
    expect(body.data.contact.attributes).toEqual([]);
    expect(stack.emulator.calls.byApi.GetContactAttributes).toBe(1);
  });
});

describe("transferChain limits", () => {
  it("fails a chain longer than MAX_CONTACT_HOPS after reading that many contacts", async () => {
    const stack = await startStack({ env: { ...FAST, CACHE_TTL_SECONDS: "0", MAX_CONTACT_HOPS: "3" } });
    try {
      const { body } = await stack.query(`query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id transferChain { id } } }`, { i: I, c: DEMO.longChainTailId });
      expect(body.errors![0]!.extensions).toMatchObject({ code: "UPSTREAM_BUDGET_EXCEEDED", limit: "MAX_CONTACT_HOPS" });
      expect(stack.describeContactCalls()).toBe(1 + 3);
    } finally {
      await stack.close();
    }
  });

  it("stops at a cycle and at a previous contact that no longer exists, reading each contact once", async () => {
    const dataset = buildDataset();
    const contacts = dataset.instances.get(I)!.contacts;
    const three = [...contacts.values()].filter((c) => c.InitialContactId && transferChainOf(dataset, I, c.Id!).length === 3 && ![...contacts.values()].some((n) => n.PreviousContactId === c.Id));
    const [cyclic, broken] = [transferChainOf(dataset, I, three[0]!.Id!), transferChainOf(dataset, I, three[1]!.Id!)];
    cyclic[0]!.PreviousContactId = cyclic[2]!.Id; // head -> tail -> middle -> head
    broken[1]!.PreviousContactId = DEMO.missingContactId; // middle -> (gone)
    const stack = await startStack({ env: { ...FAST, CACHE_TTL_SECONDS: "0" }, emulator: { dataset } });
    try {
      const q = `query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { transferChain { id } } }`;
      const first = await stack.query(q, { i: I, c: cyclic[2]!.Id });
      expect(first.body.errors).toBeUndefined();
      expect(first.body.data.contact.transferChain.map((c: { id: string }) => c.id)).toEqual(cyclic.map((c) => c.Id));
      expect(stack.describeContactCalls()).toBe(3);
      stack.resetCalls();
      const second = await stack.query(q, { i: I, c: broken[2]!.Id });
      expect(second.body.errors).toBeUndefined();
      expect(second.body.data.contact.transferChain.map((c: { id: string }) => c.id)).toEqual([broken[1]!.Id, broken[2]!.Id]);
      expect(stack.describeContactCalls()).toBe(3); // tail, middle, and the missing one
    } finally {
      await stack.close();
    }
  });
});

describe("multi-region", () => {
  const arn = (region: string, contactId: string) => `arn:aws:connect:${region}:${DEMO.accountId}:instance/${I}/contact/${contactId}`;

  it("reads each region through its own client, and joins in the contact's region", async () => {
    // The emulator serves its one data set in three regions here (an instance lives in one).
    const stack = await startStack({ env: { CACHE_TTL_SECONDS: "0" }, emulator: { regions: ["us-east-1", "eu-west-2", "ap-southeast-2"] } });
    try {
      const { body } = await stack.query(
        `query ($east: String!, $west: String!, $inst: ID!, $c: ID!) {
          east: contactByArn(arn: $east) { region queueInfo { queue { name } } }
          west: contactByArn(arn: $west) { region queueInfo { queue { name } } }
          byInstanceArn: contact(instanceId: $inst, contactId: $c) { region id }
        }`,
        { east: arn("us-east-1", DEMO.fullContactId), west: arn("eu-west-2", DEMO.fullContactId), inst: `arn:aws:connect:ap-southeast-2:${DEMO.accountId}:instance/${I}`, c: DEMO.fullContactId },
      );
      expect(body.errors).toBeUndefined();
      expect(body.data.east.region).toBe("us-east-1");
      expect(body.data.west.region).toBe("eu-west-2");
      expect(body.data.west.queueInfo.queue.name).toBe(body.data.east.queueInfo.queue.name);
      expect(body.data.byInstanceArn).toEqual({ region: "ap-southeast-2", id: DEMO.fullContactId });
      expect(stack.emulator.calls.byRegion).toEqual({
        "us-east-1": { DescribeContact: 1, DescribeQueue: 1 },
        "eu-west-2": { DescribeContact: 1, DescribeQueue: 1 },
        "ap-southeast-2": { DescribeContact: 1 },
      });
    } finally {
      await stack.close();
    }
  });

  it("keeps a quota bucket per region: an exhausted region does not hold back another", async () => {
    // One call per 100 s per region and API: a second call in a region would wait far longer than allowed.
    const stack = await startStack({
      env: { CACHE_TTL_SECONDS: "0", CONNECT_MAX_RPS: "0.01", CONNECT_BURST: "1", CONNECT_MAX_WAIT_MS: "50" },
      emulator: { quota: { perApi: { DescribeContact: { rps: 0.01, burst: 1 } } }, regions: ["us-east-1", "us-west-2"] },
    });
    try {
      const q = `query ($a: String!) { contactByArn(arn: $a) { id } }`;
      const east = await stack.query(q, { a: arn("us-east-1", DEMO.fullContactId) });
      const west = await stack.query(q, { a: arn("us-west-2", DEMO.fullContactId) });
      const eastAgain = await stack.query(q, { a: arn("us-east-1", DEMO.longChainTailId) });
      expect(east.body.errors).toBeUndefined();
      expect(west.body.errors).toBeUndefined();
      expect(eastAgain.body.errors![0]!.extensions!.code).toBe("UPSTREAM_THROTTLED");
      expect(stack.emulator.calls.throttled).toBe(0);
      expect(stack.emulator.calls.byRegion).toEqual({ "us-east-1": { DescribeContact: 1 }, "us-west-2": { DescribeContact: 1 } });
    } finally {
      await stack.close();
    }
  });

  it("answers NOT_FOUND for a contact read in a region its instance does not live in, as Connect does", async () => {
    const stack = await startStack({ env: { CACHE_TTL_SECONDS: "0" } });
    try {
      const q = `query ($a: String!) { contactByArn(arn: $a) { id } }`;
      const { body } = await stack.query(q, { a: arn("eu-west-2", DEMO.fullContactId) });
      expect(body.data).toEqual({ contactByArn: null });
      expect(body.errors![0]!.extensions!.code).toBe("NOT_FOUND");
      expect(stack.emulator.calls.byRegion).toEqual({ "eu-west-2": { DescribeContact: 1 } });
    } finally {
      await stack.close();
    }
  });

  it("refuses a malformed instance ARN without calling upstream", async () => {
    const stack = await startStack();
    try {
      const { body } = await stack.query(`{ contact(instanceId: "arn:aws:connect:nowhere:1:instance/x", contactId: "c") { id } }`);
      expect(body.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
      expect(stack.emulator.calls.total).toBe(0);
    } finally {
      await stack.close();
    }
  });
});

describe("personal data of agents", () => {
  it("marks the agent's names, e-mail addresses and phone numbers, and reference values, @pii", () => {
    const pii = piiFields(buildSchema());
    for (const field of [
      "User.username",
      "UserIdentityInfo.firstName",
      "UserIdentityInfo.lastName",
      "UserIdentityInfo.email",
      "UserIdentityInfo.secondaryEmail",
      "UserIdentityInfo.mobile",
      "UserPhoneConfig.deskPhoneNumber",
      "PhoneNumberConfig.phoneNumber",
      "EmailReference.value",
      "StringReference.value",
    ]) {
      expect(pii).toContain(field);
    }
    expect(pii).not.toContain("Queue.name");
  });
});

describe("schema.graphql against the SDK's Queue, User and ReferenceSummary shapes", () => {
  const schema = buildSchema();

  // The SDK's runtime schema (see schemaCoverage.test.ts): [kind, ns, name, traits, members, schemas]
  // for structures (3) and unions (4), [1, …, member] for lists, [2, …, key, value] for maps.
  function resolve(s: unknown): unknown {
    while (typeof s === "function") s = (s as () => unknown)();
    if (Array.isArray(s) && (typeof s[0] === "function" || (Array.isArray(s[0]) && s.length === 2))) return resolve(s[0]);
    return s;
  }

  /** Member paths of `sdk` with no field on `type`, following nested structures, lists and maps. */
  function missing(sdk: unknown, type: GraphQLObjectType, path: string): string[] {
    const r = resolve(sdk) as unknown[];
    if (!Array.isArray(r) || (r[0] !== 3 && r[0] !== 4)) return [];
    const names = r[4] as string[];
    const schemas = r[5] as unknown[];
    return names.flatMap((member, i) => {
      const field = type.getFields()[member[0]!.toLowerCase() + member.slice(1)];
      if (!field) return [`${path}.${member}`];
      let child = resolve(schemas[i]) as unknown[];
      if (Array.isArray(child) && child[0] === 1) child = resolve(child[4]) as unknown[];
      if (Array.isArray(child) && child[0] === 2) child = resolve(child[5]) as unknown[];
      const named = getNamedType(field.type);
      return isObjectType(named) ? missing(child, named, `${path}.${member}`) : [];
    });
  }

  it("has a field for every member of Queue, User and ReferenceSummary, nested structures included", () => {
    expect(missing(Queue$, schema.getType("Queue") as GraphQLObjectType, "Queue")).toEqual([]);
    expect(missing(User$, schema.getType("User") as GraphQLObjectType, "User")).toEqual([]);
    expect(missing(ReferenceSummary$, schema.getType("ReferenceSummary") as GraphQLObjectType, "ReferenceSummary")).toEqual([]);
  });

  it("finds members this test walks (sanity check of the walker)", () => {
    const bare = new GraphQLObjectType({ name: "Bare", fields: { username: { type: GraphQLString } } });
    expect(missing(User$, bare, "User")).toContain("User.IdentityInfo");
  });
});
