/**
 * The timeline of one process as its collector pulls it: which units each pull saw covered for
 * the first time, and the pull before it (which saw them not covered). Held as one bit per unit
 * of the meta-data and the steps so far: bounded by the meta-data's unit count, whatever the
 * server sends. Times are the pulls' request times (System.now, ms since the epoch).
 */

import type { MetaCovered } from "../coverage/covered_units.ts";
import {
  decodeTimeline,
  encodeTimeline,
  mergeTimelines,
  type Timeline,
  type TimelineStep,
} from "../coverage/timeline.ts";

/**
 * The timeline of one process, for a meta-data file of `units` units.
 *
 * @example const r = new TimelineRecorder(table); r.observe(covered, now) // [3, 4, 9]
 */
export class TimelineRecorder {
  readonly units: number;
  readonly #bits: Uint32Array;
  #steps: TimelineStep[] = [];
  /** The last pull whose covered units were all in the timeline (null: none yet). */
  #previous: number | null = null;

  constructor(units: number) {
    this.units = units;
    this.#bits = new Uint32Array((units + 31) >>> 5);
  }

  /** The time of the last pull that covered something new; null when none did. */
  get lastNew(): number | null {
    return this.#steps.length === 0 ? null : this.#steps[this.#steps.length - 1].at;
  }

  /** The steps so far. */
  get timeline(): Timeline {
    return { steps: this.#steps };
  }

  /**
   * Merges a timeline stored before (a restart of the collector) into this one: each unit keeps
   * its earliest time. Units first seen after it are timed against its last step (the last pull
   * known to have seen none of them). Throws TimelineError when `bytes` is not a timeline of
   * these units.
   */
  restore(bytes: Uint8Array): void {
    const stored = decodeTimeline(bytes, this.units);
    this.#steps = mergeTimelines(this.timeline, stored).steps;
    for (const s of this.#steps) for (const u of s.units) this.#bits[u >>> 5] |= 1 << (u & 31);
    const last = this.lastNew;
    if (last !== null && (this.#previous === null || this.#previous < last)) this.#previous = last;
  }

  /** A pull at `at` whose covered units are known to be in the timeline already. */
  judged(at: number): void {
    this.#previous = at;
  }

  /**
   * The units `covered` (counters judged against this meta-data) holds that no pull held before,
   * ascending; they become a step at `at`. Cost: linear in the units.
   */
  observe(covered: MetaCovered, at: number): number[] {
    const bits = this.#bits, now = covered.bits;
    const fresh: number[] = [];
    for (let w = 0; w < bits.length && w < now.length; w++) {
      let x = now[w] & ~bits[w];
      if (x === 0) continue;
      bits[w] |= x;
      while (x !== 0) {
        const low = x & -x;
        fresh.push((w << 5) + 31 - Math.clz32(low));
        x ^= low;
      }
    }
    if (fresh.length > 0) {
      // A wall clock set back still gives steps in order: the step goes just after the last.
      const last = this.lastNew;
      const time = last !== null && at <= last ? last + 1 : at;
      const after = this.#previous !== null && this.#previous < time ? this.#previous : null;
      this.#steps.push({ after, at: time, units: fresh });
    }
    this.#previous = at;
    return fresh;
  }

  /** The timeline's bytes (see timeline.ts). */
  encode(): Uint8Array {
    return encodeTimeline(this.timeline, this.units);
  }
}
