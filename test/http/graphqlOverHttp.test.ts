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
