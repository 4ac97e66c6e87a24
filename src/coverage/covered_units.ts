/**
 * The covered units of a counter-data file as bitsets, bounded before anything is held.
 *
 * With the build's meta-data known (its unit layout: `StatementTable`), a function entry must
 * name a package and function of the meta-data and carry at most that function's units, and
 * the file at most the meta-data's units and functions in all: anything else is refused
 * (CountersFitError)
 * at the first entry that does not fit, before its counters are read. What is kept is one bit
 * per unit of the meta-data, whatever the file holds.
 *
 * Without it (its meta-data could not be decoded) the file's own entries make the index space,
 * bounded by `UNMETERED` (a sane build has far fewer): a larger file is not judged
 * (CountersParseError "size"), and the store rule stores it whenever its bytes change.
 */

import {
  type CountersVisitor,
  walkCounters,
  walkCountersAsync,
  type WalkOptions,
} from "./counters.ts";
import {
  type FileCovered,
  fileCoversMore,
  fileJudge,
  type Judge,
  UNMETERED,
} from "./covered_file.ts";

export { type FileCovered, UNMETERED };

/** The unit layout of one build: unit `i` of function `f` of package `p` is unit
 * `fnStart[pkgStart[p] + f] + i` (a StatementTable is one). */
export interface UnitLayout {
  readonly hash: string;
  readonly pkgStart: Uint32Array;
  readonly fnStart: Uint32Array;
}

/** How counter data fails to fit its meta-data. */
export type CountersFitKind =
  | "package-index"
  | "function-index"
  | "function-counters"
  | "total-counters"
  | "total-functions";

/** Room for a segment's string table and args (os.Args, GOOS, ...): Linux passes at most 2 MiB
 * of arguments and environment to a program. */
const ARGS_ROOM = 2 << 20;

/**
 * The most bytes a counter-data file of a build with `layout` can take as a Go program writes
 * it (one segment: header, args, one entry per function of 3 ULEB128s, a counter per unit, each
 * at most 5 bytes, footer). A larger file cannot fit the meta-data: the collector stops reading
 * it there.
 *
 * @example countersBytesBound(table) // 2 MiB + 15 per function + 5 per unit + 83
 */
export function countersBytesBound(layout: UnitLayout): number {
  const functions = layout.fnStart.length - 1;
  const units = layout.fnStart[functions];
  return 32 + 16 + ARGS_ROOM + 3 + 15 * functions + 5 * units + 16;
}

/** Counter data that does not fit the meta-data of its build: refused, never stored. */
export class CountersFitError extends Error {
  constructor(readonly kind: CountersFitKind, readonly offset: number, message: string) {
    super(`counter data does not fit its meta-data: ${message} (at byte ${offset})`);
    this.name = "CountersFitError";
  }
}

/** Covered units over the meta-data's unit index space (bit u: unit u ran). */
export interface MetaCovered {
  readonly kind: "meta";
  readonly layout: UnitLayout;
  readonly bits: Uint32Array;
  /** Units covered. */
  readonly count: number;
}

/** What ran, by one counter-data file. */
export type CoveredUnits = MetaCovered | FileCovered;

/**
 * The covered units of `bytes`, judged against `layout` when known. Throws CountersFitError
 * when the data does not fit `layout`, CountersParseError when malformed (or, without a
 * layout, beyond `UNMETERED`). Cost: linear in the bytes read and the layout's units.
 *
 * @example coveredUnits(bytes, table).count // 42
 */
export function coveredUnits(bytes: Uint8Array, layout?: UnitLayout): CoveredUnits {
  const j = layout ? metaJudge(layout) : fileJudge(bytes.length);
  walkCounters(bytes, j.visit);
  return j.done();
}

/**
 * As `coveredUnits`, pausing for the event loop every so often (see `walkCountersAsync`): what
 * the collector runs, so that one large body never stalls the others or /healthz.
 *
 * @example await coveredUnitsAsync(bytes, table, { signal })
 */
export async function coveredUnitsAsync(
  bytes: Uint8Array,
  layout?: UnitLayout,
  opts: WalkOptions = {},
): Promise<CoveredUnits> {
  const j = layout ? metaJudge(layout) : fileJudge(bytes.length);
  await walkCountersAsync(bytes, j.visit, opts);
  return j.done();
}

function metaJudge(layout: UnitLayout): Judge<MetaCovered> {
  const { pkgStart, fnStart } = layout;
  const packages = pkgStart.length - 1;
  const units = fnStart[fnStart.length - 1];
  const bits = new Uint32Array((units + 31) >>> 5);
  const allFunctions = fnStart.length - 1;
  let base = 0, seen = 0, count = 0, entries = 0;
  const visit: CountersVisitor = {
    function(p, f, n, at) {
      // Go writes a function once: more entries than functions are repeats (each costs time).
      if (++entries > allFunctions) {
        throw new CountersFitError(
          "total-functions",
          at,
          `more function entries than the meta-data's ${allFunctions} functions`,
        );
      }
      if (p >= packages) {
        throw new CountersFitError(
          "package-index",
          at,
          `a function of package ${p}; the meta-data has ${packages} packages`,
        );
      }
      const functions = pkgStart[p + 1] - pkgStart[p];
      if (f >= functions) {
        throw new CountersFitError(
          "function-index",
          at,
          `function ${f} of package ${p}; the meta-data has ${functions} functions in it`,
        );
      }
      const fi = pkgStart[p] + f;
      const have = fnStart[fi + 1] - fnStart[fi];
      if (n > have) {
        throw new CountersFitError(
          "function-counters",
          at,
          `${n} counters for function ${f} of package ${p}, which has ${have} units`,
        );
      }
      seen += n;
      if (seen > units) {
        throw new CountersFitError(
          "total-counters",
          at,
          `more than the meta-data's ${units} units in all (${seen} so far)`,
        );
      }
      base = fnStart[fi];
    },
    counter(i, v) {
      if (v === 0) return;
      const u = base + i, w = u >>> 5, m = 1 << (u & 31);
      if ((bits[w] & m) === 0) bits[w] |= m, count++;
    },
  };
  return { visit, done: () => ({ kind: "meta", layout, bits, count }) };
}

/**
 * True when `current` covers a unit that `base` does not; null when the two cannot be compared
 * (one judged against meta-data and one without, or against different meta-data).
 *
 * @example coversMoreUnits(coveredUnits(now, table), coveredUnits(before, table)) // false
 */
export function coversMoreUnits(current: CoveredUnits, base: CoveredUnits): boolean | null {
  if (current.kind === "meta" && base.kind === "meta") {
    if (current.layout !== base.layout && current.layout.hash !== base.layout.hash) return null;
    const a = current.bits, b = base.bits;
    if (a.length !== b.length) return null;
    for (let w = 0; w < a.length; w++) if ((a[w] & ~b[w]) !== 0) return true;
    return false;
  }
  if (current.kind === "file" && base.kind === "file") return fileCoversMore(current, base);
  return null;
}

/**
 * Statements covered by units judged against a table with statements per unit.
 *
 * @example statementsCovered(table, coveredUnits(bytes, table)) // 12
 */
export function statementsCovered(
  stmts: Uint32Array,
  covered: MetaCovered,
): number {
  let n = 0;
  const bits = covered.bits;
  for (let w = 0; w < bits.length; w++) {
    let x = bits[w];
    while (x !== 0) {
      const low = x & -x;
      n += stmts[(w << 5) + 31 - Math.clz32(low)];
      x ^= low;
    }
  }
  return n;
}
