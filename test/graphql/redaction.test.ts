import { Writable } from "node:stream";
import type { Contact } from "@aws-sdk/client-connect";
import { SignJWT, type JWTPayload } from "jose";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/config.js";
import { ConnectUpstream } from "../../src/upstream/connectUpstream.js";
import { EMULATOR_CREDENTIALS, startEmulator, type Emulator } from "../../src/emulator/emulator.js";
import { DEMO, findContact } from "../../src/emulator/dataset.js";
import { REDACTED_LOG_PATHS } from "../../src/observability/logger.js";
import { REDACTED, maskValue, piiFields } from "../../src/graphql/redaction.js";
import { buildSchema } from "../../src/graphql/schema.js";
import { createGateway, type Gateway } from "../../src/http/gateway.js";
import { post } from "../support/http.js";
import { startStack, type Stack } from "../support/stack.js";

/** The personal fields of a contact: what the SDK marks sensitive, the API reference calls personal, and free text. */
const CONTACT_PII_FIELDS = [
  "Contact.additionalEmailRecipients",
  "Contact.attributes",
  "Contact.customerEndpoint",
  "Contact.customerId",
  "Contact.description",
  "Contact.name",
  "ContactDetails.description",
  "ContactDetails.name",
  "ContactEvaluation.exportLocation",
  "RecordingInfo.deletionReason",
  "RecordingInfo.location",
  "RecordingInfo.unprocessedTranscriptLocation",
];

const I = DEMO.instanceId;
const SECRET = "redaction-test-secret-0123456789abcdef-0123456789";
const READ: JWTPayload = { scope: "contacts:read", connect_instances: ["*"] };
const READ_PII: JWTPayload = { scope: "contacts:read contacts:pii", connect_instances: ["*"] };

let emulator: Emulator;
let stack: Stack;
let full: Contact;

const token = (claims: JWTPayload) => new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setExpirationTime("10m").sign(new TextEncoder().encode(SECRET));

beforeAll(async () => {
  emulator = await startEmulator({ quota: false });
  stack = await startStack({ sharedEmulator: emulator, env: { AUTH_MODE: "jwt", AUTH_JWT_SECRET: SECRET, CACHE_TTL_SECONDS: "0" } });
  full = findContact(emulator.dataset, I, DEMO.fullContactId)!;
});
afterAll(async () => {
  await stack?.close();
  await emulator?.close();
});
beforeEach(() => emulator.resetStats());

/** Every personal field of the contact, with non-personal neighbours to show they are untouched. */
const PERSONAL = `
  id name description customerId
  customerEndpoint { type address displayName }
  systemEndpoint { type address }
  additionalEmailRecipients { toList { address displayName } ccList { address displayName } }
  attributes { key value }
  recordings { status location unprocessedTranscriptLocation deletionReason }
  contactDetails { name description }
  contactEvaluations { key value { formId exportLocation } }
`;
const query = (selection = PERSONAL) => `{ contact(instanceId: "${I}", contactId: "${DEMO.fullContactId}") { ${selection} } }`;

describe("without the contacts:pii scope", () => {
  it("masks every personal field's value with the same treatment and keeps everything else", async () => {
    const { status, body } = await stack.query(query(), undefined, { authorization: `Bearer ${await token(READ)}` });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    const c = body.data.contact;
    const r = (v: unknown) => (v === undefined || v === null ? null : REDACTED);
    expect(c.id).toBe(full.Id);
    expect(c.name).toBe(REDACTED);
    expect(c.description).toBe(REDACTED);
    expect(c.customerId).toBe(REDACTED);
    // Objects keep their shape; every string inside is masked.
    expect(c.customerEndpoint).toEqual({ type: REDACTED, address: REDACTED, displayName: REDACTED });
    expect(c.additionalEmailRecipients).toEqual({
      toList: full.AdditionalEmailRecipients!.ToList!.map(() => ({ address: REDACTED, displayName: REDACTED })),
      ccList: full.AdditionalEmailRecipients!.CcList!.map(() => ({ address: REDACTED, displayName: REDACTED })),
    });
    // Attribute names stay (they are the contact centre's own), values are masked.
    expect(c.attributes).toEqual(Object.keys(full.Attributes!).map((key) => ({ key, value: REDACTED })));
    expect(c.recordings).toEqual(
      full.Recordings!.map((rec) => ({
        status: rec.Status,
        location: r(rec.Location),
        unprocessedTranscriptLocation: r(rec.UnprocessedTranscriptLocation),
        deletionReason: r(rec.DeletionReason),
      })),
    );
    expect(c.contactDetails).toEqual({ name: REDACTED, description: REDACTED });
    expect(c.contactEvaluations).toEqual(
      Object.entries(full.ContactEvaluations!).map(([key, e]) => ({ key, value: { formId: e.FormId, exportLocation: r(e.ExportLocation) } })),
    );
    // Not personal: the number the customer dialled belongs to the contact centre.
    expect(c.systemEndpoint).toEqual({ type: full.SystemEndpoint!.Type, address: full.SystemEndpoint!.Address });
    expect(JSON.stringify(body)).not.toContain(full.CustomerEndpoint!.Address!);
  });

  it("lists what was masked in extensions.redacted, as sorted schema coordinates", async () => {
    const { body } = await stack.query(query(), undefined, { authorization: `Bearer ${await token(READ)}` });
    expect(body.extensions!.redacted).toEqual([...CONTACT_PII_FIELDS].sort());
  });

  it("leaves absent values null and adds no extension when nothing personal was selected", async () => {
    const { body } = await stack.query(query("id channel customerEndpoint { address }"), undefined, { authorization: `Bearer ${await token(READ)}` });
    expect(body.data.contact.id).toBe(full.Id);
    expect(body.extensions?.redacted).toEqual(["Contact.customerEndpoint"]);
    const plain = await stack.query(query("id channel"), undefined, { authorization: `Bearer ${await token(READ)}` });
    expect(plain.body.extensions?.redacted).toBeUndefined();
  });

  it("masks personal fields of related contacts too", async () => {
    const { body } = await stack.query(
      `{ contact(instanceId: "${I}", contactId: "${DEMO.longChainTailId}") { previousContact { customerEndpoint { address } previousContact { customerEndpoint { address } } } } }`,
      undefined,
      { authorization: `Bearer ${await token(READ)}` },
    );
    expect(body.data.contact.previousContact.customerEndpoint.address).toBe(REDACTED);
    expect(body.data.contact.previousContact.previousContact.customerEndpoint.address).toBe(REDACTED);
  });

  it("costs the same upstream calls as an unmasked read", async () => {
    await stack.query(query(), undefined, { authorization: `Bearer ${await token(READ)}` });
    const masked = emulator.calls.total;
    emulator.resetStats();
    await stack.query(query(), undefined, { authorization: `Bearer ${await token(READ_PII)}` });
    expect(emulator.calls.total).toBe(masked);
  });
});

describe("with the contacts:pii scope", () => {
  it("returns personal fields as Amazon Connect sent them, with no redaction extension", async () => {
    const { body } = await stack.query(query(), undefined, { authorization: `Bearer ${await token(READ_PII)}` });
    const c = body.data.contact;
    expect(c.name).toBe(full.Name);
    expect(c.customerId).toBe(full.CustomerId);
    expect(c.customerEndpoint).toEqual({ type: full.CustomerEndpoint!.Type, address: full.CustomerEndpoint!.Address, displayName: full.CustomerEndpoint!.DisplayName });
    expect(c.attributes).toEqual(Object.entries(full.Attributes!).map(([key, value]) => ({ key, value })));
    expect(c.additionalEmailRecipients.ccList[0].address).toBe(full.AdditionalEmailRecipients!.CcList![0]!.Address);
    expect(c.recordings[0].location).toBe(full.Recordings![0]!.Location);
    expect(body.extensions?.redacted).toBeUndefined();
  });
});

describe("AUTH_MODE=none", () => {
  it("means full access: personal fields unmasked", async () => {
    const open = await startStack({ sharedEmulator: emulator, env: { AUTH_MODE: "none" } });
    try {
      const { body } = await open.query(query("customerEndpoint { address } attributes { key value }"));
      expect(body.data.contact.customerEndpoint.address).toBe(full.CustomerEndpoint!.Address);
      expect(body.extensions?.redacted).toBeUndefined();
    } finally {
      await open.close();
    }
  });
});

describe("the @pii fields", () => {
  it("include every personal member of the contact the API reference and the README name", () => {
    expect(piiFields(buildSchema())).toEqual(expect.arrayContaining(CONTACT_PII_FIELDS));
  });

  it("mask strings, keep shapes and entry keys, null other scalars, and leave null alone", () => {
    expect(maskValue("+12065550147")).toBe(REDACTED);
    expect(maskValue("")).toBe(REDACTED);
    expect(maskValue(null)).toBeNull();
    expect(maskValue({ Type: "EMAIL_ADDRESS", Address: "a@b.c", Extra: 7, Flag: true })).toEqual({ Type: REDACTED, Address: REDACTED, Extra: null, Flag: null });
    expect(maskValue([{ key: "accountNumber", value: "AC-1" }])).toEqual([{ key: "accountNumber", value: REDACTED }]);
    expect(maskValue({ ToList: [{ Address: "x@y.z" }], CcList: undefined })).toEqual({ ToList: [{ Address: REDACTED }], CcList: undefined });
  });
});

describe("logs", () => {
  let gateway: Gateway;
  let url: string;
  let lines = "";

  beforeAll(async () => {
    const config = loadConfig({ AUTH_MODE: "jwt", AUTH_JWT_SECRET: SECRET, LOG_LEVEL: "trace", CACHE_TTL_SECONDS: "0" }, false);
    const sink = new Writable({
      write(chunk, _, done) {
        lines += chunk.toString();
        done();
      },
    });
    const logger = pino({ level: "trace", redact: { paths: REDACTED_LOG_PATHS, censor: "[redacted]" } }, sink);
    const upstream = new ConnectUpstream({ endpoint: emulator.url, credentials: EMULATOR_CREDENTIALS });
    gateway = await createGateway({ config, upstream, logger });
    url = `${await gateway.listen(0, "127.0.0.1")}/graphql`;
  });
  afterAll(() => gateway?.close());

  it("never contain personal values or tokens, whatever the scope and whatever fails", async () => {
    const pii = await token(READ_PII);
    const withPii = { authorization: `Bearer ${pii}` };
    await post(url, { query: query() }, withPii);
    await post(url, { query: query() }, { authorization: `Bearer ${await token(READ)}` });
    await post(url, { query: query() }, { authorization: "Bearer forged.token.value" });
    // Personal data in variables, in a failing operation and in an invalid one.
    await post(url, { query: `query ($c: ID!) { contact(instanceId: "${I}", contactId: $c) { id } }`, variables: { c: full.CustomerEndpoint!.Address } }, withPii);
    await post(url, { query: `query ($c: ID!) { contact(instanceId: "${I}", contactId: $c) { id } }`, variables: { c: "rosa.silva@example.org" } }, withPii);
    await post(url, { query: `{ contact(instanceId: "${I}", contactId: "${full.CustomerEndpoint!.DisplayName}") { id } }` }, withPii);
    await post(url, { query: `{ nope(x: "${full.CustomerId}") }` }, withPii);
    await gateway.app.inject({ method: "POST", url: "/graphql", headers: { "content-type": "application/json" }, payload: `{ "query": "${full.CustomerEndpoint!.Address}` });

    expect(lines.length).toBeGreaterThan(0);
    const personal = [
      full.Name!,
      full.CustomerId!,
      full.CustomerEndpoint!.Address!,
      full.CustomerEndpoint!.DisplayName!,
      ...Object.values(full.Attributes!).filter((v) => v.length > 4),
      ...full.AdditionalEmailRecipients!.CcList!.map((r) => r.Address!),
      full.Recordings![0]!.Location!,
      pii,
      "forged.token.value",
    ];
    for (const value of personal) expect(lines, `log contains ${value}`).not.toContain(value);
  });
});
