import {
  getNamedType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLObjectType,
  type GraphQLOutputType,
} from "graphql";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEMO, findContact } from "../../src/emulator/dataset.js";
import { buildSchema } from "../../src/graphql/schema.js";
import { chainBack } from "../support/chains.js";
import { startStack, type Stack } from "../support/stack.js";

const I = DEMO.instanceId;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ env: { CACHE_TTL_SECONDS: "0" } });
});
afterAll(() => stack?.close());
beforeEach(() => stack.resetCalls());

/** The chain the emulator holds behind `id`: that contact first, its initial contact last. */
const chainFrom = (id: string) => chainBack(stack.emulator.dataset, I, id);

describe("contact and its relations", () => {
  it("returns a contact, its previousContact three levels deep and its initialContact with one DescribeContact per distinct contact", async () => {
    const chain = chainFrom(DEMO.longChainTailId);
    expect(chain.length).toBeGreaterThanOrEqual(5);
    const { status, body } = await stack.query(
      `query ($i: ID!, $c: ID!) {
        contact(instanceId: $i, contactId: $c) {
          id channel initiationMethod
          previousContact { id previousContact { id previousContact { id initialContactId } } }
          initialContact { id previousContactId }
        }
      }`,
      { i: I, c: DEMO.longChainTailId },
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const c = body.data.contact;
    expect(c.id).toBe(chain[0]!.Id);
    expect(c.channel).toBe(chain[0]!.Channel);
    expect(c.previousContact.id).toBe(chain[1]!.Id);
    expect(c.previousContact.previousContact.id).toBe(chain[2]!.Id);
    expect(c.previousContact.previousContact.previousContact.id).toBe(chain[3]!.Id);
    const initial = chain.at(-1)!;
    expect(c.initialContact).toEqual({ id: initial.Id, previousContactId: null });
    // tail, three previous contacts and the initial one: five distinct contacts.
    expect(stack.describeContactCalls()).toBe(5);
  });

  it("walks a chain of depth d through previousContact with d calls", async () => {
    const d = DEMO.longChainLength;
    const nest = (n: number): string => (n === 0 ? "id" : `id previousContact { ${nest(n - 1)} }`);
    const { body } = await stack.query(`query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { ${nest(d)} } }`, {
      i: I,
      c: DEMO.longChainTailId,
    });
    expect(body.errors).toBeUndefined();
    const ids: string[] = [];
    for (let c = body.data.contact; c; c = c.previousContact) ids.push(c.id);
    expect(ids).toEqual(chainFrom(DEMO.longChainTailId).map((c) => c.Id));
    expect(ids).toHaveLength(d);
    expect(stack.describeContactCalls()).toBe(d);
  });

  it("fetches a contact named at three depths and under two aliases once", async () => {
    const chain = chainFrom(DEMO.longChainTailId);
    const initialId = chain.at(-1)!.Id!;
    const { body } = await stack.query(
      `query ($i: ID!, $c: ID!, $first: ID!) {
        a: contact(instanceId: $i, contactId: $first) { id }
        b: contact(instanceId: $i, contactId: $first) { channel }
        tail: contact(instanceId: $i, contactId: $c) { initialContact { id initialContact { id } } }
      }`,
      { i: I, c: DEMO.longChainTailId, first: initialId },
    );
    expect(body.errors).toBeUndefined();
    expect(body.data.a.id).toBe(initialId);
    expect(body.data.tail.initialContact.id).toBe(initialId);
    // the tail and the initial contact; the initial contact of the initial contact is itself or null
    expect(stack.describeContactCalls()).toBe(2);
  });

  it("resolves an absent relation to null without an upstream call", async () => {
    const initial = chainFrom(DEMO.longChainTailId).at(-1)!;
    expect(initial.PreviousContactId).toBeUndefined();
    const { body } = await stack.query(`query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id previousContact { id } relatedContact { id } } }`, {
      i: I,
      c: initial.Id,
    });
    expect(body.data.contact).toEqual({ id: initial.Id, previousContact: null, relatedContact: null });
    expect(stack.describeContactCalls()).toBe(1);
  });

  it("resolves relatedContact in the same instance", async () => {
    const chain = chainFrom(DEMO.relatedChainContactId);
    const withRelated = chain.find((c) => c.RelatedContactId)!;
    const { body } = await stack.query(`query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { relatedContactId relatedContact { id instanceId } } }`, {
      i: I,
      c: withRelated.Id,
    });
    expect(body.errors).toBeUndefined();
    expect(body.data.contact.relatedContact).toEqual({ id: withRelated.RelatedContactId, instanceId: I });
    expect(stack.describeContactCalls()).toBe(2);
  });
});

describe("contacts(contactIds:)", () => {
  it("fetches N distinct contacts with N calls, in input order", async () => {
    const ids = [...stack.emulator.dataset.instances.get(I)!.contacts.keys()].slice(40, 60);
    const { body } = await stack.query(`query ($i: ID!, $ids: [ID!]!) { contacts(instanceId: $i, contactIds: $ids) { id } }`, { i: I, ids });
    expect(body.errors).toBeUndefined();
    expect(body.data.contacts.map((c: { id: string }) => c.id)).toEqual(ids);
    expect(stack.describeContactCalls()).toBe(20);
  });

  it("costs one call per distinct id when ids repeat", async () => {
    const [a, b] = [...stack.emulator.dataset.instances.get(I)!.contacts.keys()];
    const { body } = await stack.query(`query ($i: ID!, $ids: [ID!]!) { contacts(instanceId: $i, contactIds: $ids) { id } }`, {
      i: I,
      ids: [a, b, a, a, b],
    });
    expect(body.data.contacts.map((c: { id: string }) => c.id)).toEqual([a, b, a, a, b]);
    expect(stack.describeContactCalls()).toBe(2);
  });

  it("puts null and a NOT_FOUND error at the index of a missing contact and keeps the others", async () => {
    const [a, b] = [...stack.emulator.dataset.instances.get(I)!.contacts.keys()];
    const { body } = await stack.query(`query ($i: ID!, $ids: [ID!]!) { contacts(instanceId: $i, contactIds: $ids) { id } }`, {
      i: I,
      ids: [a, DEMO.missingContactId, b],
    });
    expect(body.data.contacts).toEqual([{ id: a }, null, { id: b }]);
    expect(body.errors).toHaveLength(1);
    expect(body.errors![0]!.path).toEqual(["contacts", 1]);
    expect(body.errors![0]!.extensions!.code).toBe("NOT_FOUND");
    expect(stack.describeContactCalls()).toBe(3);
  });

  it("answers a refused list with null and its error, and still serves the operation's other fields", async () => {
    const { body } = await stack.query(
      `query ($i: ID!, $c: ID!, $ids: [ID!]!) { one: contact(instanceId: $i, contactId: $c) { id } many: contacts(instanceId: $i, contactIds: $ids) { id } }`,
      { i: I, c: DEMO.fullContactId, ids: [DEMO.fullContactId, "d/e"] },
    );
    expect(body.data).toEqual({ one: { id: DEMO.fullContactId }, many: null });
    expect(body.errors).toEqual([expect.objectContaining({ path: ["many"], extensions: expect.objectContaining({ code: "BAD_USER_INPUT", argument: "contactIds[1]" }) })]);
    expect(stack.describeContactCalls()).toBe(1);
  });
});

describe("contactByArn", () => {
  it("reads the region, instance and contact from the ARN", async () => {
    const arn = `arn:aws:connect:${DEMO.region}:${DEMO.accountId}:instance/${I}/contact/${DEMO.fullContactId}`;
    const { body } = await stack.query(`query ($arn: String!) { contactByArn(arn: $arn) { id arn instanceId } }`, { arn });
    expect(body.errors).toBeUndefined();
    expect(body.data.contactByArn).toEqual({ id: DEMO.fullContactId, arn, instanceId: I });
    expect(stack.describeContactCalls()).toBe(1);
  });

  it("refuses a malformed ARN as BAD_USER_INPUT naming the argument, with no upstream call", async () => {
    const { body } = await stack.query(`{ contactByArn(arn: "arn:aws:s3:::bucket/key") { id } }`);
    expect(body.data.contactByArn).toBeNull();
    expect(body.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
    expect(body.errors![0]!.message).toContain('"arn"');
    expect(stack.describeContactCalls()).toBe(0);
  });
});

describe("ARNs of another partition or account", () => {
  const FOREIGN = "999999999999";
  const contactArn = (id: string, account: string = DEMO.accountId, partition = "aws") => `arn:${partition}:connect:${DEMO.region}:${account}:instance/${I}/contact/${id}`;
  const instanceArn = (account: string = DEMO.accountId, partition = "aws") => `arn:${partition}:connect:${DEMO.region}:${account}:instance/${I}`;
  const ALL = `query ($arn: String!, $i: ID!, $c: ID!, $ids: [ID!]!) {
    byArn: contactByArn(arn: $arn) { id arn }
    one: contact(instanceId: $i, contactId: $c) { id arn }
    many: contacts(instanceId: $i, contactIds: $ids) { id arn }
  }`;

  it("refuses an ARN whose partition is not its region's (aws-cn, aws-us-gov, awsxyz in us-east-1) as BAD_USER_INPUT naming the argument, with no upstream call", async () => {
    for (const partition of ["aws-cn", "aws-us-gov", "awsxyz"]) {
      const { body } = await stack.query(ALL, { arn: contactArn(DEMO.fullContactId, DEMO.accountId, partition), i: instanceArn(DEMO.accountId, partition), c: DEMO.fullContactId, ids: [DEMO.fullContactId] });
      expect(body.data).toEqual({ byArn: null, one: null, many: null });
      expect(body.errors!.map((e) => [e.path![0], e.extensions!.code, e.extensions!.argument])).toEqual([
        ["byArn", "BAD_USER_INPUT", "arn"],
        ["one", "BAD_USER_INPUT", "instanceId"],
        ["many", "BAD_USER_INPUT", "instanceId"],
      ]);
      expect(body.errors![0]!.message).toContain(`names the partition "${partition}"`);
    }
    expect(stack.emulator.calls.total).toBe(0);
  });

  it("answers NOT_FOUND for a contact named by an ARN of another account, never this account's contact; the first read costs the one call a not-found costs, later ones none", async () => {
    const fresh = await startStack({ env: { CACHE_TTL_SECONDS: "0" } });
    try {
      const c = DEMO.fullContactId;
      const foreign = { arn: contactArn(c, FOREIGN), i: instanceArn(FOREIGN), c, ids: [c, DEMO.longChainTailId] };
      // The gateway learns its account from Connect's first answer: until then a read is made.
      const first = await fresh.query(ALL, foreign);
      expect(first.body.data).toEqual({ byArn: null, one: null, many: [null, null] });
      // Errors come in the order the reads settle.
      expect(first.body.errors!.map((e) => `${e.path!.join(".")} ${e.extensions!.code}`).sort()).toEqual(["byArn NOT_FOUND", "many.0 NOT_FOUND", "many.1 NOT_FOUND", "one NOT_FOUND"]);
      expect(first.body.errors![0]!.message).toContain(`not found in account ${FOREIGN}`);
      expect(fresh.emulator.calls.byKey.DescribeContact).toEqual({ [`${I}/${c}`]: 1, [`${I}/${DEMO.longChainTailId}`]: 1 });

      // Known now: refused with no call at all.
      fresh.resetCalls();
      const again = await fresh.query(ALL, foreign);
      expect(again.body.data).toEqual({ byArn: null, one: null, many: [null, null] });
      expect(again.body.errors!.map((e) => e.extensions!.code)).toEqual(["NOT_FOUND", "NOT_FOUND", "NOT_FOUND", "NOT_FOUND"]);
      expect(fresh.emulator.calls.total).toBe(0);

      // The own account's ARNs still answer, one DescribeContact per contact, with the ARN asked for.
      fresh.resetCalls();
      const own = await fresh.query(ALL, { arn: contactArn(c), i: instanceArn(), c, ids: [c] });
      expect(own.body.errors).toBeUndefined();
      expect(own.body.data).toEqual({ byArn: { id: c, arn: contactArn(c) }, one: { id: c, arn: contactArn(c) }, many: [{ id: c, arn: contactArn(c) }] });
      expect(fresh.emulator.calls.byKey.DescribeContact).toEqual({ [`${I}/${c}`]: 1 });
    } finally {
      await fresh.close();
    }
  });

  it("reads a contact named by the ARNs of two accounts in one request once, and answers only the ARN of its own", async () => {
    const fresh = await startStack({ env: { CACHE_TTL_SECONDS: "0" } });
    try {
      const c = DEMO.fullContactId;
      const { body } = await fresh.query(`query ($own: String!, $foreign: String!) { own: contactByArn(arn: $own) { id arn } foreign: contactByArn(arn: $foreign) { id arn } }`, {
        own: contactArn(c),
        foreign: contactArn(c, FOREIGN),
      });
      expect(body.data).toEqual({ own: { id: c, arn: contactArn(c) }, foreign: null });
      expect(body.errors!.map((e) => [e.path, e.extensions!.code])).toEqual([[["foreign"], "NOT_FOUND"]]);
      expect(fresh.describeContactCalls()).toBe(1);
    } finally {
      await fresh.close();
    }
  });
});

describe("upstream errors", () => {
  it("maps ResourceNotFoundException to NOT_FOUND with a null field", async () => {
    const { body } = await stack.query(`query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { id } }`, { i: I, c: DEMO.missingContactId });
    expect(body.data).toEqual({ contact: null });
    expect(body.errors![0]!.extensions!.code).toBe("NOT_FOUND");
    expect(body.errors![0]!.extensions!.upstream.errorType).toBe("ResourceNotFoundException");
    expect(body.errors![0]!.message).not.toMatch(/at .*\.(js|ts)/); // no stack
    expect(stack.describeContactCalls()).toBe(1);
  });

  it("maps ThrottlingException to UPSTREAM_THROTTLED", async () => {
    const throttled = await startStack({
      env: { CACHE_TTL_SECONDS: "0", CONNECT_MAX_ATTEMPTS: "1", CONNECT_MAX_RPS: "1000", CONNECT_BURST: "1000" },
      emulator: { quota: { rps: 0.001, burst: 1 } },
    });
    try {
      const ids = [...throttled.emulator.dataset.instances.get(I)!.contacts.keys()].slice(0, 3);
      const { body } = await throttled.query(`query ($i: ID!, $ids: [ID!]!) { contacts(instanceId: $i, contactIds: $ids) { id } }`, { i: I, ids });
      const codes = body.errors!.map((e) => e.extensions!.code);
      expect(codes).toEqual(["UPSTREAM_THROTTLED", "UPSTREAM_THROTTLED"]);
      expect(body.data.contacts.filter(Boolean)).toHaveLength(1);
    } finally {
      await throttled.close();
    }
  });

  it("refuses malformed ids as BAD_USER_INPUT naming the argument, with no upstream call", async () => {
    const { body } = await stack.query(`{ contact(instanceId: "${I}", contactId: "../../etc/passwd") { id } }`);
    expect(body.errors![0]!.extensions!.code).toBe("BAD_USER_INPUT");
    expect(body.errors![0]!.message).toContain('"contactId"');
    const list = await stack.query(`query ($ids: [ID!]!) { contacts(instanceId: "${I}", contactIds: $ids) { id } }`, { ids: ["ok-id", "x".repeat(300)] });
    expect(list.body.errors![0]!.message).toContain('"contactIds[1]"');
    expect(stack.describeContactCalls()).toBe(0);
  });
});

describe("every field of the contact", () => {
  const schema = buildSchema();
  // Relations and joins read other resources (their own specs: joins.test.ts), not this contact.
  const RELATIONS = new Set(["previousContact", "initialContact", "relatedContact", "transferChain", "queue", "agent", "references"]);
  /** A recursive type (expressions, segment attribute values) is expanded this many times on a path. */
  const MAX_REPEAT = 6;

  /** A selection of every field of `type`, recursive types expanded MAX_REPEAT levels deep. */
  function selectAll(type: GraphQLObjectType, path: string[] = []): string {
    const fields = Object.values(type.getFields()).filter((f) => !RELATIONS.has(f.name) && f.args.length === 0);
    return fields
      .map((f) => {
        const named = getNamedType(f.type);
        if (!isObjectType(named)) return f.name;
        if (path.filter((t) => t === named.name).length >= MAX_REPEAT) return null;
        return `${f.name} { ${selectAll(named, [...path, named.name])} }`;
      })
      .filter(Boolean)
      .join(" ");
  }

  /**
   * What the gateway must answer for an SDK value under `type`, computed independently of the
   * resolvers: members by PascalCase name, maps as entry lists, timestamps as ISO-8601 strings.
   */
  function expected(type: GraphQLOutputType, value: unknown, path: string[] = []): unknown {
    if (value === undefined || value === null) return null;
    const t = isNonNullType(type) ? type.ofType : type;
    if (isListType(t)) return (value as unknown[]).map((v) => expected(t.ofType, v, path));
    if (isScalarType(t)) return value instanceof Date ? value.toISOString() : value;
    const obj = t as GraphQLObjectType;
    const out: Record<string, unknown> = {};
    for (const f of Object.values(obj.getFields())) {
      if (RELATIONS.has(f.name)) continue;
      const named = getNamedType(f.type);
      if (isObjectType(named) && path.filter((n) => n === named.name).length >= MAX_REPEAT) continue;
      const nextPath = isObjectType(named) ? [...path, named.name] : path;
      const member = f.name[0]!.toUpperCase() + f.name.slice(1);
      if (f.name === "instanceId") out[f.name] = I;
      else if (f.name === "region" && obj.name === "Contact") out[f.name] = DEMO.region;
      else if (isObjectType(named) && named.name.endsWith("Entry") && named.getFields().key) {
        const map = (value as Record<string, Record<string, unknown> | undefined>)[member];
        const valueType = named.getFields().value!.type;
        const valuePath = isObjectType(getNamedType(valueType)) ? [...nextPath, getNamedType(valueType).name] : nextPath;
        out[f.name] = map ? Object.entries(map).map(([key, v]) => ({ key, value: expected(valueType, v, valuePath) })) : null;
      } else out[f.name] = expected(f.type, (value as Record<string, unknown>)[member], nextPath);
    }
    return out;
  }

  it("round-trips every populated value of the fully populated contact exactly", async () => {
    const contactType = schema.getType("Contact") as GraphQLObjectType;
    const { body } = await stack.query(
      `query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { ${selectAll(contactType, ["Contact"])} } }`,
      { i: I, c: DEMO.fullContactId },
    );
    expect(body.errors).toBeUndefined();
    const sdk = findContact(stack.emulator.dataset, I, DEMO.fullContactId)!;
    expect(body.data.contact).toEqual(expected(contactType, sdk, ["Contact"]));
    expect(stack.describeContactCalls()).toBe(1);
  });

  it("passes enum values newer than the SDK through unchanged", async () => {
    const { body } = await stack.query(`query ($i: ID!, $c: ID!) { contact(instanceId: $i, contactId: $c) { initiationMethod } }`, {
      i: I,
      c: DEMO.unknownEnumContactId,
    });
    expect(body.errors).toBeUndefined();
    expect(body.data.contact.initiationMethod).toBe(DEMO.unknownInitiationMethod);
  });
});
