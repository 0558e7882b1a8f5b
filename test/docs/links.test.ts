import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The documentation is a set of Markdown files linking to each other and into the tree. These specs
// keep every relative link pointing at something that exists (a file, a folder, a heading), so a
// moved file or renamed section shows up here rather than as a dead link on GitHub.

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const README_MAX_LINES = 220;

/** README.md, CONTRIBUTING.md, bench/README.md and every Markdown file under docs/, relative to the root. */
function documentationFiles(): string[] {
  const underDocs = (dir: string): string[] =>
    readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
      const relative = `${dir}/${entry.name}`;
      return entry.isDirectory() ? underDocs(relative) : entry.name.endsWith(".md") ? [relative] : [];
    });
  return ["README.md", "CONTRIBUTING.md", "bench/README.md", ...underDocs("docs")];
}

/** `text` without fenced code blocks. */
function withoutCodeBlocks(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
}

/** `text` without fenced code blocks and inline code spans: a link-like inside code is not a link. */
function withoutCode(text: string): string {
  return withoutCodeBlocks(text).replace(/`+[^`\n]*`+/g, "");
}

/** Every link target of `text`: inline links and images `[x](target "title")`, and reference definitions `[x]: target`. */
function linkTargets(text: string): string[] {
  const prose = withoutCode(text);
  const inline = [...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  const definitions = [...prose.matchAll(/^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+"[^"]*")?\s*$/gm)].map((m) => m[1]!);
  return [...inline, ...definitions];
}

/** Whether `target` points outside the repository (a web address, mail, another scheme). */
function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//");
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The anchors the headings of a Markdown file make (a repeated heading gets -1, -2, … as on GitHub). */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const found = new Set<string>();
  for (const match of withoutCodeBlocks(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const base = slug(match[1]!.replace(/`/g, ""));
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    found.add(count === 0 ? base : `${base}-${count}`);
  }
  return found;
}

/** The problem with `target` as linked from `file`, or undefined when it resolves. */
function brokenLink(file: string, target: string): string | undefined {
  const [pathPart = "", anchor] = target.split("#", 2) as [string, string | undefined];
  const resolved = pathPart === "" ? path.join(ROOT, file) : path.resolve(path.dirname(path.join(ROOT, file)), decodeURIComponent(pathPart));
  const inside = path.relative(ROOT, resolved);
  if (inside.startsWith("..") || path.isAbsolute(inside)) return "points outside the repository";
  if (!existsSync(resolved)) return "no such file or folder";
  if (anchor && resolved.endsWith(".md") && statSync(resolved).isFile() && !anchors(readFileSync(resolved, "utf8")).has(anchor.toLowerCase())) {
    return `no heading for #${anchor}`;
  }
  return undefined;
}

describe("the documentation", () => {
  const files = documentationFiles();

  it("includes the front door, the contributor's guide, the benchmark notes and docs/", () => {
    expect(files).toEqual(expect.arrayContaining(["README.md", "CONTRIBUTING.md", "bench/README.md", "docs/configuration.md", "docs/architecture.md"]));
    for (const file of files) expect(existsSync(path.join(ROOT, file)), file).toBe(true);
  });

  it("links only to files, folders and headings that exist", () => {
    const broken: string[] = [];
    let checked = 0;
    for (const file of files) {
      for (const target of linkTargets(readFileSync(path.join(ROOT, file), "utf8"))) {
        if (isExternal(target)) continue;
        checked += 1;
        const problem = brokenLink(file, target);
        if (problem) broken.push(`${file}: (${target}) ${problem}`);
      }
    }
    expect(broken).toEqual([]);
    expect(checked).toBeGreaterThan(files.length);
  });

  it(`keeps the README a front door: under ${README_MAX_LINES} lines`, () => {
    const lines = readFileSync(path.join(ROOT, "README.md"), "utf8").trimEnd().split("\n").length;
    expect(lines).toBeLessThan(README_MAX_LINES);
  });
});

describe("link extraction", () => {
  it("finds relative links and definitions, and leaves code alone", () => {
    const text = [
      "See [the API](docs/api.md#contacts), ![diagram](img/a.png \"A\") and [AWS](https://aws.amazon.com/connect/).",
      "Write to [us](mailto:someone@example.com); `[not](a-link.md)` is code.",
      "```md",
      "[also not](inside-a-fence.md)",
      "```",
      "[ref]: ../CONTRIBUTING.md",
    ].join("\n");
    expect(linkTargets(text)).toEqual(["docs/api.md#contacts", "img/a.png", "https://aws.amazon.com/connect/", "mailto:someone@example.com", "../CONTRIBUTING.md"]);
  });

  it("makes GitHub's anchors from headings", () => {
    expect([...anchors("# Caching and quota\n## `searchContacts`\n### Why Fastify?\n## Caching and quota\n```\n# not a heading\n```")]).toEqual([
      "caching-and-quota",
      "searchcontacts",
      "why-fastify",
      "caching-and-quota-1",
    ]);
  });
});
