import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO } from "../../src/emulator/dataset.js";
import { startStack, type Stack } from "../support/stack.js";

// The gateway sends `Cache-Control: no-store` itself instead of through Apollo's cache-control
// plugin, which cost a hook call on every field resolved (bench/README.md). These specs keep the
// header the plugin used to send.
describe("GraphQL response headers", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack?.close());

  it("tells browsers and proxies not to store a contact", async () => {
    const res = await stack.query(`{ contact(instanceId: "${DEMO.instanceId}", contactId: "${DEMO.fullContactId}") { id channel } }`);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data.contact.id).toBe(DEMO.fullContactId);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(stack.describeContactCalls()).toBe(1);
  });

  it("tells them the same about an error response, which cost no upstream call", async () => {
    stack.resetCalls();
    const res = await stack.query(`{ contact(instanceId: "${DEMO.instanceId}", contactId: "bad/id") { id } }`);
    expect(res.body.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(stack.describeContactCalls()).toBe(0);
  });

  it("echoes a caller's x-request-id so logs correlate across hops", async () => {
    const res = await stack.query(`{ __typename }`, undefined, { "x-request-id": "lb-7f3a.42:retry-1" });
    expect(res.headers.get("x-request-id")).toBe("lb-7f3a.42:retry-1");
  });

  it("replaces an x-request-id that is too long or has odd characters instead of logging it", async () => {
    for (const sent of ["x".repeat(129), "id with spaces", "a/b;c", "{\"json\":1}"]) {
      const res = await stack.query(`{ __typename }`, undefined, { "x-request-id": sent });
      expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    }
  });
});
