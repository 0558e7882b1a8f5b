import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { README_MARKERS, configTable } from "../../scripts/configTable.js";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("README", () => {
  it("documents every setting with its default, as src/config.ts defines them (npm run docs)", () => {
    const [start, end] = README_MARKERS;
    const block = readme.slice(readme.indexOf(start) + start.length, readme.indexOf(end)).trim();
    expect(block).toBe(configTable());
  });

  it("gives the two quick-start lines", () => {
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toContain("npm ci && npm test");
  });
});
