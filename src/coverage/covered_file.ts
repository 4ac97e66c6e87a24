/**
 * Counter data judged without its meta-data (it could not be decoded): the file's own entries
 * make the index space, bounded by `UNMETERED` (a sane build has far fewer). See
 * covered_units.ts.
 */

import { CountersParseError, type CountersVisitor } from "./counters.ts";

/** Bounds of a file judged without its meta-data (function entries, counters). */
export const UNMETERED = { functions: 1 << 18, counters: 1 << 22 } as const;

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

/** What a walk feeds, and what it comes to once walked. */
export interface Judge<C> {
  visit: CountersVisitor;
  done(): C;
}

const has = (bits: Uint32Array, u: number) => (bits[u >>> 5] & (1 << (u & 31))) !== 0;

const set = (bits: Uint32Array, u: number) => bits[u >>> 5] |= 1 << (u & 31);

/** The judge of a file of `size` bytes without meta-data. */
export function fileJudge(size: number): Judge<FileCovered> {
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

/** True when `a` covers a unit `b` does not. */
export function fileCoversMore(a: FileCovered, b: FileCovered): boolean {
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
