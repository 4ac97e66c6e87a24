/** Timelines of any bytes cost a typed error at worst, and time linear in their size. */

import fc from "fast-check";
import { deepEqual } from "node:assert/strict";
import {
  decodeTimeline,
  encodeTimeline,
  mergeTimelines,
  type Timeline,
  TimelineError,
} from "./timeline.ts";
import { crc32 } from "./crc32.ts";
import { assertNearLinear, fuzzRuns, mutatedBytes, outcome } from "../../tests/harness/fuzz.ts";

const UNITS = 64;
const SAMPLE = encodeTimeline({
  steps: [
    { after: null, at: 1_800_000_000_000, units: [0, 3, 4, 40] },
    { after: 1_800_000_000_000, at: 1_800_000_002_000, units: [1, 9, 63] },
    { after: 1_800_000_009_000, at: 1_800_000_010_000, units: [7] },
  ],
}, UNITS);

/** The bytes with their CRC made right again, so the decoder is driven past the checksum. */
function resealed(b: Uint8Array): Uint8Array {
  if (b.length < 4) return b;
  const out = b.slice();
  const c = crc32(out.subarray(0, out.length - 4));
  for (let i = 0; i < 4; i++) out[out.length - 4 + i] = (c >>> (8 * i)) & 0xff;
  return out;
}

Deno.test("mutated timelines: a timeline or a TimelineError, never a crash", () => {
  fc.assert(
    fc.property(mutatedBytes(SAMPLE), (b) => {
      outcome(() => decodeTimeline(b, UNITS), TimelineError);
      outcome(() => decodeTimeline(resealed(b), UNITS), TimelineError);
    }),
    fuzzRuns(3000),
  );
});

/** Arbitrary valid timelines over UNITS units. */
const timeline: fc.Arbitrary<Timeline> = fc
  .tuple(
    fc.shuffledSubarray([...Array(UNITS).keys()]),
    fc.array(fc.integer({ min: 1, max: 10_000 }), { minLength: UNITS, maxLength: UNITS }),
    fc.array(fc.nat(5_000), { minLength: UNITS, maxLength: UNITS }),
    fc.nat(20),
  )
  .map(([units, deltas, gaps, cuts]) => {
    const steps: Timeline["steps"] = [];
    let at = 1_800_000_000_000;
    for (let i = 0; i < units.length;) {
      const n = 1 + ((deltas[i] + cuts) % 4);
      const part = units.slice(i, i + n).sort((a, b) => a - b);
      at += deltas[i];
      steps.push({ after: gaps[i] === 0 ? null : at - gaps[i], at, units: part });
      i += n;
    }
    return { steps };
  });

Deno.test("any valid timeline reads back as written; a merge of two reads back too", () => {
  fc.assert(
    fc.property(timeline, timeline, (a, b) => {
      deepEqual(decodeTimeline(encodeTimeline(a, UNITS), UNITS), a);
      const m = mergeTimelines(a, b);
      deepEqual(decodeTimeline(encodeTimeline(m, UNITS), UNITS), m);
      // Never a unit lost, each at its earliest time.
      const first = new Map<number, number>();
      for (const t of [a, b]) {
        for (const s of t.steps) {
          for (const u of s.units) first.set(u, Math.min(first.get(u) ?? Infinity, s.at));
        }
      }
      const got = new Map<number, number>();
      for (const s of m.steps) for (const u of s.units) got.set(u, s.at);
      deepEqual(got, first);
    }),
    fuzzRuns(300),
  );
});

Deno.test("decoding costs time linear in the bytes", async () => {
  const make = (n: number) => ({
    n,
    bytes: encodeTimeline({
      steps: Array.from({ length: n / 4 }, (_, k) => ({
        after: k === 0 ? null : 1_800_000_000_000 + k - 1,
        at: 1_800_000_000_000 + k,
        units: [4 * k, 4 * k + 1, 4 * k + 2, 4 * k + 3],
      })),
    }, n),
  });
  await assertNearLinear("timeline steps", make, (t) => decodeTimeline(t.bytes, t.n), {
    n: 20_000,
  });
});
