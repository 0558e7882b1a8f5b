import { describe, expect, it } from "vitest";
import { ConfigError, SETTINGS, loadConfig } from "../../src/config/config.js";
import { runGateway } from "../support/processes.js";

describe("--help", () => {
  it("prints every setting with its default", async () => {
    const { code, stdout } = await runGateway(["--help"], {});
    expect(code).toBe(0);
    for (const [name, s] of Object.entries(SETTINGS)) {
      const row = stdout.split("\n").find((l) => l.trimStart().startsWith(`${name} `));
      expect(row, name).toBeDefined();
      if (s.default) expect(row, name).toContain(s.default);
    }
  });
});

describe("a bad setting", () => {
  it("stops start-up with exit code 2 and one line naming the setting", async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: "abc" }, /^connect-graphql: Invalid setting PORT="abc": expected a whole number\./],
      [{ CONNECT_MODE: "aws", AUTH_MODE: "none" }, /^connect-graphql: Missing setting AWS_REGION/],
    ];
    const results = await Promise.all(cases.map(([env]) => runGateway([], { ...env, PORT: env.PORT ?? "0" })));
    results.forEach(({ code, stdout, stderr }, i) => {
      expect(code).toBe(2);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stderr.trim()).toMatch(cases[i]![1]);
      expect(stdout).not.toContain("listening");
    });
  });
});

describe("a renamed setting", () => {
  const MIGRATION = /^MAX_UPSTREAM_CALLS was renamed to MAX_UPSTREAM_READS, which now counts every upstream read \(DescribeContact, DescribeQueue, DescribeUser, GetContactAttributes, each ListContactReferences and SearchContacts page\), not only distinct contacts: set MAX_UPSTREAM_READS instead \(default 200\) and unset MAX_UPSTREAM_CALLS\.$/;

  it("refuses MAX_UPSTREAM_CALLS at start-up with exit code 2 and one line saying it is now MAX_UPSTREAM_READS and counts every API", async () => {
    const { code, stdout, stderr } = await runGateway([], { PORT: "0", MAX_UPSTREAM_CALLS: "50" });
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr.trim().replace(/^connect-graphql: /, "")).toMatch(MIGRATION);
    expect(stderr).toMatch(/^connect-graphql: /);
    expect(stdout).not.toContain("listening");
  });

  it("refuses MAX_UPSTREAM_CALLS even next to MAX_UPSTREAM_READS, so a half-done migration is caught", () => {
    expect(() => loadConfig({ MAX_UPSTREAM_CALLS: "50", MAX_UPSTREAM_READS: "300" }, false)).toThrow(ConfigError);
    expect(() => loadConfig({ MAX_UPSTREAM_CALLS: "50", MAX_UPSTREAM_READS: "300" }, false)).toThrow(MIGRATION);
  });

  it("takes MAX_UPSTREAM_READS, 200 by default", () => {
    expect(loadConfig({}, false).MAX_UPSTREAM_READS).toBe(200);
    expect(loadConfig({ MAX_UPSTREAM_READS: "300" }, false).MAX_UPSTREAM_READS).toBe(300);
    expect(() => loadConfig({ MAX_UPSTREAM_READS: "0" }, false)).toThrow(/^Invalid setting MAX_UPSTREAM_READS="0"/);
  });
});
