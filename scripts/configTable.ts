import { SETTINGS } from "../src/config/config.js";

/**
 * The README's configuration table, rendered from the settings table in config.ts so the two
 * cannot drift: `npm run docs` writes it between the README's markers, and a test fails when the
 * README's copy differs.
 */
export function configTable(): string {
  const rows = Object.entries(SETTINGS).map(([name, s]) => {
    const def = !("default" in s) || s.default === undefined ? "(unset)" : s.default === "" ? "(empty)" : `\`${s.default}\``;
    return `| \`${name}\` | ${def} | ${s.help.replace(/\|/g, "\\|")} |`;
  });
  return ["| Setting | Default | Meaning |", "| --- | --- | --- |", ...rows].join("\n");
}

export const README_MARKERS = ["<!-- settings:start -->", "<!-- settings:end -->"] as const;
