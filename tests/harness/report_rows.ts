/** A binary of `report --format json` in the forms `go tool covdata` prints, for comparison. */

import { percentText } from "../../src/coverage/summary.ts";
import type { BinaryReport } from "../../src/report/model.ts";

/**
 * Its functions as `go tool covdata func` rows: `file:line:`, name, `xx.x%`; the total row last.
 * @example funcRows(b).at(-1) // ["total", "(statements)", "62.5%"]
 */
export function funcRows(b: BinaryReport): string[][] {
  const rows = b.packages.flatMap((p) =>
    p.functions.map((f) => [`${f.file}:${f.line}:`, f.name, `${percentText(f)}%`])
  );
  rows.push(["total", "(statements)", `${b.percent}%`]);
  return rows;
}

/**
 * Its packages as `go tool covdata percent` lists them: path → "xx.x".
 * @example packagePercents(b).get("example.com/covserver/alpha") // "100.0"
 */
export function packagePercents(b: BinaryReport): Map<string, string> {
  return new Map(b.packages.map((p) => [p.path, p.percent]));
}
