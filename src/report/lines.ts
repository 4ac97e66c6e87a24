/**
 * Per-line coverage of merged binaries: the shared model of the Cobertura, LCOV and Sonar writers
 * and of incremental (diff) coverage.
 *
 * - Units merge across binaries as `UnitTable` merges them (per package import path, equal units
 *   add up; `set` mode ORs when every binary is `set`, else counts add, saturating).
 * - A block covers every line from its start line to its end line; a line's hits are the largest
 *   count of the blocks on it.
 * - Statements: a one-line block puts its statements on that line. A block of several lines starts
 *   at a `{` (or just after a `}` or `case ...:`) and its statements sit on the lines below, so its
 *   N statements are spread over lines start+1..end, one each from the top (the first N mod L of
 *   the L lines take one more when N > L). A block's statements then sit on lines whose hits have
 *   its covered-ness, so a rate weighted by `statements` is Go's statement rate, except for a
 *   one-line block on a line another block ran too (an `else if` condition after a `}`, a
 *   one-line closure): a line has one hit count, and those statements count as covered (16 of
 *   124,404 statements of the field-size fixture, 12,525 covered for Go's 12,509). Lines holding
 *   no statement still appear (with statements 0), as consumers show them.
 *
 * Cost is bounded by the line spans, charged against a budget: a hostile span (end before start,
 * past MAX_LINE, or past the budget) leaves its file out, named in `skipped`, never a crash.
 */

import type { CounterMode } from "../coverage/meta.ts";
import { UnitTable } from "../coverage/summary.ts";
import type { PathMapper } from "./paths.ts";
import type { MergedBinary } from "./read.ts";

/** One source line: the largest count of its blocks and the statements attributed to it. */
export interface LineFigure {
  line: number;
  hits: number;
  statements: number;
}

/** One repository file's lines, ascending. */
export interface FileLines {
  /** Repository path (after the path flags). */
  path: string;
  /** The file as the meta-data names it (Go import path + base name). */
  importPath: string;
  lines: LineFigure[];
}

/** A file left out of the line model, and why. */
export interface SkippedFile {
  importPath: string;
  why: string;
}

/** Highest line number taken (no Go source file of a real build is this long). */
export const MAX_LINE = 2_000_000;
/** Line visits a report may spend by default (spans of all blocks plus each file's extent). */
export const DEFAULT_LINE_BUDGET = 200_000_000;

interface Block {
  st: number;
  en: number;
  stmts: number;
  count: number;
}

interface Pending {
  path: string;
  importPath: string;
  blocks: Block[];
  bad?: string;
}

function mergedMode(binaries: MergedBinary[]): CounterMode {
  return binaries.every((b) => b.profile.meta.mode === "set") ? "set" : "count";
}

function fileLines(p: Pending): LineFigure[] {
  let lo = Infinity, hi = 0;
  for (const b of p.blocks) {
    lo = Math.min(lo, b.st);
    hi = Math.max(hi, b.en);
  }
  if (p.blocks.length === 0) return [];
  const size = hi - lo + 1;
  const hits = new Float64Array(size).fill(-1);
  const stmts = new Float64Array(size);
  for (const b of p.blocks) {
    for (let l = b.st; l <= b.en; l++) {
      if (b.count > hits[l - lo]) hits[l - lo] = b.count;
    }
    if (b.st === b.en) {
      stmts[b.st - lo] += b.stmts;
      continue;
    }
    const span = b.en - b.st;
    const each = Math.floor(b.stmts / span), extra = b.stmts % span;
    for (let k = 0; k < span; k++) stmts[b.st + 1 + k - lo] += each + (k < extra ? 1 : 0);
  }
  const out: LineFigure[] = [];
  for (let i = 0; i < size; i++) {
    if (hits[i] >= 0) out.push({ line: lo + i, hits: hits[i], statements: stmts[i] });
  }
  return out;
}

function mergeInto(a: LineFigure[], b: LineFigure[]): LineFigure[] {
  const m = new Map<number, LineFigure>(a.map((l) => [l.line, { ...l }]));
  for (const l of b) {
    const have = m.get(l.line);
    if (!have) m.set(l.line, { ...l });
    else {
      have.hits = Math.max(have.hits, l.hits);
      have.statements += l.statements;
    }
  }
  return [...m.values()].sort((x, y) => x.line - y.line);
}

/**
 * The lines of every file of `binaries`, files sorted by repository path (code units), lines
 * ascending; files the mapper excludes are left out, and so are files whose spans are hostile
 * (pushed on `opts.skipped`).
 *
 * @example linesOf(read.binaries, pathMapper({}, modules))[0] // { path: "alpha/alpha.go", ... }
 */
export function linesOf(
  binaries: MergedBinary[],
  paths: PathMapper,
  opts: { skipped?: SkippedFile[]; budget?: number } = {},
): FileLines[] {
  const table = new UnitTable(mergedMode(binaries));
  const modules = new Map<string, string>();
  for (const b of binaries) {
    table.addProfile(b.profile);
    for (const pkg of b.profile.meta.packages) {
      if (!modules.has(pkg.path)) modules.set(pkg.path, pkg.modulePath);
    }
  }
  // Keyed by package and file: a file name belongs to its package; equal names of two packages
  // (hostile or vendored copies) map to one path and merge below.
  const pending = new Map<string, Pending>();
  table.eachUnit((pkg, file, u) => {
    const key = `${pkg}\0${file}`;
    let p = pending.get(key);
    if (!p) {
      const path = paths.map(file, modules.get(pkg) ?? "");
      if (path === undefined) return;
      pending.set(key, p = { path, importPath: file, blocks: [] });
    }
    if (p.bad) return;
    if (!(u.stLine >= 1 && u.enLine >= u.stLine && u.enLine <= MAX_LINE)) {
      p.bad =
        `block ${u.stLine}.${u.stCol},${u.enLine}.${u.enCol} is not a span of lines 1..${MAX_LINE}`;
      return;
    }
    p.blocks.push({ st: u.stLine, en: u.enLine, stmts: u.stmts, count: u.count });
  });
  let budget = opts.budget ?? DEFAULT_LINE_BUDGET;
  const byPath = new Map<string, FileLines>();
  for (const p of pending.values()) {
    if (p.bad) {
      opts.skipped?.push({ importPath: p.importPath, why: p.bad });
      continue;
    }
    let lo = Infinity, hi = 0, cost = 0;
    for (const b of p.blocks) {
      lo = Math.min(lo, b.st);
      hi = Math.max(hi, b.en);
      cost += b.en - b.st + 1;
    }
    cost += p.blocks.length > 0 ? hi - lo + 1 : 0;
    if (cost > budget) {
      opts.skipped?.push({
        importPath: p.importPath,
        why: `its blocks span ${cost} lines, past the ${budget} the report has left`,
      });
      continue;
    }
    budget -= cost;
    const lines = fileLines(p);
    const have = byPath.get(p.path);
    if (have) have.lines = mergeInto(have.lines, lines);
    else byPath.set(p.path, { path: p.path, importPath: p.importPath, lines });
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Line and statement totals of `files` (what the writers put in their summaries).
 *
 * @example lineTotals(files) // { lines: 40, hitLines: 31, statements: 30, coveredStatements: 22 }
 */
export function lineTotals(files: FileLines[]): {
  lines: number;
  hitLines: number;
  statements: number;
  coveredStatements: number;
} {
  let lines = 0, hitLines = 0, statements = 0, coveredStatements = 0;
  for (const f of files) {
    for (const l of f.lines) {
      lines++;
      statements += l.statements;
      if (l.hits > 0) {
        hitLines++;
        coveredStatements += l.statements;
      }
    }
  }
  return { lines, hitLines, statements, coveredStatements };
}
