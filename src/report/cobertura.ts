/**
 * `report --format cobertura`: Cobertura's XML (coverage-04.dtd), as GitLab merge requests and
 * diff-cover read it. A package is a directory of repository paths, a class is one file (its
 * `filename` the repository path). `lines-valid`/`lines-covered` count lines; every `line-rate`
 * is statements-based (covered statements over statements, Go's figure). Branches are not
 * measured by Go coverage: their figures are 0 and no line is a branch.
 */

import type { FileLines } from "./lines.ts";
import { xmlText } from "./xml_text.ts";

interface Sums {
  statements: number;
  covered: number;
  lines: number;
  hit: number;
}

function sums(files: FileLines[]): Sums {
  const s = { statements: 0, covered: 0, lines: 0, hit: 0 };
  for (const f of files) {
    for (const l of f.lines) {
      s.lines++;
      s.statements += l.statements;
      if (l.hits > 0) {
        s.hit++;
        s.covered += l.statements;
      }
    }
  }
  return s;
}

/** A rate of 0..1 with at most 4 decimals; nothing to cover is 1, as Cobertura writes it. */
function rate(covered: number, total: number): string {
  return total === 0 ? "1" : String(Math.round((covered / total) * 10000) / 10000);
}

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : path.slice(0, i);
}

/**
 * The Cobertura document of `files` (pure: the caller passes the time and version).
 *
 * @example renderCobertura(files, { timestamp: Date.now(), version: "0.1.0" }).startsWith("<?xml")
 */
export function renderCobertura(
  files: FileLines[],
  opts: { timestamp: number; version: string },
): string {
  const pkgs = new Map<string, FileLines[]>();
  for (const f of files) {
    const d = dirOf(f.path);
    const list = pkgs.get(d);
    if (list) list.push(f);
    else pkgs.set(d, [f]);
  }
  const all = sums(files);
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">',
    `<coverage line-rate="${
      rate(all.covered, all.statements)
    }" branch-rate="0" lines-covered="${all.hit}" lines-valid="${all.lines}" branches-covered="0" branches-valid="0" complexity="0" version="${
      xmlText(opts.version)
    }" timestamp="${Math.floor(opts.timestamp)}">`,
    "  <packages>",
  ];
  const names = [...pkgs.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const list = pkgs.get(name)!;
    const p = sums(list);
    out.push(
      `    <package name="${xmlText(name)}" line-rate="${
        rate(p.covered, p.statements)
      }" branch-rate="0" complexity="0">`,
      "      <classes>",
    );
    for (const f of list) {
      const c = sums([f]);
      const base = f.path.slice(f.path.lastIndexOf("/") + 1);
      out.push(
        `        <class name="${xmlText(base)}" filename="${xmlText(f.path)}" line-rate="${
          rate(c.covered, c.statements)
        }" branch-rate="0" complexity="0">`,
        "          <methods/>",
        "          <lines>",
      );
      for (const l of f.lines) {
        out.push(`            <line number="${l.line}" hits="${l.hits}" branch="false"/>`);
      }
      out.push("          </lines>", "        </class>");
    }
    out.push("      </classes>", "    </package>");
  }
  out.push("  </packages>", "</coverage>");
  return out.join("\n") + "\n";
}
