/** The text form of `report --windows`: per binary, a table of windows, then where they covered. */

import { safeText } from "../terminal_text.ts";
import { table } from "./model.ts";
import type { EdgePrecision } from "./edge_precision.ts";
import type { BinaryTimeline } from "./timeline_report.ts";

/** Functions listed per window or shared stretch at most (the JSON form has them all). */
export const TEXT_FUNCTIONS = 20;

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(3)}s`;
}

/**
 * An edge's precision in a few words.
 *
 * @example edgeText({ statements: 0, widestMs: 0, firstPull: 0 }) // "exact"
 */
export function edgeText(e: EdgePrecision): string {
  if (e.statements === 0) return "exact";
  const parts = [];
  if (e.statements > e.firstPull) {
    parts.push(`${e.statements - e.firstPull} st. within ${seconds(e.widestMs)}`);
  }
  if (e.firstPull > 0) parts.push(`${e.firstPull} st. at first pull`);
  return parts.join(", ");
}

/**
 * The windows section of one binary (name and hash as in the report's table).
 *
 * @example renderTimelineText("app", "0123456789ab", t)
 */
export function renderTimelineText(binary: string, hash: string, t: BinaryTimeline): string {
  const out = [
    `${safeText(binary)} ${
      hash.slice(0, 12)
    }: ${t.covered} statements covered, ${t.timed} with a time ` +
    `(${t.firstPull} at the collector's first pull), ${t.untimed} untimed, ${t.outside} in no window`,
  ];
  if (t.windows.length === 0) return out.join("\n");
  const rows = [[
    "WINDOW",
    "START",
    "END",
    "STATEMENTS",
    "ONLY",
    "SHARED",
    "START EDGE",
    "END EDGE",
  ]];
  for (const w of t.windows) {
    rows.push([
      w.name,
      w.start,
      w.end,
      String(w.statements),
      String(w.only),
      String(w.shared),
      edgeText(w.precision.start),
      edgeText(w.precision.end),
    ]);
  }
  out.push(table(rows, new Set([3, 4, 5])).replace(/^/gm, "  "));
  const places = (
    title: string,
    fns: { package: string; file: string; name: string; statements: number }[],
  ) => {
    out.push(`  ${title}`);
    for (const f of fns.slice(0, TEXT_FUNCTIONS)) {
      out.push(`    ${String(f.statements).padStart(6)}  ${safeText(f.name)}  ${safeText(f.file)}`);
    }
    if (fns.length > TEXT_FUNCTIONS) out.push(`    ... ${fns.length - TEXT_FUNCTIONS} more`);
  };
  for (const w of t.windows) {
    if (w.only > 0 || w.shared > 0) {
      places(
        `${safeText(w.name)}: ${w.statements} statements in ${w.files.length} files`,
        w.functions,
      );
    }
  }
  for (const s of t.shared) {
    places(
      `shared by ${s.windows.map(safeText).join(" + ")}: ${s.statements} statements`,
      s.functions,
    );
  }
  return out.join("\n");
}
