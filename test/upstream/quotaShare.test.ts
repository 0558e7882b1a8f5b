import { describe, expect, it } from "vitest";
import { FULL_ACCESS, type Principal } from "../../src/domain/principal.js";
import { ANONYMOUS_SHARE, quotaShareOf } from "../../src/upstream/quotaShare.js";

const principal = (claims: Partial<Principal>): Principal => ({ scopes: new Set(["contacts:read"]), instances: "*", ...claims });

describe("quotaShareOf", () => {
  it("gives each token subject a share of its own, the same on every call, that does not contain the subject", () => {
    const alice = quotaShareOf(principal({ subject: "alice@example.com" }));
    expect(alice).toMatch(/^p:[0-9a-f]{16}$/);
    expect(alice).not.toContain("alice");
    expect(quotaShareOf(principal({ subject: "alice@example.com" }))).toBe(alice);
    expect(quotaShareOf(principal({ subject: "bob@example.com" }))).not.toBe(alice);
  });

  it("names a token without a subject by its client id, hashed, distinct from a subject of the same text", () => {
    const client = quotaShareOf(principal({ clientId: "front-end" }));
    expect(client).toMatch(/^p:[0-9a-f]{16}$/);
    expect(client).not.toBe(quotaShareOf(principal({ subject: "front-end" })));
    // The subject wins when a token has both.
    expect(quotaShareOf(principal({ subject: "alice", clientId: "front-end" }))).toBe(quotaShareOf(principal({ subject: "alice" })));
  });

  it("puts every caller without an identity in one anonymous share, AUTH_MODE=none included", () => {
    expect(quotaShareOf(principal({}))).toBe(ANONYMOUS_SHARE);
    expect(quotaShareOf(FULL_ACCESS)).toBe(ANONYMOUS_SHARE);
  });
});
