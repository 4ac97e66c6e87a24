/**
 * Incremental coverage: per binary and file, which lines a diff added were run and which were
 * not. A changed line counts when the line model has it (a line some block spans, as Cobertura
 * lists it); lines with no code are not measured. Figures follow diff-cover's: a file's rate is
 * 100 − not run / measured × 100; a binary's is run / measured × 100 over its files (diff-cover
 * prints the floor of it); nothing measured is no rate.
 */

import { safeText } from "../terminal_text.ts";
import type { FileLines } from "./lines.ts";
import { table } from "./model.ts";
import type { ChangedFile } from "./unified_diff.ts";

export interface ChangedFileCoverage {
  /** Repository path. */
  path: string;
  /** Lines the diff added to the file. */
  changed: number;
  /** Changed lines that hold code. */
  measured: number;
  run: number[];
  notRun: number[];
  percent: number;
}

export interface ChangedBinaryCoverage {
  binary: string;
  hash: string;
  measured: number;
  run: number;
  notRun: number;
  /** null when no changed line of this binary's files holds code. */
  percent: number | null;
  files: ChangedFileCoverage[];
}

export interface ChangedCoverage {
  /** What the diff was (`git diff REF` in DIR, or the file). */
  diff: string;
  changedFiles: number;
  changedLines: number;
  binaries: ChangedBinaryCoverage[];
}

/**
 * The changed lines of one binary's files (its FileLines, as linesOf gives them).
 *
 * @example changedOf(parseUnifiedDiff(text), linesOf([b], mapper)) // { measured: 7, run: 5, ... }
 */
export function changedOf(
  diff: ChangedFile[],
  files: FileLines[],
): Omit<ChangedBinaryCoverage, "binary" | "hash"> {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const out: ChangedFileCoverage[] = [];
  let measured = 0, run = 0;
  for (const d of diff) {
    const f = byPath.get(d.path);
    if (!f || d.lines.length === 0 || d.status === "deleted") continue;
    const hits = new Map(f.lines.map((l) => [l.line, l.hits]));
    const r: number[] = [], n: number[] = [];
    for (const line of d.lines) {
      const h = hits.get(line);
      if (h === undefined) continue;
      (h > 0 ? r : n).push(line);
    }
    const m = r.length + n.length;
    if (m === 0) continue;
    out.push({
      path: d.path,
      changed: d.lines.length,
      measured: m,
      run: r,
      notRun: n,
      percent: 100 - n.length / m * 100,
    });
    measured += m;
    run += r.length;
  }
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    measured,
    run,
    notRun: measured - run,
    percent: measured === 0 ? null : run / measured * 100,
    files: out,
  };
}

/**
 * Line numbers as ranges: `[3, 4, 5, 9]` → `"3-5, 9"`.
 *
 * @example lineRanges([3, 4, 5, 9]) // "3-5, 9"
 */
export function lineRanges(lines: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < lines.length;) {
    let j = i;
    while (j + 1 < lines.length && lines[j + 1] === lines[j] + 1) j++;
    parts.push(j === i ? String(lines[i]) : `${lines[i]}-${lines[j]}`);
    i = j + 1;
  }
  return parts.join(", ");
}

const pct = (p: number | null) => (p === null ? "-" : `${p.toFixed(1)}%`);

/**
 * The text form: per binary, one row per file with changed code, and the lines not run.
 *
 * @example renderChangedText(c) // "BINARY  HASH  FILE  CHANGED  MEASURED  RUN  NOT RUN  COVERAGE\n..."
 */
export function renderChangedText(c: ChangedCoverage): string {
  const rows = [["BINARY", "HASH", "FILE", "MEASURED", "RUN", "NOT RUN", "COVERAGE"]];
  const missing: string[] = [];
  for (const b of c.binaries) {
    if (b.measured === 0) continue;
    const hash = b.hash.slice(0, 12);
    for (const f of b.files) {
      rows.push([
        b.binary,
        hash,
        f.path,
        String(f.measured),
        String(f.run.length),
        String(f.notRun.length),
        pct(f.percent),
      ]);
      if (f.notRun.length > 0) {
        missing.push(`${b.binary} ${f.path}: not run ${lineRanges(f.notRun)}`);
      }
    }
    rows.push([
      b.binary,
      hash,
      "(all)",
      String(b.measured),
      String(b.run),
      String(b.notRun),
      pct(b.percent),
    ]);
  }
  const head = `${c.changedLines} changed lines in ${c.changedFiles} files of ${c.diff}`;
  if (rows.length === 1) return safeText(`${head}; none of them holds code of these binaries`);
  return [safeText(head), table(rows, new Set([3, 4, 5, 6])), ...missing.map(safeText)].join("\n");
}
