/**
 * Live coverage of a running server: statements covered / total from the counters the collector
 * already pulled. The meta-data is decoded once per meta hash into a compact table (statements
 * per unit, flat typed arrays) shared by every server of that build; nothing else of it is kept.
 */

import { errorText } from "../errors.ts";
import { parseMeta } from "./meta.ts";

/** Statements per unit of one build, flat: unit `i` of function `f` of package `p` is at
 * `stmts[fnStart[pkgStart[p] + f] + i]`. */
export interface StatementTable {
  readonly hash: string;
  readonly total: number;
  readonly pkgStart: Uint32Array;
  readonly fnStart: Uint32Array;
  readonly stmts: Uint32Array;
}

/** Live figures of one server. */
export interface LiveCoverage {
  covered: number;
  total: number;
  percent: number;
}

/**
 * The compact table of a meta-data file (throws MetaParseError when it is malformed).
 *
 * @example statementTable(metaBytes).total // 275
 */
export function statementTable(metaBytes: Uint8Array): StatementTable {
  const meta = parseMeta(metaBytes);
  const nFuncs = meta.packages.reduce((s, p) => s + p.functions.length, 0);
  const pkgStart = new Uint32Array(meta.packages.length + 1);
  const fnStart = new Uint32Array(nFuncs + 1);
  let f = 0, u = 0;
  meta.packages.forEach((p, i) => {
    pkgStart[i] = f;
    for (const fn of p.functions) {
      fnStart[f++] = u;
      u += fn.units.length;
    }
  });
  pkgStart[meta.packages.length] = f;
  fnStart[nFuncs] = u;
  const stmts = new Uint32Array(u);
  let total = 0;
  let k = 0;
  for (const p of meta.packages) {
    for (const fn of p.functions) {
      for (const unit of fn.units) {
        stmts[k++] = unit.stmts;
        total += unit.stmts;
      }
    }
  }
  return { hash: meta.hash, total, pkgStart, fnStart, stmts };
}

/**
 * Statements covered by a set of covered blocks (`pkgIdx:funcIdx:counterIndex`, as
 * `coveredSet` makes them); keys the table does not have count for nothing.
 *
 * @example liveCoverage(table, new Set(["0:0:1"])) // { covered: 2, total: 275, percent: 0.727... }
 */
export function liveCoverage(table: StatementTable, covered: ReadonlySet<string>): LiveCoverage {
  let n = 0;
  for (const key of covered) {
    const a = key.indexOf(":");
    const b = key.indexOf(":", a + 1);
    if (a < 0 || b < 0) continue;
    const p = Number(key.slice(0, a)),
      f = Number(key.slice(a + 1, b)),
      i = Number(key.slice(b + 1));
    if (!(p < table.pkgStart.length - 1)) continue;
    const fi = table.pkgStart[p] + f;
    if (!(f >= 0 && fi < table.pkgStart[p + 1])) continue;
    const at = table.fnStart[fi] + i;
    if (!(i >= 0 && at < table.fnStart[fi + 1])) continue;
    n += table.stmts[at];
  }
  return {
    covered: n,
    total: table.total,
    percent: table.total === 0 ? 0 : (100 * n) / table.total,
  };
}

/**
 * Tables shared by hash while any server of that build holds one (weakly kept: a build with no
 * server left is collected).
 *
 * @example const t = sharedTables.get(hash, () => metaBytes);
 */
export class StatementTables {
  readonly #tables = new Map<string, WeakRef<StatementTable>>();
  /** Tables computed (a test and benchmark figure: once per new hash). */
  computed = 0;

  /** The table of `hash`, computed from `metaBytes()` only when no live server holds it. */
  get(hash: string, metaBytes: () => Uint8Array): StatementTable {
    const have = this.#tables.get(hash)?.deref();
    if (have) return have;
    for (const [h, ref] of this.#tables) if (ref.deref() === undefined) this.#tables.delete(h);
    const table = statementTable(metaBytes());
    this.computed++;
    this.#tables.set(hash, new WeakRef(table));
    return table;
  }

  /** Like get, but a malformed meta-data file gives its error text instead of throwing. */
  tryGet(hash: string, metaBytes: () => Uint8Array): StatementTable | string {
    try {
      return this.get(hash, metaBytes);
    } catch (e) {
      return errorText(e);
    }
  }
}

/** The tables of this process. */
export const sharedTables: StatementTables = new StatementTables();
