/**
 * The line-based formats of `report` (cobertura, lcov, sonar): the line model of what was read,
 * paths mapped by the path flags, files whose names no format can hold refused and named, and one
 * summary line of the figures the file carries.
 */

import { percentText } from "../coverage/summary.ts";
import { safeText } from "../terminal_text.ts";
import { renderCobertura } from "./cobertura.ts";
import { renderLcov } from "./lcov.ts";
import { type FileLines, linesOf, lineTotals, type SkippedFile } from "./lines.ts";
import { type PathFlags, pathMapper } from "./paths.ts";
import type { ReadResult } from "./read.ts";
import { renderSonar } from "./sonar.ts";
import { textfmtNameProblem } from "./textfmt.ts";

export const LINE_FORMATS = ["cobertura", "lcov", "sonar"] as const;
export type LineFormat = typeof LINE_FORMATS[number];

/** The document, stderr notes (summary first), and how many files were left out. */
export interface LineReport {
  text: string;
  notes: string[];
  leftOut: number;
}

function name(s: string): string {
  return safeText(s.length > 200 ? `${s.slice(0, 200)}…` : s);
}

/**
 * The `format` document of `read`; throws PathFlagError on a bad path flag.
 *
 * @example lineReport(read, "lcov", { excludeFile: ["coverage_server.go"] }, opts).text
 */
export function lineReport(
  read: ReadResult,
  format: LineFormat,
  flags: PathFlags,
  opts: { timestamp: number; version: string },
): LineReport {
  const modules = read.binaries.flatMap((b) => b.profile.meta.packages.map((p) => p.modulePath));
  const skipped: SkippedFile[] = [];
  const all = linesOf(read.binaries, pathMapper(flags, modules), { skipped });
  // LCOV has no escape, XML cannot hold most controls: a name with one (or empty, or past
  // PATH_MAX) would not name a file of any checkout; it is refused in every format alike.
  const files: FileLines[] = [];
  for (const f of all) {
    const why = textfmtNameProblem(f.path);
    if (why === undefined) files.push(f);
    else skipped.push({ importPath: f.importPath, why: `its repository path ${why}` });
  }
  const text = format === "cobertura"
    ? renderCobertura(files, opts)
    : format === "lcov"
    ? renderLcov(files)
    : renderSonar(files);
  const t = lineTotals(files);
  const notes = [
    `report: ${format}: ${files.length} files, ${t.lines} lines, ${t.hitLines} hit (${
      percentText({ statements: t.lines, covered: t.hitLines })
    }%); ${t.statements} statements, ${t.coveredStatements} covered (${
      percentText({ statements: t.statements, covered: t.coveredStatements })
    }%)`,
    ...skipped.map((s) => `report: ${format}: file "${name(s.importPath)}" left out: ${s.why}`),
  ];
  return { text, notes, leftOut: skipped.length };
}
