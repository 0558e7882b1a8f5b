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

describe("GraphQL over HTTP: subscriptions", () => {
  const query = `subscription Watch($i: ID!) { contactEvents(instanceId: $i) { contactId } }`;
  const variables = { i: "9f2c4e1a-7b3d-4c8e-a5f6-0d1e2f3a4b5c" };

  it("refuses a subscription sent as a POST with 400 BAD_REQUEST naming the transports that serve it, before it runs", async () => {
    const before = stack.emulator.calls.total;
    const response = await fetch(stack.url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }) });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { data?: unknown; errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.data).toBeUndefined();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0]!.extensions.code).toBe("BAD_REQUEST");
    expect(body.errors[0]!.message).toContain("/graphql/stream");
    expect(stack.emulator.calls.total).toBe(before);
  });

  it("leaves a subscription sent as a GET to Apollo's refusal of any operation but a query over GET (405)", async () => {
    const search = new URLSearchParams({ query, variables: JSON.stringify(variables) });
    const response = await fetch(`${stack.url}?${search}`, { headers: { "apollo-require-preflight": "true" } });
    expect(response.status).toBe(405);
    const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]!.extensions.code).toBe("BAD_REQUEST");
  });
});
