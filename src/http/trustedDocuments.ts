import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GraphQLError, parse } from "graphql";
import type { Logger } from "pino";
import { ConfigError } from "../config/config.js";
import { ErrorCode } from "../domain/errors.js";
import type { GatewayMetrics } from "../observability/metrics.js";
import { isWebSocketUpgrade } from "./authentication.js";

/** The parameters of one operation that can name a trusted document, on every transport. */
export interface OperationRequest {
  readonly query?: unknown;
  /** GraphQL over HTTP's persisted documents: `sha256:<hex>` (or the bare hex). */
  readonly documentId?: unknown;
  /** Apollo's persisted-query extension: `{ persistedQuery: { version: 1, sha256Hash: <hex> } }`. */
  readonly extensions?: unknown;
}

/** A request refused because it does not run a trusted document: a GraphQL error with its HTTP status. */
export class TrustedDocumentError extends GraphQLError {
  constructor(
    readonly status: 400 | 404,
    code: ErrorCode,
    message: string,
  ) {
    super(message, { extensions: { code } });
  }
}

/**
 * The operations a gateway started with `TRUSTED_DOCUMENTS_FILE` runs, and nothing else: the
 * documents of a manifest, each under the sha256 hash of its text. The manifest is the one GraphQL
 * Code Generator's client preset writes with `persistedDocuments: true` (`persisted-documents.json`,
 * `{ "sha256:<hex>": "<document>" }`; bare hex keys, as older presets wrote, are accepted too) or
 * Apollo's persisted query manifest (`{ "format": "apollo-persisted-query-manifest", "version": 1,
 * "operations": [{ "id", "body" }] }`). Every hash is checked against its document at start-up.
 *
 * A client names a document by `documentId` (GraphQL over HTTP's persisted documents, `sha256:<hex>`
 * as the preset embeds it, or the bare hex) or by Apollo's persisted-query extension
 * (`sha256Hash`, bare hex). A `query` may come along only if it is that very document (Apollo's
 * clients send both after a miss); a `query` alone is refused, whatever it says, so a trusted
 * gateway never parses a document it was not built with.
 */
export class TrustedDocuments {
  private constructor(private readonly byHash: ReadonlyMap<string, string>) {}

  /** Reads and verifies the manifest at `file`; a `ConfigError` naming TRUSTED_DOCUMENTS_FILE if it is unreadable, malformed or a hash is wrong. */
  static fromFile(file: string): TrustedDocuments {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      throw manifestError(file, `cannot be read (${oneLine(error)})`);
    }
    let manifest: unknown;
    try {
      manifest = JSON.parse(text);
    } catch (error) {
      throw manifestError(file, `is not JSON (${oneLine(error)})`);
    }
    return TrustedDocuments.fromManifest(manifest, file);
  }

  /** Verifies a parsed manifest (`file` names it in errors); see `fromFile`. */
  static fromManifest(manifest: unknown, file: string): TrustedDocuments {
    const byHash = new Map<string, string>();
    for (const [id, document] of manifestEntries(manifest, file)) {
      const hash = hashOf(id);
      if (hash === undefined) throw manifestError(file, `lists the id ${JSON.stringify(id)}, which is not a sha256 hash ("sha256:" and 64 hexadecimal digits)`);
      if (typeof document !== "string" || document.trim() === "") throw manifestError(file, `lists ${JSON.stringify(id)} without a document`);
      const actual = sha256(document);
      if (actual !== hash) {
        throw manifestError(file, `lists ${JSON.stringify(id)}, but its document's sha256 hash is ${actual}: the manifest was edited or is stale; regenerate it`);
      }
      try {
        parse(document, { noLocation: true });
      } catch (error) {
        throw manifestError(file, `lists ${JSON.stringify(id)}, whose document is not GraphQL (${oneLine(error)})`);
      }
      byHash.set(hash, document);
    }
    if (byHash.size === 0) throw manifestError(file, "lists no documents, so every operation would be refused");
    return new TrustedDocuments(byHash);
  }

  /** How many documents are trusted. */
  get size(): number {
    return this.byHash.size;
  }

  /**
   * The trusted document `request` names, or why it is refused: TRUSTED_DOCUMENT_REQUIRED (400) for
   * no id, PERSISTED_QUERY_NOT_FOUND (404) for an id not in the manifest, TRUSTED_DOCUMENT_MISMATCH
   * (400) for an id sent with a `query` that is not its document, BAD_REQUEST (400) for malformed
   * ids. An empty `query` counts as none: graphql-ws and graphql-sse insist on a `query` string.
   * Nothing is parsed.
   */
  resolve(request: OperationRequest): string | TrustedDocumentError {
    const query = typeof request.query === "string" && request.query !== "" ? request.query : undefined;
    const ids: string[] = [];
    if (request.documentId !== undefined && request.documentId !== null) {
      if (typeof request.documentId !== "string") return badRequest("`documentId` must be a string.");
      ids.push(request.documentId);
    }
    const persisted = isRecord(request.extensions) ? request.extensions.persistedQuery : undefined;
    if (persisted !== undefined && persisted !== null) {
      if (!isRecord(persisted) || persisted.version !== 1) return badRequest("Unsupported persisted query version: send `extensions.persistedQuery.version` 1.");
      if (typeof persisted.sha256Hash !== "string") return badRequest("`extensions.persistedQuery.sha256Hash` must be a string.");
      ids.push(persisted.sha256Hash);
    }
    if (ids.length === 0) {
      return new TrustedDocumentError(
        400,
        ErrorCode.TRUSTED_DOCUMENT_REQUIRED,
        query === undefined
          ? "Send the `documentId` of a trusted document (or Apollo's persisted-query extension)."
          : "This gateway runs only trusted documents: send the document's `documentId` (or Apollo's persisted-query extension) instead of `query`.",
      );
    }
    const hashes = ids.map(hashOf);
    if (hashes.length === 2 && hashes[0] !== hashes[1]) return badRequest("`documentId` and `extensions.persistedQuery.sha256Hash` name different documents.");
    const document = hashes[0] === undefined ? undefined : this.byHash.get(hashes[0]);
    if (document === undefined) return new TrustedDocumentError(404, ErrorCode.PERSISTED_QUERY_NOT_FOUND, "No trusted document has this id.");
    if (query !== undefined && query !== document) {
      return new TrustedDocumentError(400, ErrorCode.TRUSTED_DOCUMENT_MISMATCH, "The `query` sent is not the trusted document its id names; send the id alone.");
    }
    return document;
  }
}

/**
 * Lets only trusted documents through `path` (GET and POST): a Fastify `preValidation` hook, which
 * runs after the body is parsed and before the route's handler, so before Apollo Server sees the
 * request. It puts the named document in `query` (the body's, or the URL's for GET) and removes the
 * id, so Apollo runs an ordinary request; it answers every other request itself with its code and
 * status. A hook rather than an Apollo plugin because Apollo drops `documentId` before plugins run,
 * builds the request's context (loaders, principal) before `requestDidStart`, and cannot be made to
 * skip its automatic persisted queries from a plugin; here a refusal costs no context, no parsing and
 * no upstream call. Batched bodies (HTTP_BATCHING) are refused whole when one operation is.
 * WebSocket upgrades pass: the subscription transports check their operations themselves.
 *
 * A refusal is logged and counted as an operation with outcome `error` and its code
 * (`graphql_operations_total`, `graphql_errors_total`), as the subscription transports count theirs;
 * under the operation name `anonymous`, whatever name the request gave: an untrusted request must not
 * take one of the bounded `operation` label's values.
 */
export function registerTrustedDocuments(app: FastifyInstance, documents: TrustedDocuments, logger: Logger, metrics: Pick<GatewayMetrics, "observeOperation">, path = "/graphql"): void {
  app.addHook("preValidation", async (request, reply) => {
    if (request.routeOptions.url !== path || request.method === "OPTIONS" || isWebSocketUpgrade(request)) return;
    const refusal = request.method === "GET" || request.method === "HEAD" ? substituteInUrl(request, documents) : substituteInBody(request, documents);
    if (refusal) {
      metrics.observeOperation(null, "error", reply.elapsedTime / 1000, [String(refusal.extensions.code)]);
      logger.info({ requestId: request.id, status: refusal.status, code: refusal.extensions.code }, "request refused: not a trusted document");
      return sendRefusal(reply, refusal);
    }
  });
}

// Private: GET carries the operation in the URL, which is what Apollo's Fastify integration reads,
// so the resolved document replaces the id there. A GET with none of the parameters is the GraphiQL
// page or a request Apollo refuses; it is left alone.
function substituteInUrl(request: FastifyRequest, documents: TrustedDocuments): TrustedDocumentError | undefined {
  const url = new URL(request.url, "http://gateway.invalid");
  const params = url.searchParams;
  if (!params.has("query") && !params.has("documentId") && !params.has("extensions")) return undefined;
  for (const name of ["query", "documentId", "extensions"]) {
    if (params.getAll(name).length > 1) return badRequest(`\`${name}\` is given more than once.`);
  }
  let extensions: unknown;
  const extensionsParam = params.get("extensions");
  if (extensionsParam !== null) {
    try {
      extensions = JSON.parse(extensionsParam);
    } catch {
      return badRequest("`extensions` is not JSON.");
    }
  }
  const document = documents.resolve({ query: params.get("query") ?? undefined, documentId: params.get("documentId") ?? undefined, extensions });
  if (document instanceof TrustedDocumentError) return document;
  params.set("query", document);
  params.delete("documentId");
  const rest = withoutPersistedQuery(extensions);
  if (rest === undefined) params.delete("extensions");
  else params.set("extensions", JSON.stringify(rest));
  request.raw.url = `${url.pathname}?${params.toString()}`;
  return undefined;
}

// Private: a POST body is one operation, or a batch of them. A body that is neither (a string, a
// number) is left to Apollo, which refuses it without running anything.
function substituteInBody(request: FastifyRequest, documents: TrustedDocuments): TrustedDocumentError | undefined {
  const operations = Array.isArray(request.body) ? request.body : [request.body];
  const resolved: Array<[Record<string, unknown>, string]> = [];
  for (const operation of operations) {
    if (!isRecord(operation)) {
      if (Array.isArray(request.body)) return badRequest("Every operation of a batch must be an object.");
      return undefined;
    }
    const document = documents.resolve(operation);
    if (document instanceof TrustedDocumentError) return document;
    resolved.push([operation, document]);
  }
  for (const [operation, document] of resolved) {
    operation.query = document;
    delete operation.documentId;
    const rest = withoutPersistedQuery(operation.extensions);
    if (rest === undefined) delete operation.extensions;
    else operation.extensions = rest;
  }
  return undefined;
}

// Private: the id has done its work; Apollo would otherwise look it up in its own (disabled) cache.
function withoutPersistedQuery(extensions: unknown): unknown {
  if (!isRecord(extensions)) return extensions ?? undefined;
  const { persistedQuery: _, ...rest } = extensions;
  return Object.keys(rest).length > 0 ? rest : undefined;
}

function sendRefusal(reply: FastifyReply, error: TrustedDocumentError): FastifyReply {
  // A 404 may be cached by default (RFC 9111); a refusal must not outlive a manifest update.
  return reply
    .code(error.status)
    .header("cache-control", "no-store")
    .type("application/json; charset=utf-8")
    .send({ errors: [error.toJSON()] });
}

// Private: the entries of either manifest format, as [id, document] pairs (not yet checked).
function manifestEntries(manifest: unknown, file: string): Array<[string, unknown]> {
  if (!isRecord(manifest)) throw manifestError(file, 'is not a JSON object of documents by hash ({ "sha256:<hex>": "<document>" })');
  if (manifest.format === "apollo-persisted-query-manifest") {
    if (manifest.version !== 1 || !Array.isArray(manifest.operations)) throw manifestError(file, "is an Apollo persisted query manifest of an unknown version (expected version 1 with `operations`)");
    return manifest.operations.map((operation, i) => {
      if (!isRecord(operation) || typeof operation.id !== "string") throw manifestError(file, `has an operation without an id at operations[${i}]`);
      return [operation.id, operation.body];
    });
  }
  return Object.entries(manifest);
}

/** The lower-case hex sha256 hash an id names (`sha256:<hex>` or `<hex>`), or `undefined` for any other id. */
function hashOf(id: string): string | undefined {
  const match = /^(?:sha256:)?([0-9a-f]{64})$/i.exec(id);
  return match ? match[1]!.toLowerCase() : undefined;
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

function badRequest(message: string): TrustedDocumentError {
  return new TrustedDocumentError(400, ErrorCode.BAD_REQUEST, message);
}

function manifestError(file: string, problem: string): ConfigError {
  return new ConfigError(`TRUSTED_DOCUMENTS_FILE=${file} ${problem}.`);
}

// Private: start-up errors are one line (main.ts prints them as the process's last words).
function oneLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, " ").trim();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
