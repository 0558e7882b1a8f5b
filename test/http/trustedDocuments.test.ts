import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../../src/config/config.js";
import { DEMO } from "../../src/emulator/dataset.js";
import { startEmulator } from "../../src/emulator/emulator.js";
import { TrustedDocumentError, TrustedDocuments } from "../../src/http/trustedDocuments.js";
import { post, rawRequest, send, type HttpAnswer } from "../support/http.js";
import { sampleOf, scrapeMetrics } from "../support/metricsText.js";
import { runGateway } from "../support/processes.js";
import { startStack, type Stack } from "../support/stack.js";

/** The manifest the example front end's `npm run codegen` writes (GraphQL Code Generator's client preset). */
const MANIFEST = fileURLToPath(new URL("../../examples/contact-client/src/gql/persisted-documents.json", import.meta.url));
const manifest = JSON.parse(readFileSync(MANIFEST, "utf8")) as Record<string, string>;

/** The id the client preset gave the operation called `name` ("sha256:<hex>"). */
function idOf(name: string): string {
  const id = Object.keys(manifest).find((key) => new RegExp(`^(?:query|subscription) ${name}\\b`).test(manifest[key]!));
  if (!id) throw new Error(`no operation ${name} in ${MANIFEST}`);
  return id;
}
const CHAIN_ID = idOf("ContactWithTransferChain");
const CHAIN_HEX = CHAIN_ID.replace(/^sha256:/, "");
const CHAIN_DOCUMENT = manifest[CHAIN_ID]!;
const chainVariables = { instanceId: DEMO.instanceId, contactId: DEMO.longChainTailId };
const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
/** Every contact is read from Connect, so each request's DescribeContact count is exact. */
const FRESH = { "cache-control": "no-cache" };
/** A GET Apollo's CSRF prevention lets through. */
const GET_HEADERS = { ...FRESH, "apollo-require-preflight": "true", accept: "application/graphql-response+json, application/json" };
/** Settings of every gateway here: a quota that never makes a test wait (each request reads a whole chain). */
const ENV = { CONNECT_MAX_RPS: "1000", CONNECT_BURST: "1000" };

function get(stack: Stack, params: Record<string, unknown>): Promise<HttpAnswer> {
  const search = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  return send(`${stack.url}?${search}`, { headers: GET_HEADERS });
}

function expectChain(answer: HttpAnswer, stack: Stack): void {
  expect(answer.body.errors).toBeUndefined();
  expect(answer.status).toBe(200);
  expect(answer.body.data.contact.id).toBe(DEMO.longChainTailId);
  expect(answer.body.data.contact.transferChain).toHaveLength(DEMO.longChainLength);
  // One DescribeContact per contact of the chain, the contact itself included.
  expect(stack.describeContactCalls()).toBe(DEMO.longChainLength);
}

function expectRefused(answer: HttpAnswer, stack: Stack, status: number, code: string): void {
  expect(answer.status).toBe(status);
  expect(answer.body.data).toBeUndefined();
  expect(answer.body.errors).toHaveLength(1);
  expect(answer.body.errors[0].extensions.code).toBe(code);
  expect(stack.emulator.calls.total).toBe(0);
}

describe("a gateway with TRUSTED_DOCUMENTS_FILE", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { ...ENV, TRUSTED_DOCUMENTS_FILE: MANIFEST } });
  });
  afterAll(() => stack?.close());

  it("loads the example client's manifest: its three operations, under the client preset's sha256: ids", () => {
    expect(stack.config.TRUSTED_DOCUMENTS_FILE).toBe(MANIFEST);
    expect(TrustedDocuments.fromFile(MANIFEST).size).toBe(3);
    for (const id of Object.keys(manifest)) expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  describe("runs a listed document by its hash", () => {
    it("as a POSTed documentId", async () => {
      stack.resetCalls();
      expectChain(await post(stack.url, { documentId: CHAIN_ID, variables: chainVariables }, FRESH), stack);
    });

    it("as a POSTed documentId without the sha256: prefix", async () => {
      stack.resetCalls();
      expectChain(await post(stack.url, { documentId: CHAIN_HEX, variables: chainVariables }, FRESH), stack);
    });

    it("as a POSTed persisted-query extension", async () => {
      stack.resetCalls();
      const extensions = { persistedQuery: { version: 1, sha256Hash: CHAIN_HEX } };
      expectChain(await post(stack.url, { extensions, variables: chainVariables }, FRESH), stack);
    });

    it("as a documentId in a GET", async () => {
      stack.resetCalls();
      expectChain(await get(stack, { documentId: CHAIN_ID, variables: chainVariables }), stack);
    });

    it("as a persisted-query extension in a GET", async () => {
      stack.resetCalls();
      expectChain(await get(stack, { extensions: { persistedQuery: { version: 1, sha256Hash: CHAIN_HEX } }, variables: chainVariables }), stack);
    });

    it("with its own document as `query` too (Apollo's clients send both after a miss)", async () => {
      stack.resetCalls();
      const extensions = { persistedQuery: { version: 1, sha256Hash: CHAIN_HEX } };
      expectChain(await post(stack.url, { query: CHAIN_DOCUMENT, extensions, variables: chainVariables }, FRESH), stack);
    });

    it("keeps the request's other extensions and operationName", async () => {
      stack.resetCalls();
      const extensions = { persistedQuery: { version: 1, sha256Hash: CHAIN_HEX }, client: "contact-client" };
      expectChain(await post(stack.url, { extensions, operationName: "ContactWithTransferChain", variables: chainVariables }, FRESH), stack);
    });
  });

  describe("refuses anything else before parsing, with no upstream call", () => {
    it("a raw query: TRUSTED_DOCUMENT_REQUIRED, 400, over POST and GET", async () => {
      stack.resetCalls();
      const query = `{ contact(instanceId: "${DEMO.instanceId}", contactId: "${DEMO.longChainTailId}") { id } }`;
      expectRefused(await post(stack.url, { query }, FRESH), stack, 400, "TRUSTED_DOCUMENT_REQUIRED");
      expectRefused(await get(stack, { query }), stack, 400, "TRUSTED_DOCUMENT_REQUIRED");
    });

    it("a raw query with an `Upgrade: websocket` header that is no WebSocket upgrade: refused all the same, over POST and GET", async () => {
      stack.resetCalls();
      const query = `{ contact(instanceId: "${DEMO.instanceId}", contactId: "${DEMO.longChainTailId}") { id name } }`;
      const body = JSON.stringify({ query });
      const json = { "content-type": "application/json", "cache-control": "no-cache" };
      const path = new URL(stack.url).pathname;
      // The header alone: an ordinary request, which the hooks once took for a WebSocket upgrade.
      expectRefused(await rawRequest(stack.url, "POST", path, { ...json, upgrade: "websocket" }, body), stack, 400, "TRUSTED_DOCUMENT_REQUIRED");
      expectRefused(await rawRequest(stack.url, "GET", `${path}?${new URLSearchParams({ query })}`, { ...GET_HEADERS, upgrade: "websocket" }), stack, 400, "TRUSTED_DOCUMENT_REQUIRED");
      // A real upgrade, but of a POST: not the WebSocket transport's, so the hooks apply to it too;
      // what follows an upgrade's head is not its body, so it is refused as a request without one.
      expectRefused(await rawRequest(stack.url, "POST", path, { ...json, upgrade: "websocket", connection: "Upgrade" }, body), stack, 400, "BAD_REQUEST");
    });

    it("counts each refusal as an operation with its error code, under the name anonymous whatever name it sent", async () => {
      const counted = async () => {
        const text = await scrapeMetrics(stack.url);
        return {
          required: sampleOf(text, "graphql_errors_total", { code: "TRUSTED_DOCUMENT_REQUIRED" }) ?? 0,
          anonymous: sampleOf(text, "graphql_operations_total", { operation: "anonymous", outcome: "error" }) ?? 0,
          named: /operation="Sneaky"/.test(text),
        };
      };
      const before = await counted();
      const query = `query Sneaky { contact(instanceId: "${DEMO.instanceId}", contactId: "${DEMO.longChainTailId}") { id } }`;
      expectRefused(await post(stack.url, { query, operationName: "Sneaky" }, FRESH), stack, 400, "TRUSTED_DOCUMENT_REQUIRED");
      expectRefused(await get(stack, { query, operationName: "Sneaky" }), stack, 400, "TRUSTED_DOCUMENT_REQUIRED");
      expect(await counted()).toEqual({ required: before.required + 2, anonymous: before.anonymous + 2, named: false });
    });

    it("never takes an operation label from a name the request sent for an operation its document does not hold, or with an unknown hash", async () => {
      stack.resetCalls();
      const unknown = `sha256:${sha256("query Unknown { __typename }")}`;
      const answers = [
        await post(stack.url, { documentId: CHAIN_ID, variables: chainVariables, operationName: "Invented0" }, FRESH),
        await post(stack.url, { documentId: CHAIN_ID, variables: chainVariables, operationName: "Invented1" }, FRESH),
        await post(stack.url, { documentId: unknown, operationName: "Invented2" }, FRESH),
      ];
      expect(answers.map((a) => [a.status, a.body.errors?.[0]?.extensions?.code])).toEqual([
        [400, "OPERATION_RESOLUTION_FAILURE"],
        [400, "OPERATION_RESOLUTION_FAILURE"],
        [404, "PERSISTED_QUERY_NOT_FOUND"],
      ]);
      expect(stack.emulator.calls.total).toBe(0);
      const text = await scrapeMetrics(stack.url);
      expect(text).not.toMatch(/operation="Invented\d"/);
      // The document's own name is still the label of the operations it runs.
      expectChain(await post(stack.url, { documentId: CHAIN_ID, variables: chainVariables, operationName: "ContactWithTransferChain" }, FRESH), stack);
      expect(sampleOf(await scrapeMetrics(stack.url), "graphql_operations_total", { operation: "ContactWithTransferChain", outcome: "ok" })).toBeGreaterThan(0);
    });

    it("a raw query that is word for word a listed document: TRUSTED_DOCUMENT_REQUIRED, 400", async () => {
      stack.resetCalls();
      expectRefused(await post(stack.url, { query: CHAIN_DOCUMENT, variables: chainVariables }, FRESH), stack, 400, "TRUSTED_DOCUMENT_REQUIRED");
    });

    it("a syntax error or an introspection query: TRUSTED_DOCUMENT_REQUIRED, not a parse or validation error", async () => {
      stack.resetCalls();
      expectRefused(await post(stack.url, { query: "{ contact(" }, FRESH), stack, 400, "TRUSTED_DOCUMENT_REQUIRED");
      expectRefused(await post(stack.url, { query: "{ __schema { types { name } } }" }, FRESH), stack, 400, "TRUSTED_DOCUMENT_REQUIRED");
    });

    it("a body with no operation at all: TRUSTED_DOCUMENT_REQUIRED, 400", async () => {
      stack.resetCalls();
      expectRefused(await post(stack.url, { variables: chainVariables }, FRESH), stack, 400, "TRUSTED_DOCUMENT_REQUIRED");
    });

    it("an unknown hash: PERSISTED_QUERY_NOT_FOUND, 404, not cacheable, as documentId and as extension, over POST and GET", async () => {
      stack.resetCalls();
      const unknown = sha256("query Unknown { __typename }");
      const extensions = { persistedQuery: { version: 1, sha256Hash: unknown } };
      const answers = [
        await post(stack.url, { documentId: `sha256:${unknown}` }, FRESH),
        await post(stack.url, { extensions }, FRESH),
        await get(stack, { documentId: `sha256:${unknown}` }),
        await get(stack, { extensions }),
        // Not a sha256 id at all (another prefix, an MD5): no document has it either.
        await post(stack.url, { documentId: "x-relay:0123456789abcdef0123456789abcdef" }, FRESH),
      ];
      for (const answer of answers) {
        expectRefused(answer, stack, 404, "PERSISTED_QUERY_NOT_FOUND");
        expect(answer.headers.get("cache-control")).toBe("no-store");
      }
    });

    it("a listed hash sent with a query that is not its document: TRUSTED_DOCUMENT_MISMATCH, 400", async () => {
      stack.resetCalls();
      const query = `{ contacts(instanceId: "${DEMO.instanceId}", contactIds: ["${DEMO.longChainTailId}"]) { id } }`;
      expectRefused(await post(stack.url, { query, documentId: CHAIN_ID }, FRESH), stack, 400, "TRUSTED_DOCUMENT_MISMATCH");
      expectRefused(await get(stack, { query, extensions: { persistedQuery: { version: 1, sha256Hash: CHAIN_HEX } } }), stack, 400, "TRUSTED_DOCUMENT_MISMATCH");
    });

    it("malformed ids: BAD_REQUEST, 400", async () => {
      stack.resetCalls();
      const other = idOf("RecentContacts").replace(/^sha256:/, "");
      const bodies = [
        { documentId: 42 },
        { extensions: { persistedQuery: { version: 2, sha256Hash: CHAIN_HEX } } },
        { extensions: { persistedQuery: { version: 1 } } },
        { documentId: CHAIN_ID, extensions: { persistedQuery: { version: 1, sha256Hash: other } } },
      ];
      for (const body of bodies) expectRefused(await post(stack.url, { ...body, variables: chainVariables }, FRESH), stack, 400, "BAD_REQUEST");
      expectRefused(await send(`${stack.url}?documentId=${CHAIN_ID}&documentId=${CHAIN_ID}`, { headers: GET_HEADERS }), stack, 400, "BAD_REQUEST");
      expectRefused(await send(`${stack.url}?extensions=%7Bnot-json`, { headers: GET_HEADERS }), stack, 400, "BAD_REQUEST");
    });

    it("registers no automatic persisted query: a query sent with its own hash is still unknown afterwards", async () => {
      stack.resetCalls();
      const query = `{ contact(instanceId: "${DEMO.instanceId}", contactId: "${DEMO.longChainTailId}") { id } }`;
      const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
      expectRefused(await post(stack.url, { query, extensions }, FRESH), stack, 404, "PERSISTED_QUERY_NOT_FOUND");
      expectRefused(await post(stack.url, { extensions }, FRESH), stack, 404, "PERSISTED_QUERY_NOT_FOUND");
    });
  });

  it("still serves the GraphiQL page (a GET for HTML with no operation)", async () => {
    const page = await send(stack.url, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
  });
});

describe("a gateway with TRUSTED_DOCUMENTS_FILE and HTTP_BATCHING", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { ...ENV, TRUSTED_DOCUMENTS_FILE: MANIFEST, HTTP_BATCHING: "true" } });
  });
  afterAll(() => stack?.close());

  it("runs a batch of listed documents", async () => {
    stack.resetCalls();
    const answer = await post(stack.url, [{ documentId: CHAIN_ID, variables: chainVariables }, { documentId: CHAIN_ID, variables: chainVariables }], FRESH);
    expect(answer.status).toBe(200);
    expect(answer.body).toHaveLength(2);
    for (const result of answer.body) expect(result.data.contact.transferChain).toHaveLength(DEMO.longChainLength);
  });

  it("refuses the whole batch when one operation is not a listed document, with no upstream call", async () => {
    stack.resetCalls();
    const query = `{ contact(instanceId: "${DEMO.instanceId}", contactId: "${DEMO.longChainTailId}") { id } }`;
    const answer = await post(stack.url, [{ documentId: CHAIN_ID, variables: chainVariables }, { query }], FRESH);
    expectRefused(answer, stack, 400, "TRUSTED_DOCUMENT_REQUIRED");
  });
});

describe("a gateway with TRUSTED_DOCUMENTS_FILE and AUTH_MODE=jwt", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { ...ENV, TRUSTED_DOCUMENTS_FILE: MANIFEST, AUTH_MODE: "jwt", AUTH_JWT_SECRET: "a-secret-of-at-least-32-characters!!" } });
  });
  afterAll(() => stack?.close());

  it("authenticates first: no token is 401 UNAUTHENTICATED, whether the document is listed or not", async () => {
    stack.resetCalls();
    expectRefused(await post(stack.url, { documentId: CHAIN_ID, variables: chainVariables }, FRESH), stack, 401, "UNAUTHENTICATED");
    expectRefused(await post(stack.url, { documentId: `sha256:${sha256("unknown")}` }, FRESH), stack, 401, "UNAUTHENTICATED");
  });
});

describe("a manifest that does not verify", () => {
  const dir = mkdtempSync(join(tmpdir(), "trusted-documents-"));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  const wrongHash = file("wrong-hash.json", JSON.stringify({ ...manifest, [CHAIN_ID]: CHAIN_DOCUMENT.replace("channel", "name") }));

  it("stops start-up when a hash is not its document's: a ConfigError naming the setting and the id", async () => {
    const emulator = await startEmulator({ quota: false });
    try {
      const start = startStack({ sharedEmulator: emulator, env: { TRUSTED_DOCUMENTS_FILE: wrongHash } });
      await expect(start).rejects.toThrow(ConfigError);
      await expect(start).rejects.toThrow(new RegExp(`^TRUSTED_DOCUMENTS_FILE=.*wrong-hash\\.json lists "${CHAIN_ID}", but its document's sha256 hash is [0-9a-f]{64}`));
      expect(emulator.calls.total).toBe(0);
    } finally {
      await emulator.close();
    }
  });

  it("exits the process with code 2 and one line", async () => {
    const { code, stdout, stderr } = await runGateway([], { PORT: "0", CONNECT_MODE: "aws", AWS_REGION: "eu-west-2", AUTH_MODE: "none", TRUSTED_DOCUMENTS_FILE: wrongHash });
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(/^connect-graphql: TRUSTED_DOCUMENTS_FILE=.*wrong-hash\.json lists /);
    expect(stdout).not.toContain("listening");
  });

  it("is refused when unreadable, not JSON, not a map of documents by hash, empty, or holding a document that is not GraphQL", () => {
    const broken = "query Broken { contact(";
    const cases: Array<[string, RegExp]> = [
      [join(dir, "missing.json"), /missing\.json cannot be read \(ENOENT/],
      [file("not-json.json", "{ nope"), /not-json\.json is not JSON/],
      [file("list.json", JSON.stringify([CHAIN_DOCUMENT])), /list\.json is not a JSON object of documents by hash/],
      [file("names.json", JSON.stringify({ ContactWithTransferChain: CHAIN_DOCUMENT })), /names\.json lists the id "ContactWithTransferChain", which is not a sha256 hash/],
      [file("no-document.json", JSON.stringify({ [CHAIN_ID]: "" })), /no-document\.json lists "sha256:[0-9a-f]{64}" without a document/],
      [file("empty.json", "{}"), /empty\.json lists no documents/],
      [file("broken.json", JSON.stringify({ [sha256(broken)]: broken })), /broken\.json lists "[0-9a-f]{64}", whose document is not GraphQL \(Syntax Error/],
    ];
    for (const [path, message] of cases) {
      expect(() => TrustedDocuments.fromFile(path), path).toThrow(ConfigError);
      expect(() => TrustedDocuments.fromFile(path), path).toThrow(message);
    }
  });

  it("accepts Apollo's persisted query manifest format, with the same verification", () => {
    const apollo = (body: string, id = sha256(body)) => ({ format: "apollo-persisted-query-manifest", version: 1, operations: [{ id, name: "ContactWithTransferChain", type: "query", body }] });
    const documents = TrustedDocuments.fromFile(file("apollo.json", JSON.stringify(apollo(CHAIN_DOCUMENT))));
    expect(documents.resolve({ documentId: CHAIN_ID })).toBe(CHAIN_DOCUMENT);
    expect(() => TrustedDocuments.fromFile(file("apollo-wrong.json", JSON.stringify(apollo(CHAIN_DOCUMENT, sha256("other")))))).toThrow(/document's sha256 hash is/);
  });
});

describe("TrustedDocuments.resolve, as the subscription transports call it", () => {
  const documents = TrustedDocuments.fromFile(MANIFEST);
  const LIVE_ID = idOf("LiveContactEvents");

  it("finds the document of graphql-sse and graphql-ws requests, which always carry a `query` string (empty here)", () => {
    const sha256Hash = LIVE_ID.replace(/^sha256:/, "");
    expect(documents.resolve({ query: "", extensions: { persistedQuery: { version: 1, sha256Hash } } })).toBe(manifest[LIVE_ID]);
    expect(documents.resolve({ query: "", documentId: LIVE_ID })).toBe(manifest[LIVE_ID]);
  });

  it("refuses a subscription sent as a raw query, with TRUSTED_DOCUMENT_REQUIRED", () => {
    const refused = documents.resolve({ query: `subscription { contactEvents(instanceId: "${DEMO.instanceId}") { eventId } }` });
    expect(refused).toBeInstanceOf(TrustedDocumentError);
    expect((refused as TrustedDocumentError).extensions.code).toBe("TRUSTED_DOCUMENT_REQUIRED");
    expect((refused as TrustedDocumentError).toJSON()).toEqual({ message: expect.any(String), extensions: { code: "TRUSTED_DOCUMENT_REQUIRED" } });
  });
});

describe("a gateway without TRUSTED_DOCUMENTS_FILE", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: ENV });
  });
  afterAll(() => stack?.close());

  it("runs raw queries as before", async () => {
    stack.resetCalls();
    expectChain(await post(stack.url, { query: CHAIN_DOCUMENT, variables: chainVariables }, FRESH), stack);
  });

  it("keeps Apollo's automatic persisted queries: unknown hash (200), registration with the query, then the hash alone", async () => {
    stack.resetCalls();
    const extensions = { persistedQuery: { version: 1, sha256Hash: CHAIN_HEX } };
    const miss = await post(stack.url, { extensions, variables: chainVariables }, FRESH);
    expect(miss.status).toBe(200);
    expect(miss.body.errors[0].extensions.code).toBe("PERSISTED_QUERY_NOT_FOUND");
    expectChain(await post(stack.url, { query: CHAIN_DOCUMENT, extensions, variables: chainVariables }, FRESH), stack);
    stack.resetCalls();
    expectChain(await post(stack.url, { extensions, variables: chainVariables }, FRESH), stack);
  });
});
