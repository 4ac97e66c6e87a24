/**
 * Coverage over time of one binary: the step curve of covered statements, and what each window
 * of `report --windows` first covered.
 *
 * A step (units first seen at pull `at`, not yet at pull `after`) says the units were covered in
 * `(after, at]`; it is counted in every window with `start < at <= end`. In one window it is that
 * window's; in several (a stretch where they overlap) it is *shared* by exactly those windows and
 * given to none alone. A step whose interval straddles a window edge is counted where `at` falls,
 * and the edge's precision says how many statements straddle it and the widest such interval. A
 * step of the collector's first pull (`after` null, "covered before T0") is counted where its `at`
 * falls too, so never in a window starting at or after it; its interval has no start, and it is
 * named apart (`firstPull`).
 */

import type { Profile } from "../coverage/profile.ts";
import type { Timeline, TimelineStep } from "../coverage/timeline.ts";
import { type EdgePrecision, edgePrecision } from "./edge_precision.ts";
import { type CoveredUnit, firstCovered } from "./first_covered.ts";
import type { Window } from "./windows.ts";

/** Statements of one file. */
export interface FilePlace {
  file: string;
  statements: number;
}

/** Statements of one function. */
export interface FunctionPlace {
  package: string;
  file: string;
  name: string;
  statements: number;
}

export interface WindowFigures {
  name: string;
  start: string;
  end: string;
  /** Statements first covered in the window: `only` + `shared`. */
  statements: number;
  /** ... in no other window. */
  only: number;
  /** ... in a stretch shared with other windows (see `shared` of the binary). */
  shared: number;
  /** ... of which seen at the collector's first pull. */
  firstPull: number;
  files: FilePlace[];
  functions: FunctionPlace[];
  precision: { start: EdgePrecision; end: EdgePrecision };
}

/** Statements first covered where exactly these windows overlap. */
export interface SharedFigures {
  windows: string[];
  statements: number;
  files: FilePlace[];
  functions: FunctionPlace[];
}

/** One point of the step curve: covered statements after the pull at `at`. */
export interface CurvePoint {
  at: string;
  ms: number;
  covered: number;
}

export interface BinaryTimeline {
  /** Covered statements (the binary's figure), `timed` + `untimed`. */
  covered: number;
  timed: number;
  /** Covered statements no timeline step names. */
  untimed: number;
  /** Timed statements seen at the collector's first pull ("before T0"). */
  firstPull: number;
  /** Timed statements in no window. */
  outside: number;
  curve: CurvePoint[];
  windows: WindowFigures[];
  shared: SharedFigures[];
}

/** The functions (interned: package, file, name) a step first covered, with their statements. */
interface StepPlaces {
  statements: number;
  fns: number[];
  stmts: number[];
}

/** Statements per interned function, summed over the steps added. */
class Places {
  readonly fns = new Map<number, number>();
  statements = 0;
  add(p: StepPlaces) {
    this.statements += p.statements;
    for (let j = 0; j < p.fns.length; j++) {
      this.fns.set(p.fns[j], (this.fns.get(p.fns[j]) ?? 0) + p.stmts[j]);
    }
  }
  fileList(refs: Omit<FunctionPlace, "statements">[]): FilePlace[] {
    const files = new Map<string, number>();
    for (const [f, n] of this.fns) files.set(refs[f].file, (files.get(refs[f].file) ?? 0) + n);
    return [...files].map(([file, statements]) => ({ file, statements }))
      .sort((a, b) => b.statements - a.statements || (a.file < b.file ? -1 : 1));
  }
  functionList(refs: Omit<FunctionPlace, "statements">[]): FunctionPlace[] {
    return [...this.fns].map(([f, statements]) => ({ ...refs[f], statements })).sort((a, b) =>
      b.statements - a.statements || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
    );
  }
}

/** Each step's functions, interned into `refs`. */
function stepPlaces(
  steps: number,
  units: CoveredUnit[],
  refs: Omit<FunctionPlace, "statements">[],
): StepPlaces[] {
  const ids = new Map<string, number>();
  const per = Array.from({ length: steps }, () => new Map<number, number>());
  for (const u of units) {
    if (u.step < 0) continue;
    const k = `${u.package}\0${u.file}\0${u.function}`;
    let id = ids.get(k);
    if (id === undefined) {
      ids.set(k, id = refs.length);
      refs.push({ package: u.package, file: u.file, name: u.function });
    }
    per[u.step].set(id, (per[u.step].get(id) ?? 0) + u.statements);
  }
  return per.map((m) => {
    const stmts = [...m.values()];
    return { statements: stmts.reduce((a, b) => a + b, 0), fns: [...m.keys()], stmts };
  });
}

/** The window indices with `start < at <= end`, per step (steps sorted by `at`), by a sweep. */
function windowsAt(steps: TimelineStep[], windows: readonly Window[]): number[][] {
  const byStart = windows.map((_, i) => i).sort((a, b) => windows[a].start - windows[b].start);
  const active = new Set<number>();
  let next = 0;
  return steps.map((s) => {
    while (next < byStart.length && windows[byStart[next]].start < s.at) {
      active.add(byStart[next++]);
    }
    for (const w of active) if (windows[w].end < s.at) active.delete(w);
    return [...active].sort((a, b) => a - b);
  });
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * The timeline figures of one binary: its curve, and per window what it first covered.
 *
 * @example binaryTimeline(b.profile, b.timeline, windows).windows[0].statements // 12
 */
export function binaryTimeline(
  profile: Profile,
  timeline: Timeline | undefined,
  windows: readonly Window[],
): BinaryTimeline {
  const { steps, units } = firstCovered(profile, timeline);
  let untimed = 0, covered = 0;
  for (const u of units) {
    covered += u.statements;
    if (u.step < 0) untimed += u.statements;
  }
  const refs: Omit<FunctionPlace, "statements">[] = [];
  const places = stepPlaces(steps.length, units, refs);
  const stmts = places.map((p) => p.statements);
  const at = windowsAt(steps, windows);
  const inWindow = windows.map(() => new Places());
  const only = windows.map(() => 0);
  const firstPullIn = windows.map(() => 0);
  const groups = new Map<string, { windows: number[]; places: Places }>();
  const curve: CurvePoint[] = [];
  let sum = 0, outside = 0, firstPull = 0;
  steps.forEach((s, i) => {
    if (stmts[i] === 0) return;
    sum += stmts[i];
    const last = curve[curve.length - 1];
    if (last && last.ms === s.at) last.covered = sum;
    else curve.push({ at: iso(s.at), ms: s.at, covered: sum });
    if (s.after === null) firstPull += stmts[i];
    const ws = at[i];
    if (ws.length === 0) outside += stmts[i];
    for (const w of ws) {
      inWindow[w].add(places[i]);
      if (ws.length === 1) only[w] += stmts[i];
      if (s.after === null) firstPullIn[w] += stmts[i];
    }
    if (ws.length > 1) {
      const k = ws.join(",");
      let g = groups.get(k);
      if (!g) groups.set(k, g = { windows: ws, places: new Places() });
      g.places.add(places[i]);
    }
  });
  const edges = edgePrecision(steps, stmts, windows.flatMap((w) => [w.start, w.end]));
  return {
    covered,
    timed: covered - untimed,
    untimed,
    firstPull,
    outside,
    curve,
    windows: windows.map((w, i) => ({
      name: w.name,
      start: iso(w.start),
      end: iso(w.end),
      statements: inWindow[i].statements,
      only: only[i],
      shared: inWindow[i].statements - only[i],
      firstPull: firstPullIn[i],
      files: inWindow[i].fileList(refs),
      functions: inWindow[i].functionList(refs),
      precision: { start: edges[2 * i], end: edges[2 * i + 1] },
    })),
    shared: [...groups.values()].map((g) => ({
      windows: g.windows.map((w) => windows[w].name),
      statements: g.places.statements,
      files: g.places.fileList(refs),
      functions: g.places.functionList(refs),
    })),
  };
}
