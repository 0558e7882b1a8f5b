// Checks that src/ keeps its layers (npm run check:layers, part of npm test): every import,
// type-only ones included, points to the same layer or one below, none forms a cycle, and only
// main.ts imports the emulator. Exits 1 naming each offending import.
//
// Why not dependency-cruiser or madge: both read TypeScript through the TypeScript compiler's
// JavaScript API, which TypeScript 7 (the native compiler this project builds with) does not ship.
// Import specifiers are regular enough to read without a parser; what counts as a layer is ours.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The layers from the bottom up: a file may import its own layer and those listed before it.
 * The data path reads upward: domain → config → observability → upstream → events → graphql → http
 * → main (events: Connect's contact events, consumed from SQS and fanned out to subscribers).
 */
export const LAYERS = ["domain", "config", "observability", "upstream", "events", "graphql", "http", "main"] as const;

/** Folders that count as a layer besides their own name: generated code is part of the GraphQL layer. */
const LAYER_OF_FOLDER: Readonly<Record<string, (typeof LAYERS)[number]>> = { generated: "graphql" };

/** Set apart: imports only itself, and only `main.ts` imports it. */
export const APART = "emulator";

export interface LayerViolation {
  readonly from: string;
  readonly to: string;
  readonly problem: string;
}

/**
 * The violations among `files` (paths relative to src/, `/`-separated, mapped to their text).
 * A cycle is reported once, as the import that closes it, with the whole loop in `problem`.
 */
export function checkLayers(files: ReadonlyMap<string, string>): LayerViolation[] {
  const violations: LayerViolation[] = [];
  const graph = new Map<string, string[]>();
  for (const [file, text] of files) {
    const targets: string[] = [];
    for (const specifier of importSpecifiers(text)) {
      if (!specifier.startsWith(".")) continue;
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier)).replace(/\.js$/, ".ts");
      if (!files.has(target)) continue;
      targets.push(target);
      const problem = layerProblem(file, target);
      if (problem) violations.push({ from: file, to: target, problem });
    }
    graph.set(file, targets);
  }
  for (const cycle of cycles(graph)) {
    violations.push({ from: cycle.at(-2)!, to: cycle.at(-1)!, problem: `import cycle: ${cycle.join(" → ")}` });
  }
  return violations;
}

/** Every module specifier of `text`: static and type-only imports, re-exports, dynamic imports. */
export function importSpecifiers(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found: string[] = [];
  const patterns = [/\b(?:import|export)\b[^;'"]*?\bfrom\s*["']([^"']+)["']/g, /\bimport\s*["']([^"']+)["']/g, /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g];
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) found.push(match[1]!);
  return found;
}

// Private: the layer a file of src/ belongs to (`main` for main.ts, the emulator apart).
function layerOf(file: string): string {
  const folder = file.includes("/") ? file.slice(0, file.indexOf("/")) : "main";
  return LAYER_OF_FOLDER[folder] ?? folder;
}

// Private: why importing `to` from `from` breaks the layering, if it does.
function layerProblem(from: string, to: string): string | undefined {
  const a = layerOf(from);
  const b = layerOf(to);
  if (b === APART) return a === APART || from === "main.ts" ? undefined : `only main.ts imports the ${APART}`;
  if (a === APART) return `the ${APART} imports nothing of the gateway (${b}/)`;
  const rankA = LAYERS.indexOf(a as never);
  const rankB = LAYERS.indexOf(b as never);
  if (rankA < 0) return `${from} is in no layer (${LAYERS.join(", ")})`;
  if (rankB < 0) return `${to} is in no layer (${LAYERS.join(", ")})`;
  return rankB > rankA ? `upward import: ${a} may not import ${b}` : undefined;
}

// Private: one cycle per back edge found by a depth-first search, each as the path that closes it.
function cycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

// Private: every .ts file under `dir`, relative to it.
function sourceFiles(dir: string, prefix = ""): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) for (const [f, t] of sourceFiles(dir, relative)) files.set(f, t);
    else if (entry.name.endsWith(".ts")) files.set(relative, readFileSync(path.join(dir, relative), "utf8"));
  }
  return files;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const src = fileURLToPath(new URL("../src", import.meta.url));
  const files = sourceFiles(src);
  const violations = checkLayers(files);
  for (const v of violations) console.error(`src/${v.from} → src/${v.to}: ${v.problem}`);
  if (violations.length > 0) {
    console.error(`check:layers: ${violations.length} violation(s) in ${files.size} files (layers, bottom up: ${LAYERS.join(" → ")}; ${APART} apart)`);
    process.exit(1);
  }
  console.log(`check:layers: ${files.size} files, no upward import, no cycle, the ${APART} imported only by main.ts`);
}
