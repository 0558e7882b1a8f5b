import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Contact } from "@aws-sdk/client-connect";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO, findContact } from "../../src/emulator/dataset.js";
import { exampleOperation } from "../../src/http/graphiql.js";
import { startLiveStack, type LiveStack } from "../support/liveStack.js";
import { startStack } from "../support/stack.js";

/**
 * GraphiQL in a real browser: Debian's Chromium, driven by playwright-core (no browser download).
 * `.ci/run` installs it with `apt-get install -y chromium` where missing. The browser may reach the
 * gateway and nothing else: every request to another origin is recorded and refused, and DNS
 * resolves no name but loopback, so a page needing a CDN would fail here as it would offline.
 * The page runs under the gateway's Content-Security-Policy (src/http/graphiql.ts), and every test
 * fails on any violation of it: a policy too tight for the page shows up here.
 */
const CHROMIUM = "/usr/bin/chromium";
const ARTIFACTS = new URL("../../test-artifacts/", import.meta.url).pathname;

let stack: LiveStack;
let context: BrowserContext;
let page: Page;
let userDataDir: string;
/** Requests the page made to any origin other than the gateway's. */
const foreign: string[] = [];
/** Every POST the page sent to the gateway: its operation and its headers. */
const posts: Array<{ operationName: string | undefined; headers: Record<string, string> }> = [];
/**
 * CSP violations reported by the page's console, and through CDP by its web workers (Playwright
 * drops worker-sourced log entries from `console`); the page's `securitypolicyviolation` events are
 * read with `cspViolations()`.
 */
const violations: string[] = [];

/** Every CSP violation the page has reported: its console, its workers', its events. */
async function cspViolations(): Promise<string[]> {
  const events = await page.evaluate(() => (window as unknown as { cspViolations?: string[] }).cspViolations ?? []);
  return [...violations, ...events.map((e) => `securitypolicyviolation: ${e}`)];
}

/** Forgets the violations reported so far (after a test provoked them on purpose). */
async function clearViolations() {
  violations.length = 0;
  await page.evaluate(() => void (window as unknown as { cspViolations?: string[] }).cspViolations?.splice(0));
}

/** The chain from `id` back to its first contact, as the emulator holds it. */
function chainFrom(id: string): Contact[] {
  const chain: Contact[] = [];
  for (let c = findContact(stack.emulator.dataset, DEMO.instanceId, id); c; c = c.PreviousContactId ? findContact(stack.emulator.dataset, DEMO.instanceId, c.PreviousContactId) : undefined) {
    chain.push(c);
  }
  return chain;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install it with apt-get install -y chromium (.ci/run does)`);
  stack = await startLiveStack({ env: { CACHE_TTL_SECONDS: "0" } });
  const origin = new URL(stack.url).origin;
  userDataDir = mkdtempSync(join(tmpdir(), "graphiql-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ],
    viewport: { width: 1400, height: 1000 },
  });
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (new URL(url).origin === origin) return route.continue();
    foreign.push(url);
    return route.abort("blockedbyclient");
  });
  context.on("request", (request) => {
    const url = request.url();
    // blob: URLs are the page's own inlined workers; data: URLs carry inlined images.
    if (!url.startsWith(`blob:${origin}/`) && !url.startsWith("data:") && new URL(url).origin !== origin) foreign.push(url);
    if (request.method() === "POST") {
      posts.push({ operationName: (JSON.parse(request.postData() ?? "{}") as { operationName?: string }).operationName, headers: request.headers() });
    }
  });
  context.on("page", (p) => p.on("websocket", (ws) => foreign.push(ws.url())));
  page = context.pages()[0] ?? (await context.newPage());
  page.on("websocket", (ws) => foreign.push(ws.url()));
  page.on("console", (message) => {
    if (/Content.Security.Policy/i.test(message.text())) violations.push(message.text());
  });
  const cdp = await context.newCDPSession(page);
  cdp.on("Log.entryAdded", ({ entry }) => {
    if (entry.source === "worker" && /Content.Security.Policy/i.test(entry.text)) violations.push(`worker: ${entry.text}`);
  });
  await cdp.send("Log.enable");
  // Before any of the page's scripts run, so violations during loading are caught too.
  await page.addInitScript(() => {
    const recorded: string[] = ((window as unknown as { cspViolations?: string[] }).cspViolations = []);
    document.addEventListener("securitypolicyviolation", (e) => recorded.push(`${e.effectiveDirective} ${e.blockedURI} (${e.sourceFile}:${e.lineNumber})`));
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await stack?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

/** Clicks run and waits for the gateway's answer to `operationName`. */
async function run(operationName: string) {
  const answered = page.waitForResponse((r) => r.request().method() === "POST" && r.request().postData()?.includes(`"operationName":"${operationName}"`) === true);
  await page.getByRole("button", { name: /Execute query/ }).click();
  return answered;
}

describe("GraphiQL at GET /graphql", () => {
  it("loads from the gateway alone and runs the example query, showing the contact's transfer chain", async () => {
    const loaded = await page.goto(stack.url);
    expect(loaded?.headers()["content-encoding"]).toBe("gzip");
    expect(loaded?.headers()["content-security-policy"]).toContain("frame-ancestors 'none'");
    const runButton = page.getByRole("button", { name: /Execute query/ });
    await runButton.waitFor({ timeout: 30_000 });
    // The example and its variables are in place before anything is typed.
    await expect.poll(() => page.locator(".graphiql-query-editor").innerText()).toContain("ContactWithTransferChain");
    await expect.poll(() => page.locator(".graphiql-editor-tool").innerText()).toContain(DEMO.longChainTailId);

    stack.resetCalls();
    const response = await run("ContactWithTransferChain");
    expect(response.status()).toBe(200);

    const chain = chainFrom(DEMO.longChainTailId);
    const shown = [chain[0]!.Id!, chain[1]!.Id!, chain[2]!.Id!, chain.at(-1)!.Id!];
    const pane = page.locator(".graphiql-response");
    await expect.poll(() => pane.innerText(), { timeout: 10_000 }).toContain(shown[3]);
    const text = await pane.innerText();
    for (const id of shown) expect(text).toContain(id);
    expect(text).not.toContain('"errors"');
    // The tail, two previous contacts and the initial one: one DescribeContact each; the queue's
    // name through one DescribeQueue.
    expect(stack.describeContactCalls()).toBe(4);
    expect(stack.emulator.calls.byApi.DescribeQueue).toBe(1);
    const tailQueue = stack.emulator.dataset.instances.get(DEMO.instanceId)!.queues.get(chain[0]!.QueueInfo!.Id!)!;
    expect(text).toMatch(new RegExp(`"name":\\s*"${tailQueue.Name}"`)); // Monaco shows spaces as U+00A0

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, "graphiql.png") });
    expect(foreign).toEqual([]);
    expect(await cspViolations()).toEqual([]);
  });

  it("shows the schema's descriptions in the docs pane", async () => {
    await page.getByRole("button", { name: "Show Documentation Explorer" }).click();
    const docs = page.locator(".graphiql-doc-explorer");
    await docs.getByText("Query", { exact: true }).first().click();
    await expect.poll(() => docs.innerText()).toContain("Read contacts of Amazon Connect.");
    await docs.getByText("contact", { exact: true }).first().click();
    await expect.poll(() => docs.innerText()).toContain("One contact, by instance and contact id (DescribeContact).");
    await page.screenshot({ path: join(ARTIFACTS, "graphiql-docs.png") });
    expect(foreign).toEqual([]);
    expect(await cspViolations()).toEqual([]);
  });

  it("sends the headers typed into the headers editor (a bearer token, a request id)", async () => {
    await page.getByText("Headers", { exact: true }).click();
    await page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden)").click();
    await page.keyboard.press("Control+A");
    await page.keyboard.insertText('{"Authorization": "Bearer test-token", "x-request-id": "from-graphiql"}');
    // The editor closes brackets and quotes as they are typed: drop what it added after the cursor.
    await page.keyboard.press("Shift+Control+End");
    await page.keyboard.press("Delete");
    posts.length = 0;
    const response = await run("ContactWithTransferChain");
    expect(response.headers()["x-request-id"]).toBe("from-graphiql");
    const sent = posts.find((p) => p.operationName === "ContactWithTransferChain");
    expect(sent?.headers).toMatchObject({ authorization: "Bearer test-token", "x-request-id": "from-graphiql" });
    expect(foreign).toEqual([]);
    expect(await cspViolations()).toEqual([]);
  });

  it("runs the example subscription and shows live contacts arriving, with the queue's name and the previous contact", async () => {
    await page.locator('button.graphiql-tab-button[title="LiveContacts"]').click();
    await expect.poll(() => page.locator(".graphiql-query-editor").innerText()).toContain("contactEvents");
    // GraphiQL takes the operation to run from its state, which follows the tab a moment later (it
    // writes it to the URL then); executing before that runs the previous tab's operation name
    // against this tab's document ("Cannot infer operation ContactWithTransferChain").
    await expect.poll(() => new URL(page.url()).searchParams.get("query") ?? "").toContain("subscription LiveContacts");
    const streamed = page.waitForRequest((r) => r.url().endsWith("/graphql/stream") && r.postData()?.includes('"operationName":"LiveContacts"') === true);
    await page.getByRole("button", { name: /Execute query/ }).click();
    await streamed;
    await expect.poll(() => stack.gateway.events!.hub.size, { timeout: 10_000 }).toBe(1);

    stack.resetCalls();
    // A transfer of the long chain's tail: a new contact whose previous contact is the tail, queued.
    const transfer = stack.emulator.events.emit({ eventType: "INITIATED", previousContactId: DEMO.longChainTailId });
    const contactId = transfer.detail.contactId;
    const queued = stack.emulator.events.emit({ eventType: "QUEUED", contactId });
    const queueId = queued.detail.queueInfo!.queueArn.split("/").at(-1)!;
    const queueName = stack.emulator.dataset.instances.get(DEMO.instanceId)!.queues.get(queueId)!.Name!;

    const pane = page.locator(".graphiql-response");
    await expect.poll(() => pane.innerText(), { timeout: 10_000 }).toContain("QUEUED");
    const text = await pane.innerText();
    expect(text).toContain(contactId);
    expect(text).toMatch(new RegExp(`"name":\\s*"${queueName}"`));
    expect(text).toContain(DEMO.longChainTailId); // previousContact { id }
    expect(text).not.toContain('"errors"');
    // One DescribeContact per event (the previous contact is one more, read once).
    expect(stack.emulator.calls.byApi.DescribeContact).toBeLessThanOrEqual(4);
    await page.screenshot({ path: join(ARTIFACTS, "graphiql-subscription.png") });
    expect(foreign).toEqual([]);
    expect(await cspViolations()).toEqual([]);
    // Stopping it in GraphiQL ends the subscription at the gateway.
    await page.getByRole("button", { name: /Stop query/ }).click();
    await expect.poll(() => stack.gateway.events!.hub.size, { timeout: 10_000 }).toBe(0);
  });

  it("may open a WebSocket to /graphql: the policy's connect-src 'self' covers ws: on the gateway's host", async () => {
    // GraphiQL subscribes over SSE; a page (or a later GraphiQL) using graphql-ws must not be refused.
    const wsUrl = stack.url.replace(/^http/, "ws");
    const opened = await page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const socket = new WebSocket(url, "graphql-transport-ws");
          socket.onopen = () => {
            socket.close();
            resolve("open");
          };
          socket.onerror = () => resolve("error");
        }),
      wsUrl,
    );
    expect(opened).toBe("open");
    expect(await cspViolations()).toEqual([]);
    // The offline guard records every WebSocket; this one was the gateway's.
    expect(foreign).toEqual([wsUrl]);
    foreign.length = 0;
  });
});

describe("the offline guard", () => {
  it("catches a request to any other host (so the tests above can fail)", async () => {
    // The GraphiQL page's policy refuses such a request before it is sent (next test): the guard is
    // shown on a page without it.
    const other = await context.newPage();
    try {
      const before = foreign.length;
      await other.evaluate(() => fetch("https://cdn.example.com/graphiql.js").catch(() => undefined));
      expect(foreign.slice(before)).toContain("https://cdn.example.com/graphiql.js");
      foreign.length = before;
    } finally {
      await other.close();
    }
  });

  it("sees the page's policy refuse the page and its workers any other host (so the violation checks can fail)", async () => {
    const before = foreign.length;
    await page.evaluate(() => fetch("https://cdn.example.com/graphiql.js").catch(() => undefined));
    const fromWorker = await page.evaluate(
      () =>
        new Promise<string>((resolve) => {
          const code = "fetch('https://cdn.example.com/worker.js').then(() => postMessage('sent'), () => postMessage('refused'))";
          const worker = new Worker(URL.createObjectURL(new Blob([code], { type: "application/javascript" })));
          worker.onmessage = (e) => resolve(String(e.data));
          worker.onerror = () => resolve("no worker");
        }),
    );
    expect(fromWorker).toBe("refused");
    // Each channel the checks above read: the page's console, its workers' (through CDP), its events.
    await expect.poll(cspViolations).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^Connecting to 'https:\/\/cdn\.example\.com\/graphiql\.js' violates .*"connect-src 'self'"/),
        expect.stringMatching(/^worker: Connecting to 'https:\/\/cdn\.example\.com\/worker\.js' violates .*"connect-src 'self'"/),
        expect.stringMatching(/^securitypolicyviolation: connect-src https:\/\/cdn\.example\.com\/graphiql\.js /),
      ]),
    );
    expect(foreign.length).toBe(before); // refused in the browser: never sent
    await clearViolations();
  });
});

describe("the GraphiQL page", () => {
  it("cannot be framed by another page (clickjacking): the browser refuses to render it in an iframe", async () => {
    const other = await context.newPage();
    try {
      const refused = other.waitForEvent("console", { predicate: (m) => /frame-ancestors 'none'/.test(m.text()), timeout: 10_000 });
      await other.setContent(`<iframe src="${stack.url}" width="800" height="600"></iframe>`);
      await refused;
      const frame = other.frames().find((f) => f !== other.mainFrame());
      expect(await frame?.locator("#root").count()).toBe(0); // GraphiQL's mount point never rendered
    } finally {
      await other.close();
    }
  });

  it("is sent gzip-compressed with an ETag, so a reload costs a 304", async () => {
    const first = await fetch(stack.url, { headers: { accept: "text/html", "accept-encoding": "gzip" } });
    expect(first.headers.get("content-encoding")).toBe("gzip");
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(await first.text()).toContain("<title>connect-graphql</title>"); // fetch decompresses
    const again = await fetch(stack.url, { headers: { accept: "text/html", "if-none-match": etag! } });
    expect(again.status).toBe(304);
    // GraphQL responses are not touched.
    const { headers } = await stack.query("{ __typename }");
    expect(headers.get("content-encoding")).toBeNull();
    expect(headers.get("etag")).toBeNull();
  });

  it("references no other host for scripts, styles, fonts or images", async () => {
    const html = await (await fetch(stack.url, { headers: { accept: "text/html" } })).text();
    expect(html).toContain("<title>connect-graphql</title>");
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@import\s+url\(["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/@font-face[^}]*url\(["']?https?:/i);
  });

  it("opens on placeholders in aws mode, with an Authorization header to complete when bearer tokens are required", () => {
    const example = exampleOperation({ AUTH_MODE: "jwt" });
    expect(example.variables).toEqual({ instanceId: "your-instance-id", contactId: "your-contact-id" });
    expect(example.headers).toEqual({ Authorization: "Bearer <your token>" });
    expect(exampleOperation({ AUTH_MODE: "none" }, { instanceId: "i", contactId: "c" }).headers).toEqual({});
  });

  it("is not served when GRAPHIQL=false", async () => {
    const off = await startStack({ env: { GRAPHIQL: "false" }, sharedEmulator: stack.emulator });
    try {
      const response = await fetch(off.url, { headers: { accept: "text/html" } });
      expect(response.headers.get("content-type") ?? "").not.toContain("text/html");
      expect(await response.text()).not.toContain("graphiql");
    } finally {
      await off.close();
    }
  });
});
