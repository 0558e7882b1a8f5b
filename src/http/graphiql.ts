import { createHash } from "node:crypto";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import type { ApolloServerPlugin } from "@apollo/server";
import type { FastifyInstance } from "fastify";
import type { Config } from "../config/config.js";

/**
 * GraphiQL at `GET /graphql` for browsers, served entirely by the gateway.
 *
 * Apollo's default landing page loads its code from Apollo's CDN, so on a closed network it is a
 * blank page. `@graphql-yoga/render-graphiql` renders one self-contained HTML document: GraphiQL 5,
 * React, the Monaco editor and its three web workers (as blob URLs) are inlined, so the browser
 * requests nothing but the page itself and `POST /graphql`. It is the same page GraphQL Yoga serves,
 * maintained by The Guild; bundling `graphiql` ourselves would mean a build step for React and
 * Monaco's workers to produce the same thing. The page is about 9 MB: it is rendered once, on the
 * first visit, and the module holding it is only imported when GraphiQL is enabled;
 * `compressGraphiQL` sends it gzip-compressed (2.4 MB) with an ETag.
 */

/**
 * The operations the page opens with, one tab each (in a fresh browser; GraphiQL remembers edits in
 * localStorage): a query, and a subscription to watch contacts live.
 */
export interface ExampleOperation {
  query: string;
  variables: Record<string, unknown>;
  /** The live-contacts subscription of the second tab (same variables but the contact id). */
  subscription: string;
  /** Initial content of the headers editor. */
  headers: Record<string, string>;
}

export interface GraphiQLOptions {
  /** Where the page is served and sends queries; subscriptions go to `{path}/stream`. Default `/graphql`. */
  path?: string;
  example: ExampleOperation;
  /** Open the headers editor on load (when a bearer token is needed). Default false. */
  showHeaders?: boolean;
  /** Page title. Default `connect-graphql`. */
  title?: string;
}

/**
 * An Apollo landing-page plugin serving GraphiQL. `createGateway` omits Apollo's own (disabled)
 * landing page when a plugin with `renderLandingPage` is passed.
 */
export function graphiqlLandingPage(options: GraphiQLOptions): ApolloServerPlugin {
  let html: Promise<string> | undefined;
  return {
    async serverWillStart() {
      return {
        async renderLandingPage() {
          return { html: () => (html ??= renderPage(options)) };
        },
      };
    },
  };
}

/** Ids the example opens with: in emulator mode the emulator's demo chain (`main.ts` passes them). */
export interface ExampleIds {
  readonly instanceId: string;
  readonly contactId: string;
}

/**
 * The example for this configuration: a contact with its transfer chain (`previousContact` two hops
 * back and `initialContact`), on `ids` (the emulator's 12-contact chain in emulator mode) or on
 * placeholders. With bearer-token authentication the headers editor starts with an `Authorization`
 * header to complete; tokens are never persisted by the page.
 */
export function exampleOperation(config: Pick<Config, "AUTH_MODE">, ids?: ExampleIds): ExampleOperation {
  return {
    query: EXAMPLE_QUERY,
    subscription: EXAMPLE_SUBSCRIPTION,
    variables: {
      instanceId: ids?.instanceId ?? "your-instance-id",
      contactId: ids?.contactId ?? "your-contact-id",
    },
    headers: config.AUTH_MODE === "jwt" ? { Authorization: "Bearer <your token>" } : {},
  };
}

const EXAMPLE_QUERY = `# A contact and its transfer chain:
# previousContact goes back one transfer,
# initialContact to the first contact.
# queueInfo.queue joins the queue (DescribeQueue).
# Each distinct contact is one DescribeContact
# call per request, however often it is named.
# Run: the pink button or Ctrl+Enter.
# Docs: the book icon on the left.
query ContactWithTransferChain($instanceId: ID!, $contactId: ID!) {
  contact(instanceId: $instanceId, contactId: $contactId) {
    id
    channel
    initiationMethod
    initiationTimestamp
    disconnectTimestamp
    queueInfo {
      id
      queue {
        name
      }
    }
    previousContact {
      id
      initiationMethod
      previousContact {
        id
        initiationMethod
      }
    }
    initialContact {
      id
      initiationMethod
      initiationTimestamp
    }
  }
}
`;

const EXAMPLE_SUBSCRIPTION = `# Live contacts: every contact event of the instance
# as it happens (the emulator plays a few contacts a
# minute: they start, queue, reach an agent, get
# transferred and end). Each event carries the contact
# as it was right after it: one DescribeContact per
# event, however many people watch.
# Run it, then wait: events appear as they arrive.
subscription LiveContacts($instanceId: ID!) {
  contactEvents(instanceId: $instanceId) {
    eventType
    timestamp
    contactId
    contact {
      channel
      initiationMethod
      queueInfo {
        queue {
          name
        }
      }
      agentInfo {
        id
      }
      previousContact {
        id
        initiationMethod
      }
      disconnectTimestamp
    }
  }
}
`;

// Private: the page, with the examples as GraphiQL's default tabs.
async function renderPage(options: GraphiQLOptions): Promise<string> {
  const { renderGraphiQL } = await import("@graphql-yoga/render-graphiql");
  const { example } = options;
  const headers = JSON.stringify(example.headers, null, 2);
  const { contactId: _contactId, ...subscriptionVariables } = example.variables;
  return renderGraphiQL({
    title: options.title ?? "connect-graphql",
    // No `endpoint`: the page is served at it and defaults to its own path. (Given, the page's
    // option spread would also override the subscriptions endpoint below with it.)
    defaultQuery: example.query,
    defaultTabs: [
      { query: example.query, variables: JSON.stringify(example.variables, null, 2), headers },
      { query: example.subscription, variables: JSON.stringify(subscriptionVariables, null, 2), headers },
    ],
    // Yoga's page hands `variables` to GraphiQL as the variables editor's initial content; its
    // option type does not list it.
    ...{ variables: JSON.stringify(example.variables, null, 2) },
    headers,
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: options.showHeaders ? "headers" : "variables",
    // Queries over plain POST; subscriptions over GraphQL over SSE at `/graphql/stream`, which
    // sends the headers editor's Authorization like any request (a WebSocket could not).
    method: "POST",
    subscriptionsProtocol: "GRAPHQL_SSE",
    // The page would otherwise send subscriptions to its own path (its option type omits this).
    ...{ subscriptionsEndpoint: `${options.path ?? "/graphql"}/stream` },
    schemaDescription: true,
  });
}

/**
 * Fastify hook for the GraphiQL page on `path`: its security headers (`graphiqlPageHeaders`), gzip
 * for browsers that accept it (9 MB of HTML become 2.4 MB, compressed once, off the event loop), and
 * an ETag with `Cache-Control: no-cache`, so a reload costs a 304 rather than the page. GraphQL
 * responses are left alone: none of these headers is sent with them.
 */
export function compressGraphiQL(app: FastifyInstance, path = "/graphql"): void {
  let page: { html: string; etag: string; headers: Record<string, string>; gzipped: Promise<Buffer> } | undefined;
  // Callback-style: every response of its scope passes this hook, and all but the page at once.
  app.addHook("onSend", (request, reply, payload, done) => {
    if (request.method !== "GET" || request.routeOptions.url !== path || typeof payload !== "string") return done(null, payload);
    if (!String(reply.getHeader("content-type") ?? "").startsWith("text/html")) return done(null, payload);
    if (page?.html !== payload) {
      page = { html: payload, etag: `"${createHash("sha256").update(payload).digest("base64url")}"`, headers: graphiqlPageHeaders(payload), gzipped: gzipAsync(payload) };
    }
    reply.headers(page.headers);
    reply.header("etag", page.etag).header("cache-control", "no-cache").header("vary", "accept-encoding");
    if (request.headers["if-none-match"] === page.etag) {
      reply.code(304);
      return done(null, "");
    }
    if (!/\bgzip\b/.test(request.headers["accept-encoding"] ?? "")) return done(null, payload);
    reply.header("content-encoding", "gzip");
    page.gzipped.then((gzipped) => done(null, gzipped), done);
  });
}

const gzipAsync = promisify(gzip);

/**
 * The headers sent with the page `html` (and its 304s), never with GraphQL responses. Users paste
 * bearer tokens into this page, so no other site may frame it (clickjacking), and it may run only
 * its own inline script and talk only to the gateway:
 *
 * - `default-src 'none'`: anything not named below (frames, objects, media, manifests) is refused;
 *   the page uses none of it.
 * - `script-src 'sha256-…'`: only the page's inline script(s), by hash. The page is one fixed
 *   document per process (rendered once), so its scripts are hashed when it is first sent, with the
 *   ETag; no `'unsafe-inline'`, no `'self'` (the page loads no script file), no `'unsafe-eval'`
 *   (nothing in GraphiQL, React or Monaco evaluates strings: the browser suite runs the page under
 *   this policy and fails on any violation).
 * - `worker-src blob:`: Monaco's three web workers (editor, JSON, GraphQL language service) are
 *   inlined in the page and started from blob: URLs (`prepareBlob` in the page); without it they
 *   fall back to the main thread. Blob workers inherit this policy.
 * - `style-src 'unsafe-inline'`: the page's inline stylesheet, and the `<style>` elements and
 *   `style` attributes React and Monaco write at run time, which no hash can name.
 * - `img-src data:`, `font-src data:`: the favicon and every font (GraphiQL's Roboto and Fira Code,
 *   Monaco's codicons) are data: URLs in the page.
 * - `connect-src 'self'`: `POST /graphql`, `/graphql/stream` (SSE) and, should the page use it, a
 *   WebSocket to `/graphql` (CSP 3 lets `'self'` match ws:/wss: on the page's host and port).
 * - `frame-ancestors 'none'` (and `X-Frame-Options: DENY` for browsers without it): never framed.
 * - `base-uri 'none'`, `form-action 'none'`: no `<base>` redirecting relative URLs, no form posts.
 *
 * `nosniff`: the page is read as the HTML it is declared as, never sniffed. `no-referrer`: GraphiQL
 * writes the open operation into the page's URL (`?query=…`), which a link followed from the docs
 * pane would otherwise send to another site.
 *
 * The browser suite (test/browser/explorer.browser.test.ts) runs a query and a subscription under
 * this policy and fails on any violation, by the page or its workers.
 */
function graphiqlPageHeaders(html: string): Record<string, string> {
  const scripts = [...html.matchAll(INLINE_SCRIPT)].filter(([, attributes]) => !/\bsrc\s*=/i.test(attributes!));
  const hashes = scripts.map(([, , text]) => `'sha256-${createHash("sha256").update(text!).digest("base64")}'`);
  const policy = [
    "default-src 'none'",
    `script-src ${hashes.length > 0 ? hashes.join(" ") : "'none'"}`,
    "worker-src blob:",
    "style-src 'unsafe-inline'",
    "img-src data:",
    "font-src data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  return {
    "content-security-policy": policy,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  };
}

// A script element and its text as the HTML parser sees them: up to the first `</script` (the
// page's code writes it as `<\/script>` inside strings, as it must). Its hash is over that text.
const INLINE_SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script[\s/>]/gi;
