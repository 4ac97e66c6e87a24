/**
 * When each covered unit of a merged binary was first seen covered, from its timeline: the
 * earliest step naming the unit. Units are keyed as the report's figures key them (package,
 * file, function, span, statements; summary.ts), so statements counted here add up to the
 * binary's `covered`; a covered unit no step names is *untimed* (stored before timelines were).
 * Units are numbered flat over the meta-data in file order (package, function, unit), as the
 * timeline numbers them.
 */

import { flatUnits } from "../coverage/flat_units.ts";
import type { Profile } from "../coverage/profile.ts";
import type { Timeline, TimelineStep } from "../coverage/timeline.ts";

/** A covered unit and where its first-seen time came from. */
export interface CoveredUnit {
  package: string;
  file: string;
  function: string;
  statements: number;
  /** Index into `steps` of FirstCovered, or -1 (untimed). */
  step: number;
}

export interface FirstCovered {
  /** The timeline's steps, sorted by `at`. */
  steps: TimelineStep[];
  /** Covered units, deduplicated as the report's figures count them. */
  units: CoveredUnit[];
}

function sortedSteps(t: Timeline | undefined): TimelineStep[] {
  return t === undefined ? [] : [...t.steps].sort((a, b) => a.at - b.at);
}

/** The earliest step (index into `steps`) per flat unit, -1 when none names it. */
function firstStepOf(steps: TimelineStep[], units: number): Int32Array {
  const first = new Int32Array(units).fill(-1);
  steps.forEach((s, si) => {
    for (const u of s.units) if (u >= 0 && u < units && first[u] < 0) first[u] = si;
  });
  return first;
}

/** Calls `visit` per unit of the meta-data with its flat index and report key. */
function eachUnit(
  profile: Profile,
  visit: (flat: number, key: string, p: number, f: number, i: number) => void,
): void {
  let flat = 0;
  profile.meta.packages.forEach((pkg, p) => {
    pkg.functions.forEach((fn, f) => {
      const fkey = `${pkg.path}\0${fn.file}\0${fn.name}\0${fn.literal}`;
      fn.units.forEach((u, i) => {
        visit(flat++, `${fkey}\0${u.stLine}:${u.stCol}:${u.enLine}:${u.enCol}:${u.stmts}`, p, f, i);
      });
    });
  });
}

/**
 * The covered units of `profile` with the step that first saw each.
 *
 * @example firstCovered(b.profile, b.timeline).units.filter((u) => u.step >= 0).length
 */
export function firstCovered(profile: Profile, timeline: Timeline | undefined): FirstCovered {
  const steps = sortedSteps(timeline);
  const first = firstStepOf(steps, flatUnits(profile.meta));
  const byKey = new Map<string, CoveredUnit>();
  eachUnit(profile, (flat, key, p, f, i) => {
    if ((profile.funcs[p][f]?.[i] ?? 0) === 0) return;
    const s = first[flat];
    const have = byKey.get(key);
    if (have) {
      if (s >= 0 && (have.step < 0 || s < have.step)) have.step = s;
      return;
    }
    const pkg = profile.meta.packages[p], fn = pkg.functions[f];
    byKey.set(key, {
      package: pkg.path,
      file: fn.file,
      function: fn.name,
      statements: fn.units[i].stmts,
      step: s,
    });
  });
  return { steps, units: [...byKey.values()] };
}

/**
 * A copy of `profile` keeping only the units first covered in `since < at <= until` (the rule of
 * a window); untimed units are dropped, since nothing says when they were covered.
 *
 * @example coveredIn(b.profile, b.timeline, Date.parse("2026-12-02T10:00:00Z"), undefined)
 */
export function coveredIn(
  profile: Profile,
  timeline: Timeline | undefined,
  since: number | undefined,
  until: number | undefined,
): Profile {
  const steps = sortedSteps(timeline);
  const first = firstStepOf(steps, flatUnits(profile.meta));
  const earliest = new Map<string, number>();
  eachUnit(profile, (flat, key, p, f, i) => {
    if ((profile.funcs[p][f]?.[i] ?? 0) === 0) return;
    const s = first[flat];
    if (s < 0) return;
    const have = earliest.get(key);
    if (have === undefined || steps[s].at < have) earliest.set(key, steps[s].at);
  });
  const funcs = profile.funcs.map((row) => row.map((c) => (c === null ? null : c.slice())));
  eachUnit(profile, (_flat, key, p, f, i) => {
    const c = funcs[p][f];
    if (c === null || c[i] === 0) return;
    const at = earliest.get(key);
    const keep = at !== undefined && (since === undefined || at > since) &&
      (until === undefined || at <= until);
    if (!keep) c[i] = 0;
  });
  return { ...profile, funcs };
}
