import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.js";

// Users paste bearer tokens into the GraphiQL page: no other site may frame it, and it may run only
// its own inline script and reach only the gateway. The browser suite
// (test/browser/explorer.browser.test.ts) runs the page under this policy and fails on any
// violation; this spec pins the headers themselves.
describe("GraphiQL's security headers", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  /** `Content-Security-Policy` as directive name → sources. */
  function directives(policy: string | null): Map<string, string[]> {
    const parsed = new Map<string, string[]>();
    for (const directive of (policy ?? "").split(";")) {
      const [name, ...sources] = directive.trim().split(/\s+/);
      if (name) parsed.set(name, sources);
    }
    return parsed;
  }

  it("serves the explorer with a CSP that forbids framing and foreign origins, and GraphQL responses without it", async () => {
    const page = await fetch(stack.url, { headers: { accept: "text/html", "accept-encoding": "gzip" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain("<title>connect-graphql</title>");

    const csp = directives(page.headers.get("content-security-policy"));
    expect(csp.get("frame-ancestors")).toEqual(["'none'"]);
    expect(csp.get("default-src")).toEqual(["'none'"]);
    expect(csp.get("connect-src")).toEqual(["'self'"]);
    expect(csp.get("base-uri")).toEqual(["'none'"]);
    expect(csp.get("form-action")).toEqual(["'none'"]);
    expect(csp.get("worker-src")).toEqual(["blob:"]);
    // Scripts: exactly the page's inline script(s), by hash; nothing inline or evaluated otherwise.
    const inline = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(([, text]) => `'sha256-${createHash("sha256").update(text!).digest("base64")}'`);
    expect(inline.length).toBeGreaterThan(0);
    expect(csp.get("script-src")).toEqual(inline);
    // No directive names a host, a scheme that reaches one, or a wildcard.
    for (const [name, sources] of csp) {
      for (const source of sources) expect(source, `${name} ${source}`).toMatch(/^('none'|'self'|'unsafe-inline'|'sha256-[\w+/=]+'|data:|blob:)$/);
    }
    expect(csp.get("style-src")).toEqual(["'unsafe-inline'"]);
    expect(page.headers.get("x-frame-options")).toBe("DENY");
    expect(page.headers.get("x-content-type-options")).toBe("nosniff");
    expect(page.headers.get("referrer-policy")).toBe("no-referrer");

    // A reload's 304 carries the same headers.
    const again = await fetch(stack.url, { headers: { accept: "text/html", "if-none-match": page.headers.get("etag")! } });
    expect(again.status).toBe(304);
    expect(again.headers.get("content-security-policy")).toBe(page.headers.get("content-security-policy"));
    expect(again.headers.get("x-frame-options")).toBe("DENY");

    // GraphQL responses, over POST and GET on the same path, carry none of them.
    const posted = await stack.query("{ __typename }");
    const got = await fetch(`${stack.url}?query=${encodeURIComponent("{ __typename }")}`, { headers: { accept: "application/json", "apollo-require-preflight": "true" } });
    expect(posted.status).toBe(200);
    expect(got.status).toBe(200);
    expect(await got.json()).toEqual({ data: { __typename: "Query" } });
    for (const { headers } of [posted, got]) {
      for (const name of ["content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy"]) expect(headers.get(name), name).toBeNull();
    }
  });
});
