/**
 * `report --format lcov`: the LCOV tracefile genhtml and diff-cover read. One record per file:
 * `SF:` the repository path, `DA:line,hits` for every line of a block, `LF`/`LH` the lines found and
 * hit. LCOV has no escape: a path that cannot sit on one line must be refused before this writer.
 */

import type { FileLines } from "./lines.ts";

/**
 * The tracefile of `files` (names already checked to hold no control character).
 *
 * @example renderLcov(files) // "TN:\nSF:alpha/alpha.go\nDA:9,1\n...end_of_record\n"
 */
export function renderLcov(files: FileLines[]): string {
  const out: string[] = [];
  for (const f of files) {
    out.push("TN:", `SF:${f.path}`);
    let hit = 0;
    for (const l of f.lines) {
      out.push(`DA:${l.line},${l.hits}`);
      if (l.hits > 0) hit++;
    }
    out.push(`LF:${f.lines.length}`, `LH:${hit}`, "end_of_record");
  }
  return out.length ? out.join("\n") + "\n" : "";
}
