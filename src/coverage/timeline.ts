/**
 * The coverage timeline of one process: when each unit (basic block) was first seen covered, at
 * the collector pull that saw it. Pure: encode, decode (every byte and bound checked), merge.
 *
 * Units are numbered flat over the meta-data in file order: package, function, unit (the counter
 * order), as `unitLocator` (flat_units.ts) maps them.
 *
 * The object (version 1), all integers ULEB128 (at most 53 bits):
 *
 *     "CVTL" 0x01            magic and version
 *     units                  units of the meta-data it was built for (must equal the reader's)
 *     steps                  number of steps (each has at least one unit: at most `units`)
 *     per step:
 *       at                   first step: ms since the epoch; later: ms after the previous step (> 0)
 *       gap                  0: covered before the first pull (`after` null); else at - after (> 0)
 *       runs                 runs of neighbouring units in the step (> 0), then per run:
 *         skip               first run: its first unit; later: units between it and the run
 *                            before, minus 1 (runs never touch)
 *         len                units of the run, minus 1
 *     crc                    CRC-32 (IEEE) of every byte before it, 4 bytes little-endian
 *
 * A unit appears in one step only; a reader refuses a repeat, a unit past `units`, a time past
 * 2^53, trailing bytes or a wrong CRC with a TimelineError naming the byte.
 */

import { crc32 } from "./crc32.ts";

/** One pull that saw units covered for the first time. */
export interface TimelineStep {
  /** Ms since the epoch, null when the units were covered at the collector's first pull of the
   * process (`at`): "covered before T0". Otherwise the previous pull, which saw them not covered
   * (the step's precision is `at - after`). */
  after: number | null;
  /** Ms since the epoch of the pull that first saw `units` covered. */
  at: number;
  /** Flat unit indexes, ascending. */
  units: number[];
}

/** Steps ascending by `at` (each `at` once); a unit appears in one step only. */
export interface Timeline {
  steps: TimelineStep[];
}

/** What was wrong with a timeline object. */
export type TimelineErrorKind =
  | "magic"
  | "version"
  | "units"
  | "truncated"
  | "value"
  | "order"
  | "crc"
  | "trailing";

/** A timeline object (or a timeline handed to the encoder) is malformed at byte `offset`. */
export class TimelineError extends Error {
  constructor(readonly kind: TimelineErrorKind, readonly offset: number, message: string) {
    super(`coverage timeline: ${message} (at byte ${offset})`);
    this.name = "TimelineError";
  }
}

const MAGIC = [0x43, 0x56, 0x54, 0x4c]; // "CVTL"
const VERSION = 1;
const HEADER = MAGIC.length + 1;
const CRC_BYTES = 4;
/** A 53-bit value takes at most 8 ULEB128 bytes. */
const MAX_VARINT = 8;

/** The object name of a process's timeline in its prefix: `covtimeline.<metahash>.<pid>`
 * (no `covmeta.`/`covcounters.` prefix, so `go tool covdata` and layout readers pass it by). */
export function timelineName(metaHash: string, pid: number): string {
  return `covtimeline.${metaHash}.${pid}`;
}

class Out {
  bytes = new Uint8Array(256);
  length = 0;
  byte(b: number): void {
    if (this.length === this.bytes.length) {
      const grown = new Uint8Array(2 * this.bytes.length);
      grown.set(this.bytes);
      this.bytes = grown;
    }
    this.bytes[this.length++] = b;
  }
  varint(v: number): void {
    while (v >= 128) this.byte((v % 128) | 0x80), v = Math.floor(v / 128);
    this.byte(v);
  }
}

const fault = (kind: TimelineErrorKind, message: string) => new TimelineError(kind, 0, message);

/**
 * The bytes of `t`. Throws TimelineError when `t` breaks its own rules (steps not ascending by
 * `at`, units not ascending or repeated, `after` not before `at`, values not safe integers):
 * what is written can always be read back. `units` (the meta-data's units) goes in the header;
 * without it the largest unit + 1 does.
 *
 * @example decodeTimeline(encodeTimeline(t, 12), 12) // t
 */
export function encodeTimeline(t: Timeline, units?: number): Uint8Array {
  const o = new Out();
  for (const b of MAGIC) o.byte(b);
  o.byte(VERSION);
  let top = -1;
  for (const s of t.steps) for (const u of s.units) top = Math.max(top, u);
  const n = units ?? top + 1;
  if (!isCount(n) || top >= n) {
    throw fault("units", `unit ${top} does not fit a timeline of ${n} units`);
  }
  o.varint(n);
  o.varint(t.steps.length);
  const seen = new Uint8Array(n);
  let prevAt = -1;
  t.steps.forEach((s, k) => {
    if (!isCount(s.at) || s.at <= prevAt) {
      throw fault("order", `step ${k}: at ${s.at} is not after the previous step's ${prevAt}`);
    }
    if (s.after !== null && !(isCount(s.after) && s.after < s.at)) {
      throw fault("order", `step ${k}: after ${s.after} is not a time before at ${s.at}`);
    }
    if (s.units.length === 0) throw fault("order", `step ${k} has no units`);
    o.varint(prevAt < 0 ? s.at : s.at - prevAt);
    o.varint(s.after === null ? 0 : s.at - s.after);
    let prev = -1;
    const runs: number[] = []; // start, length, start, length...
    for (const u of s.units) {
      if (!isCount(u) || u <= prev || seen[u]) {
        throw fault("order", `step ${k}: unit ${u} is not ascending or is in another step`);
      }
      seen[u] = 1;
      if (u === prev + 1 && runs.length > 0) runs[runs.length - 1]++;
      else runs.push(u, 1);
      prev = u;
    }
    o.varint(runs.length / 2);
    let next = 0;
    for (let i = 0; i < runs.length; i += 2) {
      o.varint(runs[i] - next);
      o.varint(runs[i + 1] - 1);
      next = runs[i] + runs[i + 1] + 1;
    }
    prevAt = s.at;
  });
  const crc = crc32(o.bytes.subarray(0, o.length));
  for (let i = 0; i < CRC_BYTES; i++) o.byte((crc >>> (8 * i)) & 0xff);
  return o.bytes.slice(0, o.length);
}

function isCount(v: number): boolean {
  return Number.isSafeInteger(v) && v >= 0;
}

/**
 * The timeline in `bytes`, for a meta-data file of `units` units. Throws TimelineError at the
 * first byte or bound that is wrong. Cost: linear in the bytes and `units`.
 *
 * @example decodeTimeline(await Deno.readFile("covtimeline.<hash>.<pid>"), flatUnits(meta))
 */
export function decodeTimeline(bytes: Uint8Array, units: number): Timeline {
  if (bytes.length < HEADER + CRC_BYTES) {
    throw new TimelineError("truncated", 0, `${bytes.length} bytes is shorter than any timeline`);
  }
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw new TimelineError("magic", i, "not a timeline (no CVTL)");
  }
  if (bytes[MAGIC.length] !== VERSION) {
    throw new TimelineError("version", MAGIC.length, `version ${bytes[MAGIC.length]}, not 1`);
  }
  const end = bytes.length - CRC_BYTES;
  const want = (bytes[end] | bytes[end + 1] << 8 | bytes[end + 2] << 16 | bytes[end + 3] << 24) >>>
    0;
  if (crc32(bytes.subarray(0, end)) !== want) {
    throw new TimelineError("crc", end, "the CRC-32 does not match the bytes");
  }
  let pos = HEADER;
  const varint = (what: string): number => {
    let v = 0;
    for (let i = 0; i < MAX_VARINT; i++) {
      if (pos >= end) throw new TimelineError("truncated", pos, `${what} is cut off`);
      const b = bytes[pos++];
      v += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(v)) {
          throw new TimelineError("value", pos - 1, `${what} is past 2^53`);
        }
        return v;
      }
    }
    throw new TimelineError("value", pos, `${what} is a varint longer than ${MAX_VARINT} bytes`);
  };
  const n = varint("the unit count");
  if (n !== units) {
    throw new TimelineError("units", HEADER, `made for ${n} units, the meta-data has ${units}`);
  }
  const stepsAt = pos;
  const stepCount = varint("the step count");
  // Each step takes at least 4 bytes and holds a unit: more steps than either is a lie.
  if (stepCount > units || 4 * stepCount > end - pos) {
    throw new TimelineError("value", stepsAt, `${stepCount} steps cannot fit`);
  }
  const seen = new Uint8Array(units);
  let left = units;
  const steps: TimelineStep[] = [];
  let at = 0;
  for (let k = 0; k < stepCount; k++) {
    const stepAt = pos;
    const d = varint(`step ${k} time`);
    if (k > 0 && d === 0) {
      throw new TimelineError("order", stepAt, `step ${k} is not after ${k - 1}`);
    }
    at += d;
    if (!Number.isSafeInteger(at)) throw new TimelineError("value", stepAt, `step ${k} past 2^53`);
    const gapAt = pos;
    const gap = varint(`step ${k} precision`);
    if (gap > at) throw new TimelineError("value", gapAt, `step ${k}: after is before the epoch`);
    const runsAt = pos;
    const runs = varint(`step ${k} run count`);
    // A run takes two bytes and holds a unit not yet seen.
    if (runs === 0 || runs > left || 2 * runs > end - pos) {
      throw new TimelineError("value", runsAt, `step ${k}: ${runs} runs cannot fit`);
    }
    const list: number[] = [];
    let next = 0;
    for (let r = 0; r < runs; r++) {
      const runAt = pos;
      const start = next + varint(`step ${k} run ${r} start`);
      const len = varint(`step ${k} run ${r} length`) + 1;
      if (len > left || start + len > units) {
        throw new TimelineError(
          "value",
          runAt,
          `step ${k} run ${r}: units ${start}..${start + len - 1} past the ${units} units`,
        );
      }
      left -= len;
      for (let u = start; u < start + len; u++) {
        if (seen[u]) {
          throw new TimelineError("value", runAt, `unit ${u} is in an earlier step`);
        }
        seen[u] = 1;
        list.push(u);
      }
      next = start + len + 1;
    }
    steps.push({ after: gap === 0 ? null : at - gap, at, units: list });
  }
  if (pos !== end) throw new TimelineError("trailing", pos, `${end - pos} bytes after the steps`);
  return { steps };
}

/**
 * One timeline of two of the same process: per unit the earliest `at` (with that step's
 * `after`); two steps of one `at` become one, `after` the earlier (null when either is). No unit
 * of either is lost. Cost: O(u log u) in the units of both.
 *
 * @example mergeTimelines(stored, seen).steps[0].at // the earliest time of either
 */
export function mergeTimelines(a: Timeline, b: Timeline): Timeline {
  const first = new Map<number, number>();
  for (const t of [a, b]) {
    for (const s of t.steps) {
      for (const u of s.units) {
        const at = first.get(u);
        if (at === undefined || s.at < at) first.set(u, s.at);
      }
    }
  }
  const byAt = new Map<number, TimelineStep>();
  for (const t of [a, b]) {
    for (const s of t.steps) {
      const have = byAt.get(s.at);
      if (have === undefined) byAt.set(s.at, { after: s.after, at: s.at, units: [] });
      else if (have.after !== null) {
        have.after = s.after === null ? null : Math.min(have.after, s.after);
      }
    }
  }
  for (const [u, at] of first) byAt.get(at)!.units.push(u);
  const steps = [...byAt.values()].filter((s) => s.units.length > 0);
  for (const s of steps) s.units.sort((x, y) => x - y);
  steps.sort((x, y) => x.at - y.at);
  return { steps };
}
