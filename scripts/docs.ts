// Rewrites the generated settings tables of docs/configuration.md from the settings tables in the
// code (npm run docs): the gateway's (src/config/config.ts) and the emulator's
// (src/emulator/settings.ts). test/docs fails when the document is out of date.
import { readFileSync, writeFileSync } from "node:fs";
import { CONFIGURATION_DOC, renderGeneratedBlocks } from "./configTable.js";

const path = new URL(`../${CONFIGURATION_DOC}`, import.meta.url);
const before = readFileSync(path, "utf8");
const after = renderGeneratedBlocks(before);
if (after !== before) writeFileSync(path, after);
console.log(`${CONFIGURATION_DOC}: ${after === before ? "up to date" : "settings tables rewritten"}`);
