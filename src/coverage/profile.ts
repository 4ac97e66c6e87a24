/**
 * Merged counters of one binary (one meta hash), the way `go tool covdata merge` merges them:
 * in `set` mode a counter is 1 when any input has it nonzero, in `count` and `atomic` modes the
 * inputs add up, saturating at 2^32-1.
 */

import type { ParsedCounters } from "./counters.ts";
import type { ParsedMeta } from "./meta.ts";

/** Counters do not fit the meta-data they name (a foreign or corrupt file). */
export class ProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProfileError";
  }
}

/** One binary's meta-data and its merged counters per function (`funcs[pkg][fn]`). */
export interface Profile {
  meta: ParsedMeta;
  /** The meta-data file as read (written unchanged by `--format covdata`). */
  metaBytes: Uint8Array;
  /** Merged counters; null for a function no input has counters for. */
  funcs: (Uint32Array | null)[][];
  /** Counter files merged in. */
  inputs: number;
}

/** A profile with no counters yet. @example emptyProfile(meta, bytes).inputs // 0 */
export function emptyProfile(meta: ParsedMeta, metaBytes: Uint8Array): Profile {
  return {
    meta,
    metaBytes,
    funcs: meta.packages.map((p) => p.functions.map(() => null)),
    inputs: 0,
  };
}

/**
 * Checks that every function of `counters` exists in the profile's meta-data with as many units
 * as counters; throws ProfileError naming the first that does not.
 *
 * @example checkCounters(profile, parsed) // throws on a function index past its package
 */
export function checkCounters(profile: Profile, counters: ParsedCounters): void {
  for (const f of counters.functions) {
    const fn = profile.meta.packages[f.pkgIdx]?.functions[f.funcIdx];
    if (fn === undefined) {
      throw new ProfileError(
        `counters name function ${f.pkgIdx}:${f.funcIdx}, not in the meta-data`,
      );
    }
    if (fn.units.length !== f.counters.length) {
      throw new ProfileError(
        `function ${f.pkgIdx}:${f.funcIdx} has ${f.counters.length} counters for ${fn.units.length} units`,
      );
    }
  }
}

/**
 * The elementwise maximum of several snapshots of one process's counters (its `.1` and `.2`
 * slots): counters only grow, so the maximum is the latest value of each.
 *
 * @example latestOf([a, b]).functions.length
 */
export function latestOf(snapshots: ParsedCounters[]): ParsedCounters {
  if (snapshots.length === 1) return snapshots[0];
  const byKey = new Map<string, { pkgIdx: number; funcIdx: number; counters: number[] }>();
  for (const s of snapshots) {
    for (const f of s.functions) {
      const key = `${f.pkgIdx}:${f.funcIdx}`;
      const have = byKey.get(key);
      if (!have) byKey.set(key, { ...f, counters: [...f.counters] });
      else {
        f.counters.forEach((v, i) => {
          if (!(have.counters[i] >= v)) have.counters[i] = v;
        });
      }
    }
  }
  return { flavor: snapshots[0].flavor, segments: 1, functions: [...byKey.values()] };
}

/**
 * Merges one process's counters into the profile (checkCounters first).
 *
 * @example addCounters(profile, parseCounters(bytes)); profile.inputs // 1
 */
export function addCounters(profile: Profile, counters: ParsedCounters): void {
  checkCounters(profile, counters);
  const set = profile.meta.mode === "set";
  for (const f of counters.functions) {
    const row = profile.funcs[f.pkgIdx];
    let dst = row[f.funcIdx];
    if (dst === null) dst = row[f.funcIdx] = new Uint32Array(f.counters.length);
    for (let i = 0; i < f.counters.length; i++) {
      const v = f.counters[i];
      if (set) {
        if (v !== 0) dst[i] = 1;
      } else dst[i] = Math.min(0xffffffff, dst[i] + v);
    }
  }
  profile.inputs++;
}
