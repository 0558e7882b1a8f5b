import { describe, expect, it } from "vitest";
import { SETTINGS } from "../../src/config/config.js";
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
