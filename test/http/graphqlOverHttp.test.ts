import { serverAudits } from "graphql-http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startStack, type Stack } from "../support/stack.js";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack?.close());

/**
 * The GraphQL-over-HTTP spec's audit suite (graphql-http), run against the gateway over real HTTP.
 * Every MUST has to pass; SHOULDs and MAYs are reported by the suite but are not required.
 */
describe("GraphQL over HTTP", () => {
  const musts = serverAudits({ url: () => stack.url }).filter((audit) => audit.name.startsWith("MUST"));
  /** The MUST audits that ran in this file so far, whatever their outcome. */
  const audited: string[] = [];

  it("finds the suite's MUST audits (sanity check of this test)", () => {
    expect(musts.length).toBeGreaterThanOrEqual(13);
  });
  for (const audit of musts) {
    it(audit.name, async () => {
      audited.push(audit.name);
      const result = await audit.fn();
      expect(result.status === "ok" ? "ok" : `${result.status}: ${"reason" in result ? result.reason : ""}`).toBe("ok");
    });
  }

  it("makes no upstream call for any audit request (of any Connect API)", () => {
    // Run alone (a name filter, `.only`), no audit would have sent anything and 0 calls would prove nothing.
    expect(audited, "every MUST audit runs before this check: run the whole file").toEqual(musts.map((audit) => audit.name));
    expect(stack.emulator.calls.total).toBe(0);
    expect(stack.describeContactCalls()).toBe(0);
  });
});

describe("GraphQL over HTTP: methods /graphql does not serve", () => {
  it("refuses PUT, DELETE and PATCH with 405, Allow and a BAD_REQUEST saying what to send, without an upstream call", async () => {
    const before = stack.emulator.calls.total;
    for (const method of ["PUT", "DELETE", "PATCH"]) {
      const response = await fetch(stack.url, {
        method,
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: "{ __typename }" }),
      });
      expect(response.status, method).toBe(405);
      expect(response.headers.get("allow")).toBe("GET, POST");
      expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
      expect(await response.json()).toEqual({ errors: [{ message: expect.stringContaining(`${method} is not served here`), extensions: { code: "BAD_REQUEST" } }] });
    }
    expect(stack.emulator.calls.total).toBe(before);
  });
});
