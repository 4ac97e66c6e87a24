/**
 * The HTML report's per-file figures of one merged binary: each file of the meta-data with its
 * statements and covered statements (units merged as `go tool covdata` merges them, so a file's
 * figures are Go's textfmt summed per file), its functions as the JSON report lists them, and its
 * blocks (line:col spans with their counts) for the source view.
 */

import { percentText } from "../coverage/summary.ts";
import type { BinaryReport } from "./model.ts";
import { tableOf } from "./model.ts";
import type { MergedBinary } from "./read.ts";

/** One function of a file: name, line, statements, covered, percent. */
export type PageFunction = [string, number, number, number, string];

/** One file of a binary, as the page's data carries it. */
export interface PageFile {
  /** The file as the meta-data names it (import path + base name). */
  file: string;
  pkg: string;
  module: string;
  statements: number;
  covered: number;
  percent: string;
  functions: PageFunction[];
  /** Blocks flat, six numbers each: start line, start col, end line, end col, statements, count
   * (columns are Go's: 1-based bytes). */
  blocks: number[];
}

/**
 * The files of `b` (sorted by name), with the functions of its report entry `r`.
 *
 * @example filesOf(read.binaries[0], report.binaries[0])[0].file // "example.test/covserver/alpha/alpha.go"
 */
export function filesOf(b: MergedBinary, r: BinaryReport): PageFile[] {
  const modules = new Map<string, string>();
  for (const p of b.profile.meta.packages) {
    if (!modules.has(p.path)) modules.set(p.path, p.modulePath);
  }
  const byKey = new Map<string, PageFile>();
  tableOf(b).eachUnit((pkg, file, u) => {
    const key = `${pkg}\0${file}`;
    let f = byKey.get(key);
    if (!f) {
      f = {
        file,
        pkg,
        module: modules.get(pkg) ?? "",
        statements: 0,
        covered: 0,
        percent: "",
        functions: [],
        blocks: [],
      };
      byKey.set(key, f);
    }
    f.statements += u.stmts;
    if (u.count !== 0) f.covered += u.stmts;
    f.blocks.push(u.stLine, u.stCol, u.enLine, u.enCol, u.stmts, u.count);
  });
  for (const p of r.packages) {
    for (const fn of p.functions) {
      byKey.get(`${p.path}\0${fn.file}`)?.functions.push([
        fn.name,
        fn.line,
        fn.statements,
        fn.covered,
        percentText(fn),
      ]);
    }
  }
  const files = [...byKey.values()];
  for (const f of files) f.percent = percentText(f);
  return files.sort((a, b) =>
    a.file < b.file ? -1 : a.file > b.file ? 1 : a.pkg < b.pkg ? -1 : a.pkg > b.pkg ? 1 : 0
  );
}
