import { SETTINGS } from "../src/config/config.js";
import { EMULATOR_SETTINGS } from "../src/emulator/settings.js";

/**
 * The settings tables of docs/configuration.md, rendered from the settings tables in the code so
 * the two cannot drift: `npm run docs` (scripts/docs.ts) writes each between its markers, and
 * test/docs fails when the document's copy differs.
 */

/** The path of the document, from the repository root. */
export const CONFIGURATION_DOC = "docs/configuration.md";

/** One row of a settings table, as both `SETTINGS` and `EMULATOR_SETTINGS` declare them. */
interface SettingRow {
  readonly default?: string | undefined;
  readonly help: string;
}

/** A Markdown table of `settings`: name, default as the environment spells it, meaning. */
export function settingsTable(settings: Readonly<Record<string, SettingRow>>): string {
  const rows = Object.entries(settings).map(([name, s]) => {
    const def = s.default === undefined ? "(unset)" : s.default === "" ? "(empty)" : `\`${s.default}\``;
    return `| \`${name}\` | ${def} | ${s.help.replace(/\|/g, "\\|")} |`;
  });
  return ["| Setting | Default | Meaning |", "| --- | --- | --- |", ...rows].join("\n");
}

/** The gateway's settings (src/config/config.ts). */
export function configTable(): string {
  return settingsTable(SETTINGS);
}

/** The emulator's settings (src/emulator/settings.ts), read by `npm start` in emulator mode and by `npm run emulator`. */
export function emulatorConfigTable(): string {
  return settingsTable(EMULATOR_SETTINGS);
}

/** A generated block of the document: its start and end markers and what goes between them. */
export interface GeneratedBlock {
  readonly name: string;
  readonly markers: readonly [start: string, end: string];
  readonly render: () => string;
}

export const GENERATED_BLOCKS: readonly GeneratedBlock[] = [
  { name: "gateway settings", markers: ["<!-- settings:start -->", "<!-- settings:end -->"], render: configTable },
  { name: "emulator settings", markers: ["<!-- emulator-settings:start -->", "<!-- emulator-settings:end -->"], render: emulatorConfigTable },
];

/** The text between a block's markers in `doc` (trimmed), or `undefined` when a marker is missing or out of order. */
export function blockContent(doc: string, block: GeneratedBlock): string | undefined {
  const [start, end] = block.markers;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from < 0 || to < from) return undefined;
  return doc.slice(from + start.length, to).trim();
}

/** `doc` with every generated block rendered afresh between its markers. Throws naming a block whose markers are missing. */
export function renderGeneratedBlocks(doc: string): string {
  let text = doc;
  for (const block of GENERATED_BLOCKS) {
    const [start, end] = block.markers;
    if (blockContent(text, block) === undefined) throw new Error(`${CONFIGURATION_DOC} lacks the ${block.name} markers ${start} … ${end}`);
    const from = text.indexOf(start) + start.length;
    text = `${text.slice(0, from)}\n${block.render()}\n${text.slice(text.indexOf(end))}`;
  }
  return text;
}
