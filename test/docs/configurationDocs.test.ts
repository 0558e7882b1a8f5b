import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CONFIGURATION_DOC, GENERATED_BLOCKS, blockContent } from "../../scripts/configTable.js";

const root = new URL("../../", import.meta.url);
const configuration = readFileSync(new URL(CONFIGURATION_DOC, root), "utf8");
const readme = readFileSync(new URL("README.md", root), "utf8");

describe(CONFIGURATION_DOC, () => {
  for (const block of GENERATED_BLOCKS) {
    it(`lists the ${block.name} with their defaults, as the code defines them (npm run docs rewrites it)`, () => {
      expect(blockContent(configuration, block), `${block.markers.join(" … ")} in ${CONFIGURATION_DOC}`).toBe(block.render());
    });
  }
});

describe("README", () => {
  it("gives the two quick-start lines and the browser suite", () => {
    expect(readme).toContain("npm ci && npm start");
    expect(readme).toContain("npm ci && npm test");
    expect(readme).toContain("npm run test:browser");
  });
});
