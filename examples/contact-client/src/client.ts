import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { createClient, type Client } from "graphql-sse";

export interface ContactClientOptions {
  /** The gateway's GraphQL endpoint, e.g. `http://localhost:4000/graphql`; subscriptions use `${url}/stream`. */
  url: string;
  /** A bearer token (the gateway's AUTH_MODE=jwt), sent as `Authorization: Bearer …`. */
  token?: string;
}

/** What the gateway answered: the data and, when something failed, the errors (each with `extensions.code`). */
export interface Result<R> {
  data?: R | null;
  errors?: ReadonlyArray<{ message: string; path?: ReadonlyArray<string | number>; extensions?: { code?: string; [key: string]: unknown } }>;
}

/**
 * A client that never sends a GraphQL document: only the hash GraphQL Code Generator's client
 * preset embedded in each generated document (`persistedDocuments: true`), which the gateway looks
 * up in the manifest it was started with (TRUSTED_DOCUMENTS_FILE).
 *
 * Queries go as `POST /graphql {"documentId":"sha256:…","variables":…}` (GraphQL over HTTP's
 * persisted documents). Subscriptions go over GraphQL over SSE, whose protocol requires a `query`
 * string and carries no `documentId`: they send an empty `query` and Apollo's persisted-query
 * extension, `{"persistedQuery":{"version":1,"sha256Hash":"…"}}`, which the gateway also accepts.
 */
export class ContactClient {
  private readonly sse: Client;

  constructor(private readonly options: ContactClientOptions) {
    this.sse = createClient({ url: `${options.url}/stream`, headers: () => this.headers() });
  }

  /** Runs a query by its hash. */
  async execute<R, V extends Record<string, unknown>>(document: TypedDocumentNode<R, V>, variables: V): Promise<Result<R>> {
    const response = await fetch(this.options.url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json", ...this.headers() },
      body: JSON.stringify({ documentId: documentId(document), variables }),
    });
    return (await response.json()) as Result<R>;
  }

  /** Subscribes by hash; each event is one result. Stop with `return()` on the iterator (or `break`). */
  subscribe<R, V extends Record<string, unknown>>(document: TypedDocumentNode<R, V>, variables: V): AsyncIterableIterator<Result<R>> {
    const sha256Hash = documentId(document).replace(/^sha256:/, "");
    return this.sse.iterate({ query: "", variables, extensions: { persistedQuery: { version: 1, sha256Hash } } }) as AsyncIterableIterator<Result<R>>;
  }

  /** Closes the subscription transport. */
  dispose(): void {
    this.sse.dispose();
  }

  private headers(): Record<string, string> {
    return this.options.token ? { authorization: `Bearer ${this.options.token}` } : {};
  }
}

// Private: the id the client preset put on a generated document (`__meta__.hash`, "sha256:<hex>").
function documentId(document: TypedDocumentNode<unknown, never>): string {
  const hash = (document as { __meta__?: { hash?: unknown } }).__meta__?.hash;
  if (typeof hash !== "string") throw new Error("This document has no persisted-document hash: generate it with `npm run codegen` (persistedDocuments: true).");
  return hash;
}
