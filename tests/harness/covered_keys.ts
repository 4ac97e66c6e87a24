/** The covered units of a judged counter file as string keys: what tests compare. */

import type { CoveredUnits } from "../../src/coverage/covered_units.ts";

const has = (bits: Uint32Array, u: number) => (bits[u >>> 5] & (1 << (u & 31))) !== 0;

/**
 * The covered units as `pkgIdx:funcIdx:counterIndex` keys (what `coveredSet` makes), sorted:
 * what the string-set rule before bitsets held.
 *
 * @example coveredKeys(coveredUnits(bytes)) // ["0:1:1"]
 */
export function coveredKeys(c: CoveredUnits): string[] {
  const keys: string[] = [];
  if (c.kind === "file") {
    for (let k = 0; k < c.pkg.length; k++) {
      for (let u = c.start[k]; u < c.start[k + 1]; u++) {
        if (has(c.bits, u)) keys.push(`${c.pkg[k]}:${c.fn[k]}:${u - c.start[k]}`);
      }
    }
  } else {
    const { pkgStart, fnStart } = c.layout;
    for (let p = 0; p + 1 < pkgStart.length; p++) {
      for (let fi = pkgStart[p]; fi < pkgStart[p + 1]; fi++) {
        for (let u = fnStart[fi]; u < fnStart[fi + 1]; u++) {
          if (has(c.bits, u)) keys.push(`${p}:${fi - pkgStart[p]}:${u - fnStart[fi]}`);
        }
      }
    }
  }
  return keys.sort();
}
