/**
 * The covered units of a counter-data file as bitsets, bounded before anything is held.
 *
 * With the build's meta-data known (its unit layout: `StatementTable`), a function entry must
 * name a package and function of the meta-data and carry at most that function's units, and
 * the file at most the meta-data's units in all: anything else is refused (CountersFitError)
 * at the first entry that does not fit, before its counters are read. What is kept is one bit
 * per unit of the meta-data, whatever the file holds.
 *
 * Without it (its meta-data could not be decoded) the file's own entries make the index space,
 * bounded by `UNMETERED` (a sane build has far fewer): a larger file is not judged
 * (CountersParseError "size"), and the store rule stores it whenever its bytes change.
 */

import {
  CountersParseError,
  type CountersVisitor,
  walkCounters,
  walkCountersAsync,
  type WalkOptions,
} from "./counters.ts";

/** The unit layout of one build: unit `i` of function `f` of package `p` is unit
 * `fnStart[pkgStart[p] + f] + i` (a StatementTable is one). */
export interface UnitLayout {
  readonly hash: string;
  readonly pkgStart: Uint32Array;
  readonly fnStart: Uint32Array;
}

/** Bounds of a file judged without its meta-data (function entries, counters). */
export const UNMETERED = { functions: 1 << 18, counters: 1 << 22 } as const;

/** How counter data fails to fit its meta-data. */
export type CountersFitKind =
  | "package-index"
  | "function-index"
  | "function-counters"
  | "total-counters";

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

/** Covered units of the functions a file names, sorted by (pkg, fn) without repeats; function
 * k's units are bits `start[k]` to `start[k + 1]`. */
export interface FileCovered {
  readonly kind: "file";
  readonly pkg: Uint32Array;
  readonly fn: Uint32Array;
  readonly start: Uint32Array;
  readonly bits: Uint32Array;
  readonly count: number;
}

/** What ran, by one counter-data file. */
export type CoveredUnits = MetaCovered | FileCovered;

const has = (bits: Uint32Array, u: number) => (bits[u >>> 5] & (1 << (u & 31))) !== 0;

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

/** What a walk feeds, and what it comes to once walked. */
interface Judge {
  visit: CountersVisitor;
  done(): CoveredUnits;
}

function metaJudge(layout: UnitLayout): Judge {
  const { pkgStart, fnStart } = layout;
  const packages = pkgStart.length - 1;
  const units = fnStart[fnStart.length - 1];
  const bits = new Uint32Array((units + 31) >>> 5);
  let base = 0, seen = 0, count = 0;
  const visit: CountersVisitor = {
    function(p, f, n, at) {
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

const set = (bits: Uint32Array, u: number) => bits[u >>> 5] |= 1 << (u & 31);

function fileJudge(size: number): Judge {
  // Each entry takes at least 3 bytes and each counter 1: room for what the bytes can hold.
  const maxFns = Math.min(UNMETERED.functions, Math.floor(size / 3));
  const pkg = new Uint32Array(maxFns), fn = new Uint32Array(maxFns);
  const start = new Uint32Array(maxFns + 1);
  const bits = new Uint32Array((Math.min(UNMETERED.counters, size) + 31) >>> 5);
  let k = 0, base = 0, seen = 0, count = 0, sorted = true;
  const visit: CountersVisitor = {
    function(p, f, n, at) {
      seen += n;
      if (k >= UNMETERED.functions || seen > UNMETERED.counters) {
        throw new CountersParseError(
          "size",
          at,
          `over ${UNMETERED.functions} functions or ${UNMETERED.counters} counters, ` +
            `too many to judge without the meta-data`,
        );
      }
      if (k > 0 && (p < pkg[k - 1] || (p === pkg[k - 1] && f <= fn[k - 1]))) sorted = false;
      base = seen - n;
      pkg[k] = p, fn[k] = f, start[k++] = base;
    },
    counter(i, v) {
      if (v !== 0) set(bits, base + i), count++;
    },
  };
  const done = () => {
    start[k] = seen;
    const c: FileCovered = {
      kind: "file",
      pkg: pkg.subarray(0, k),
      fn: fn.subarray(0, k),
      start: start.subarray(0, k + 1),
      bits: bits.subarray(0, (seen + 31) >>> 5),
      count,
    };
    return sorted ? c : mergeFunctions(c);
  };
  return { visit, done };
}

/** Sorts the entries by (pkg, fn) and joins repeats of one function (union of their units):
 * cost linear in the units after the sort. */
function mergeFunctions(c: FileCovered): FileCovered {
  const { pkg, fn, start, bits } = c;
  const order = Array.from(pkg, (_, i) => i).sort((a, b) => pkg[a] - pkg[b] || fn[a] - fn[b]);
  const outPkg = new Uint32Array(order.length), outFn = new Uint32Array(order.length);
  const outStart = new Uint32Array(order.length + 1);
  const out = new Uint32Array(bits.length);
  let k = 0, units = 0, count = 0;
  for (let i = 0; i < order.length;) {
    let j = i, len = 0;
    while (j < order.length && pkg[order[j]] === pkg[order[i]] && fn[order[j]] === fn[order[i]]) {
      len = Math.max(len, start[order[j] + 1] - start[order[j]]);
      j++;
    }
    outPkg[k] = pkg[order[i]], outFn[k] = fn[order[i]], outStart[k++] = units;
    for (let m = i; m < j; m++) {
      const e = order[m];
      for (let u = start[e]; u < start[e + 1]; u++) {
        const to = units + u - start[e];
        if (has(bits, u) && !has(out, to)) set(out, to), count++;
      }
    }
    units += len;
    i = j;
  }
  outStart[k] = units;
  return {
    kind: "file",
    pkg: outPkg.subarray(0, k),
    fn: outFn.subarray(0, k),
    start: outStart.subarray(0, k + 1),
    bits: out.subarray(0, (units + 31) >>> 5),
    count,
  };
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

function fileCoversMore(a: FileCovered, b: FileCovered): boolean {
  let j = 0;
  for (let i = 0; i < a.pkg.length; i++) {
    const p = a.pkg[i], f = a.fn[i];
    while (j < b.pkg.length && (b.pkg[j] < p || (b.pkg[j] === p && b.fn[j] < f))) j++;
    const same = j < b.pkg.length && b.pkg[j] === p && b.fn[j] === f;
    const baseLen = same ? b.start[j + 1] - b.start[j] : 0;
    for (let u = 0; u < a.start[i + 1] - a.start[i]; u++) {
      if (has(a.bits, a.start[i] + u) && !(u < baseLen && has(b.bits, b.start[j] + u))) {
        return true;
      }
    }
  }
  return false;
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
