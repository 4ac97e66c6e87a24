/** The figures of a report, per binary and package, and their text and JSON forms. */

import type { CounterMode } from "../coverage/meta.ts";
import { type PackageFigures, percentText, UnitTable } from "../coverage/summary.ts";
import { safeText } from "../terminal_text.ts";
import type { MergedBinary, PrefixError, ReadResult } from "./read.ts";
import type { BinaryTimeline } from "./timeline_report.ts";

export interface BinaryReport {
  /** The group (`--group-by`, src/report/group_by.ts); absent without one. */
  group?: string;
  binary: string;
  hash: string;
  mode: CounterMode;
  prefixes: number;
  processes: number;
  nodes: number;
  pods: number;
  statements: number;
  covered: number;
  percent: string;
  packages: (PackageFigures & { percent: string })[];
  /** Coverage over time: with --windows (and in HTML when the prefixes hold timelines). */
  timeline?: BinaryTimeline;
}

export interface Report {
  source: string;
  prefixes: { found: number; taken: number; unreadable: number };
  binaries: BinaryReport[];
  errors: PrefixError[];
}

/** The unit table of one merged binary. @example tableOf(b).packages() */
export function tableOf(b: MergedBinary): UnitTable {
  const t = new UnitTable(b.profile.meta.mode);
  t.addProfile(b.profile);
  return t;
}

/**
 * The report of what was read.
 *
 * @example buildReport(await readStore(store)).binaries[0].percent // "50.9"
 */
export function buildReport(r: ReadResult): Report {
  return {
    source: r.source,
    prefixes: { found: r.found, taken: r.taken, unreadable: r.errors.length },
    binaries: r.binaries.map((b) => {
      const packages = tableOf(b).packages().map((p) => ({ ...p, percent: percentText(p) }));
      const statements = packages.reduce((s, p) => s + p.statements, 0);
      const covered = packages.reduce((s, p) => s + p.covered, 0);
      return {
        ...(b.group === undefined ? {} : { group: b.group }),
        binary: [...b.names].sort().join(","),
        hash: b.hash,
        mode: b.profile.meta.mode,
        prefixes: b.prefixes,
        processes: b.processes,
        nodes: b.nodes.size,
        pods: b.pods.size,
        statements,
        covered,
        percent: percentText({ statements, covered }),
        packages,
      };
    }),
    errors: r.errors,
  };
}

/**
 * Rows padded into columns (the first row is the header); cells pass safeText, since names are
 * what pods and stored paths chose.
 *
 * @example table([["a", "b"], ["1", "22"]]) // "a  b\n1  22"
 */
export function table(cells: string[][], right: Set<number> = new Set()): string {
  const rows = cells.map((r) => r.map(safeText));
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) =>
    r.map((c, i) => (right.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ").trimEnd()
  ).join("\n");
}

/**
 * The text table: one row per binary, then how many prefixes were read (errors go to stderr).
 *
 * @example renderText(report) // "BINARY  HASH  PACKAGES  STATEMENTS  COVERED  %\n..."
 */
export function renderText(r: Report): string {
  const rows = [["BINARY", "HASH", "PREFIXES", "PACKAGES", "STATEMENTS", "COVERED", "COVERAGE"]];
  for (const b of r.binaries) {
    rows.push([
      b.binary,
      b.hash.slice(0, 12),
      String(b.prefixes),
      String(b.packages.length),
      String(b.statements),
      String(b.covered),
      `${b.percent}%`,
    ]);
  }
  const out = [
    r.binaries.length > 0 ? table(rows, new Set([2, 3, 4, 5, 6])) : "no coverage data found",
    "",
    `${r.prefixes.taken} of ${r.prefixes.found} prefixes in ${
      safeText(r.source)
    }; ${r.prefixes.unreadable} unreadable`,
  ];
  return out.join("\n");
}
