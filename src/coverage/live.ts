/**
 * Live coverage of a running server: statements covered / total from the counters the collector
 * already pulled. The meta-data is decoded (and its hashes checked) once per distinct file into a
 * compact table (statements per unit, flat typed arrays) shared by every server of that build;
 * nothing else of it is kept.
 */

import { type MetaVisitor, type ParseMetaAsyncOptions, visitMeta, visitMetaAsync } from "./meta.ts";

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

/** Builds a table as the decoder walks the file (no object per function or unit). */
class TableBuilder implements MetaVisitor {
  readonly names = false;
  pkgStart: number[] = [];
  fnStart: number[] = [];
  stmts = new Uint32Array(1024);
  units = 0;
  total = 0;
  package(): void {
    this.pkgStart.push(this.fnStart.length);
  }
  func(_name: string, _file: string, numUnits: number): void {
    this.fnStart.push(this.units);
    if (this.units + numUnits > this.stmts.length) {
      const grown = new Uint32Array(Math.max(2 * this.stmts.length, this.units + numUnits));
      grown.set(this.stmts);
      this.stmts = grown;
    }
  }
  unit(_sl: number, _sc: number, _el: number, _ec: number, stmts: number): void {
    this.stmts[this.units++] = stmts;
    this.total += stmts;
  }
  end(): void {}
  table(hash: string): StatementTable {
    return {
      hash,
      total: this.total,
      pkgStart: Uint32Array.from([...this.pkgStart, this.fnStart.length]),
      fnStart: Uint32Array.from([...this.fnStart, this.units]),
      stmts: this.stmts.slice(0, this.units),
    };
  }
}

/**
 * The compact table of a meta-data file, its hash computed and checked (throws MetaParseError
 * when it is malformed or its hashes are not what its contents give).
 *
 * @example statementTable(metaBytes).total // 275
 */
export function statementTable(metaBytes: Uint8Array): StatementTable {
  const b = new TableBuilder();
  return b.table(visitMeta(metaBytes, b).hash);
}

/**
 * As statementTable, yielding to the event loop every `budgetMs` of decoding.
 *
 * @example await statementTableAsync(metaBytes, { signal }) // { hash, total, ... }
 */
export async function statementTableAsync(
  metaBytes: Uint8Array,
  opts: ParseMetaAsyncOptions = {},
): Promise<StatementTable> {
  const b = new TableBuilder();
  return b.table((await visitMetaAsync(metaBytes, b, opts)).hash);
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

async function sha256(bytes: Uint8Array): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Tables shared by every server of a build while any of them holds one (weakly kept: a build with
 * no server left is collected). Keyed by the SHA-256 of the meta-data bytes, not by the hash they
 * claim: bytes seen before were checked before; new bytes are decoded and checked (a forged file
 * claiming a real build's hash never gets, or replaces, that build's table).
 *
 * @example const t = await sharedTables.verify(metaBytes, { signal }); t.hash // computed
 */
export class StatementTables {
  readonly #tables = new Map<string, WeakRef<StatementTable>>();
  /** Tables computed (a test and benchmark figure: once per new meta-data file). */
  computed = 0;

  /** The checked table of `metaBytes` (rejects with MetaParseError when they are not Go's). */
  async verify(metaBytes: Uint8Array, opts: ParseMetaAsyncOptions = {}): Promise<StatementTable> {
    const key = await sha256(metaBytes);
    const have = this.#tables.get(key)?.deref();
    if (have) return have;
    const table = await statementTableAsync(metaBytes, opts);
    for (const [k, ref] of this.#tables) if (ref.deref() === undefined) this.#tables.delete(k);
    this.computed++;
    // Another server of the build may have finished first: share its table.
    const now = this.#tables.get(key)?.deref();
    if (now) return now;
    this.#tables.set(key, new WeakRef(table));
    return table;
  }
}

/** The tables of this process. */
export const sharedTables: StatementTables = new StatementTables();
