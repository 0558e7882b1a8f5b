import { describe, expect, it } from "vitest";
import { checkLayers, importSpecifiers } from "../../scripts/checkLayers.js";

const files = (entries: Record<string, string>) => new Map(Object.entries(entries));

describe("the layer check (npm run check:layers)", () => {
  it("accepts imports that point to the same layer or down, type-only and dynamic ones included", () => {
    expect(
      checkLayers(
        files({
          "domain/contactRef.ts": "export const x = 1;",
          "upstream/cache.ts": 'import type { x } from "../domain/contactRef.js";',
          "graphql/loaders.ts": 'import { c } from "../upstream/cache.js";\nexport { x } from "../domain/contactRef.js";',
          "main.ts": 'const e = await import("./emulator/emulator.js");',
          "emulator/emulator.ts": 'import { d } from "./dataset.js";',
          "emulator/dataset.ts": "export const d = 1;",
        }),
      ),
    ).toEqual([]);
  });

  it("fails on an upward import, even a type-only one", () => {
    const violations = checkLayers(files({ "domain/contactRef.ts": 'import type { L } from "../graphql/loaders.js";', "graphql/loaders.ts": "" }));
    expect(violations).toEqual([{ from: "domain/contactRef.ts", to: "graphql/loaders.ts", problem: "upward import: domain may not import graphql" }]);
  });

  it("fails on an import cycle within one layer and names the loop", () => {
    const violations = checkLayers(
      files({
        "graphql/context.ts": 'import type { L } from "./loaders.js";',
        "graphql/loaders.ts": 'import type { S } from "./search.js";',
        "graphql/search.ts": 'import type { C } from "./context.js";',
      }),
    );
    expect(violations.map((v) => v.problem)).toEqual(["import cycle: graphql/context.ts → graphql/loaders.ts → graphql/search.ts → graphql/context.ts"]);
  });

  it("fails when anything but main.ts imports the emulator, or the emulator imports the gateway", () => {
    const violations = checkLayers(
      files({
        "http/graphiql.ts": 'import { DEMO } from "../emulator/dataset.js";',
        "emulator/dataset.ts": 'import { x } from "../domain/contactRef.js";',
        "domain/contactRef.ts": "",
      }),
    );
    expect(violations.map((v) => v.problem)).toEqual(["only main.ts imports the emulator", "the emulator imports nothing of the gateway (domain/)"]);
  });

  it("reads specifiers from every import form and ignores commented-out ones", () => {
    const text = [
      'import a from "./a.js";',
      'import type {\n  B,\n} from "./b.js";',
      'export * from "./c.js";',
      'import "./d.js";',
      'const e = await import("./e.js");',
      '// import f from "./f.js";',
      '/* import g from "./g.js"; */',
    ].join("\n");
    expect(importSpecifiers(text).sort()).toEqual(["./a.js", "./b.js", "./c.js", "./d.js", "./e.js"]);
  });
});
