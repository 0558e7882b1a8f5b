// Rewrites the README's configuration table from src/config.ts (npm run docs).
import { readFileSync, writeFileSync } from "node:fs";
import { README_MARKERS, configTable } from "./configTable.js";

const path = new URL("../README.md", import.meta.url);
const readme = readFileSync(path, "utf8");
const [start, end] = README_MARKERS;
const before = readme.slice(0, readme.indexOf(start) + start.length);
const after = readme.slice(readme.indexOf(end));
if (!readme.includes(start) || !readme.includes(end)) throw new Error("README.md lacks the settings markers");
writeFileSync(path, `${before}\n${configTable()}\n${after}`);
