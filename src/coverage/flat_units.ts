/**
 * Units numbered flat over a meta-data file in file order: package, function, unit (the counter
 * order). The index space of a coverage timeline (timeline.ts).
 */

import type { ParsedMeta } from "./meta_types.ts";

/** Units of a decoded meta-data file (the flat index space of its timelines).
 *
 * @example flatUnits(parseMeta(bytes)) // 1234
 */
export function flatUnits(meta: ParsedMeta): number {
  let n = 0;
  for (const p of meta.packages) for (const f of p.functions) n += f.units.length;
  return n;
}

/** A unit as the meta-data and counter files index it. */
export interface UnitPlace {
  pkg: number;
  fn: number;
  unit: number;
}

/** Flat index <-> (package, function, unit) of one meta-data file. */
export interface UnitLocator {
  readonly units: number;
  /** The flat index of unit `unit` of function `fn` of package `pkg`, or -1 when there is none. */
  flat(pkg: number, fn: number, unit: number): number;
  /** Where flat unit `i` is, or undefined when `i` is out of range. */
  place(i: number): UnitPlace | undefined;
}

/**
 * The locator of `meta` (or of any layout with units per function, per package).
 *
 * @example unitLocator(meta).place(7) // { pkg: 0, fn: 2, unit: 1 }
 */
export function unitLocator(meta: ParsedMeta): UnitLocator {
  const fnCount = meta.packages.reduce((n, p) => n + p.functions.length, 0);
  const pkgStart = new Uint32Array(meta.packages.length + 1);
  const fnStart = new Uint32Array(fnCount + 1);
  let fi = 0, u = 0;
  meta.packages.forEach((p, pi) => {
    pkgStart[pi] = fi;
    for (const f of p.functions) fnStart[fi++] = u, u += f.units.length;
  });
  pkgStart[meta.packages.length] = fi;
  fnStart[fi] = u;
  const lastAtMost = (a: Uint32Array, hi: number, v: number) => {
    // The last index j in [0, hi) with a[j] <= v (a ascending, a[0] <= v).
    let lo = 0;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (a[mid] <= v) lo = mid;
      else hi = mid;
    }
    return lo;
  };
  return {
    units: u,
    flat(pkg, fn, unit) {
      if (!(pkg >= 0 && pkg < meta.packages.length && Number.isInteger(pkg))) return -1;
      const f = pkgStart[pkg] + fn;
      if (!(fn >= 0 && f < pkgStart[pkg + 1] && Number.isInteger(fn))) return -1;
      const at = fnStart[f] + unit;
      return unit >= 0 && at < fnStart[f + 1] && Number.isInteger(unit) ? at : -1;
    },
    place(i) {
      if (!(i >= 0 && i < u && Number.isInteger(i))) return undefined;
      // Empty functions share a start: the last function starting at or before i holds it.
      const f = lastAtMost(fnStart, fnCount, i);
      const pkg = lastAtMost(pkgStart, meta.packages.length, f);
      return { pkg, fn: f - pkgStart[pkg], unit: i - fnStart[f] };
    },
  };
}
