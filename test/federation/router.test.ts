import type { Contact } from "@aws-sdk/client-connect";
import { SignJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { REDACTED } from "../../src/graphql/redaction.js";
import { send } from "../support/http.js";
import { startStack, type Stack } from "../support/stack.js";
import { startCrmSubgraph, type CrmCustomer, type CrmSubgraph } from "./crmSubgraph.js";
import { introspectSubgraph, startRouter, type Router } from "./router.js";

const I = DEMO.instanceId;
const SECOND = DEMO.secondInstanceId;
const SECRET = "federation-test-secret-0123456789abcdef-0123456789";

/** Every instance, personal fields unmasked. */
const ALL: JWTPayload = { scope: "contacts:read contacts:pii", connect_instances: ["*"] };
const token = (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime("10m").sign(new TextEncoder().encode(SECRET));
const bearer = async (claims: JWTPayload) => ({ authorization: `Bearer ${await token(claims)}` });

const CUSTOMERS_QUERY = `{
  customers {
    name
    recentContacts { id channel queueInfo { queue { name } } previousContact { id } }
  }
}`;

let stack: Stack;
let crm: CrmSubgraph;
let router: Router;

beforeAll(async () => {
  // The gateway as a subgraph, behind JWT: contacts and queues are not cached across requests, so
  // each request's upstream calls show what it cost; the limiter never makes a test wait.
  stack = await startStack({
    env: {
      FEDERATION: "true",
      AUTH_MODE: "jwt",
      AUTH_JWT_SECRET: SECRET,
      CACHE_TTL_SECONDS: "0",
      CACHE_RESOURCE_TTL_SECONDS: "0",
      CONNECT_MAX_RPS: "1000",
      CONNECT_BURST: "1000",
    },
  });
  crm = await startCrmSubgraph();
  router = await startRouter([
    { name: "connect", url: stack.url, typeDefs: await introspectSubgraph(stack.url, await bearer(ALL)) },
    { name: "crm", url: crm.url, typeDefs: crm.typeDefs },
  ]);
});
afterAll(async () => {
  await router?.close();
  await crm?.close();
  await stack?.close();
});
beforeEach(() => stack.resetCalls());

/** Finished contacts of `instance` that have a queue and a previous contact. */
function contactsOf(instance: string, count: number): Contact[] {
  const contacts = [...stack.emulator.dataset.instances.get(instance)!.contacts.values()];
  const picked = contacts.filter((c) => c.QueueInfo?.Id && c.PreviousContactId && c.DisconnectTimestamp).slice(0, count);
  expect(picked).toHaveLength(count);
  return picked;
}

const customer = (name: string, contacts: readonly Contact[]): CrmCustomer => ({ id: name.toLowerCase(), name, recentContactArns: contacts.map((c) => c.Arn!) });
const keyOf = (instance: string, id: string) => `${instance}/${id}`;

describe("the gateway as a subgraph behind a router", () => {
  it("answers a supergraph query with one DescribeContact per distinct contact, a contact two customers share read once", async () => {
    const [c1, c2, c3, c4] = contactsOf(I, 4);
    crm.setCustomers([customer("Ana", [c1!, c2!]), customer("Ben", [c2!, c3!]), customer("Chloe", [c4!])]);

    const { status, body } = await router.query(CUSTOMERS_QUERY, undefined, await bearer(ALL));

    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const queues = stack.emulator.dataset.instances.get(I)!.queues;
    const expected = (c: Contact) => ({ id: c.Id, channel: c.Channel, queueInfo: { queue: { name: queues.get(c.QueueInfo!.Id!)!.Name } }, previousContact: { id: c.PreviousContactId } });
    expect(body.data.customers).toEqual([
      { name: "Ana", recentContacts: [expected(c1!), expected(c2!)] },
      { name: "Ben", recentContacts: [expected(c2!), expected(c3!)] },
      { name: "Chloe", recentContacts: [expected(c4!)] },
    ]);
    // The four contacts and their previous contacts, each once, however often the query names them.
    const read = new Set([c1!, c2!, c3!, c4!].flatMap((c) => [keyOf(I, c.Id!), keyOf(I, c.PreviousContactId!)]));
    const calls = stack.emulator.calls;
    expect(Object.keys(calls.byKey.DescribeContact).sort()).toEqual([...read].sort());
    expect(Object.values(calls.byKey.DescribeContact).every((n) => n === 1)).toBe(true);
    expect(calls.byApi.DescribeContact).toBe(read.size);
    expect(calls.byApi.DescribeQueue).toBe(new Set([c1!, c2!, c3!, c4!].map((c) => c.QueueInfo!.Id)).size);
  });

  it("resolves 50 contact representations in one batch of one DescribeContact per distinct contact", async () => {
    const pool = contactsOf(I, 20);
    crm.setCustomers(Array.from({ length: 25 }, (_, i) => customer(`Customer ${i}`, [pool[i % 20]!, pool[(i * 7 + 3) % 20]!])));
    const before = await batches();

    const { body } = await router.query(`{ customers { recentContacts { id channel } } }`, undefined, await bearer(ALL));

    expect(body.errors).toBeUndefined();
    expect(body.data.customers.flatMap((c: { recentContacts: unknown[] }) => c.recentContacts)).toHaveLength(50);
    expect(stack.emulator.calls.byApi.DescribeContact).toBe(20);
    expect(Object.values(stack.emulator.calls.byKey.DescribeContact).every((n) => n === 1)).toBe(true);
    const after = await batches();
    expect({ batches: after.count - before.count, contacts: after.sum - before.sum }).toEqual({ batches: 1, contacts: 20 });
  });

  it("refuses the entities of an instance the token does not list, FORBIDDEN with no call, and serves the others", async () => {
    const [main] = contactsOf(I, 1);
    const [second] = contactsOf(SECOND, 1);
    crm.setCustomers([customer("Ana", [main!, second!]), customer("Ben", [second!])]);

    const { status, body } = await router.query(
      `{ customers { name recentContacts { id channel } } }`,
      undefined,
      await bearer({ scope: "contacts:read", connect_instances: [I] }),
    );

    expect(status).toBe(200);
    expect(body.data.customers).toEqual([
      { name: "Ana", recentContacts: [{ id: main!.Id, channel: main!.Channel }, null] },
      { name: "Ben", recentContacts: [null] },
    ]);
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN", "FORBIDDEN"]);
    expect(body.errors?.map((e) => e.path)).toEqual([
      ["customers", 0, "recentContacts", 1],
      ["customers", 1, "recentContacts", 0],
    ]);
    expect(body.errors?.[0]?.message).toContain(SECOND);
    // Refused by the check of `_entities` itself (naming the representation), not by the loader's second line.
    for (const error of body.errors ?? []) expect(error.extensions?.argument).toMatch(/^representations\[\d+\]$/);
    expect(stack.emulator.calls.byKey.DescribeContact).toEqual({ [keyOf(I, main!.Id!)]: 1 });
  });

  it("makes no upstream call at all when the token lists none of the entities' instances", async () => {
    crm.setCustomers([customer("Ana", contactsOf(I, 3))]);

    const { body } = await router.query(CUSTOMERS_QUERY, undefined, await bearer({ scope: "contacts:read", connect_instances: [SECOND] }));

    expect(body.data.customers).toEqual([{ name: "Ana", recentContacts: [null, null, null] }]);
    expect(body.errors?.map((e) => e.extensions?.code)).toEqual(["FORBIDDEN", "FORBIDDEN", "FORBIDDEN"]);
    expect(stack.emulator.calls.total).toBe(0);
  });

  it("masks the @pii fields of entities for a token without contacts:pii, and not with it", async () => {
    const voice = contactsOf(I, 20).find((c) => c.CustomerEndpoint?.Address && c.Attributes);
    expect(voice).toBeDefined();
    crm.setCustomers([customer("Ana", [voice!])]);
    const query = `{ customers { recentContacts { id customerEndpoint { address } attributes { key value } } } }`;

    const masked = await router.query(query, undefined, await bearer({ scope: "contacts:read", connect_instances: ["*"] }));
    const clear = await router.query(query, undefined, await bearer(ALL));

    expect(masked.body.errors).toBeUndefined();
    const [contact] = masked.body.data.customers[0].recentContacts;
    expect(contact.id).toBe(voice!.Id);
    expect(contact.customerEndpoint).toEqual({ address: REDACTED });
    expect(contact.attributes).toEqual(Object.keys(voice!.Attributes ?? {}).map((key) => ({ key, value: REDACTED })));
    expect(JSON.stringify(masked.body)).not.toContain(voice!.CustomerEndpoint!.Address!);
    expect(clear.body.data.customers[0].recentContacts[0].customerEndpoint).toEqual({ address: voice!.CustomerEndpoint!.Address });
  });

  it("applies the query limits to the router's entity fetch: too many contact hops are refused before any call", async () => {
    crm.setCustomers([customer("Ana", contactsOf(I, 1))]);
    const hops = 13; // MAX_CONTACT_HOPS is 12
    const selection = "previousContact { ".repeat(hops) + "id" + " }".repeat(hops);

    const { body } = await router.query(`{ customers { name recentContacts { id ${selection} } } }`, undefined, await bearer(ALL));

    // @apollo/gateway reports the subgraph's HTTP 400 as its own error, the subgraph's errors inside.
    const refused = body.errors?.[0]?.extensions?.response;
    expect(refused?.status).toBe(400);
    expect(refused?.body.errors.map((e: { extensions: { code: string; limit: string } }) => [e.extensions.code, e.extensions.limit])).toEqual([["QUERY_LIMIT_EXCEEDED", "MAX_CONTACT_HOPS"]]);
    expect(stack.emulator.calls.total).toBe(0);
  });

  it("refuses a router request without a token at the subgraph (401), before any call", async () => {
    crm.setCustomers([customer("Ana", contactsOf(I, 1))]);

    const { body } = await router.query(`{ customers { name recentContacts { id } } }`);

    expect(body.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(stack.emulator.calls.total).toBe(0);
  });
});

/** The contact DataLoader's batches so far, from the gateway's `/metrics`: how many, and how many contacts in all. */
async function batches(): Promise<{ count: number; sum: number }> {
  const { body } = await send<string>(stack.url.replace(/\/graphql$/, "/metrics"));
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(body)?.[1] ?? Number.NaN);
  return { count: value("graphql_dataloader_batch_size_count"), sum: value("graphql_dataloader_batch_size_sum") };
}
