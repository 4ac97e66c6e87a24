import { deepEqual, equal, throws } from "node:assert/strict";
import {
  decodeTimeline,
  encodeTimeline,
  mergeTimelines,
  type Timeline,
  TimelineError,
  timelineName,
} from "./timeline.ts";
import { flatUnits, unitLocator } from "./flat_units.ts";
import { crc32 } from "./crc32.ts";
import type { ParsedMeta } from "./meta_types.ts";

const T0 = Date.parse("2026-12-02T01:00:00Z");
const SAMPLE: Timeline = {
  steps: [
    { after: null, at: T0, units: [0, 3, 4] },
    { after: T0, at: T0 + 2000, units: [1, 9] },
    { after: T0 + 9000, at: T0 + 10_000, units: [7] },
  ],
};

const kind = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof TimelineError) return e.kind;
    throw e;
  }
  return "no error";
};

Deno.test("a timeline reads back as it was written, and is small", () => {
  const b = encodeTimeline(SAMPLE, 12);
  deepEqual(decodeTimeline(b, 12), SAMPLE);
  // header 5, units 1, steps 1, crc 4; step 1: at 6, gap 1, runs 1, [0] 2, [3, 4] 2; step 2:
  // at 2, gap 2, runs 1, [1] 2, [9] 2; step 3: at 2, gap 2, runs 1, [7] 2.
  equal(b.length, 39);
  // Neighbours cost one run: 10,000 units at once, 6 bytes of time and 4 of run.
  const all = { steps: [{ after: null, at: T0, units: [...Array(10_000).keys()] }] };
  equal(encodeTimeline(all).length, 5 + 2 + 1 + 6 + 1 + 1 + 3 + 4);
  deepEqual(decodeTimeline(encodeTimeline({ steps: [] }, 0), 0), { steps: [] });
});

Deno.test("the CRC-32 is the IEEE one", () => {
  equal(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
});

Deno.test("a reader refuses what is not a timeline of its meta-data", () => {
  const b = encodeTimeline(SAMPLE, 12);
  equal(kind(() => decodeTimeline(b, 13)), "units");
  equal(kind(() => decodeTimeline(new TextEncoder().encode("covmeta-bytes"), 12)), "magic");
  const v2 = b.slice();
  v2[4] = 2;
  equal(kind(() => decodeTimeline(v2, 12)), "version");
  const flipped = b.slice();
  flipped[12] ^= 1;
  equal(kind(() => decodeTimeline(flipped, 12)), "crc");
  equal(kind(() => decodeTimeline(b.subarray(0, 20), 12)), "crc");
  equal(kind(() => decodeTimeline(b.subarray(0, 6), 12)), "truncated");
  equal(kind(() => decodeTimeline(b.subarray(0, 3), 12)), "truncated");
});

/** `body` (header and steps) with its CRC: what a forger who knows the format writes. */
function sealed(body: number[]): Uint8Array {
  const b = Uint8Array.from(body);
  const c = crc32(b);
  return Uint8Array.from([...body, c & 0xff, (c >>> 8) & 0xff, (c >>> 16) & 0xff, c >>> 24]);
}
const H = [0x43, 0x56, 0x54, 0x4c, 1];

Deno.test("a sealed but lying timeline is refused at the byte that lies", () => {
  // A unit in two steps.
  const lie = (body: number[]) => kind(() => decodeTimeline(sealed([...H, 4, ...body]), 4));
  equal(lie([2, 5, 0, 1, 0, 0, 1, 0, 1, 0, 0]), "value");
  // A unit past the units; a run past them.
  equal(lie([1, 5, 0, 1, 4, 0]), "value");
  equal(lie([1, 5, 0, 1, 2, 2]), "value");
  // Two steps of one time.
  equal(lie([2, 5, 0, 1, 0, 0, 0, 0, 1, 1, 0]), "order");
  // after before the epoch.
  equal(lie([1, 5, 6, 1, 0, 0]), "value");
  // More steps than units, more units than there are.
  equal(lie([5, 5, 0, 1, 0, 0]), "value");
  equal(lie([1, 5, 0, 1, 0, 9]), "value");
  // A step with no runs, trailing bytes, a time past 2^53, a cut run.
  equal(lie([1, 5, 0, 0, 0, 0]), "value");
  equal(lie([1, 5, 0, 1, 0, 0, 0]), "trailing");
  const big = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
  equal(lie([1, ...big, 0, 1, 0, 0]), "value");
  equal(lie([1, 5, 0, 1, 0x80, 0x80]), "truncated");
  // What each lie changes, told the truth, reads.
  deepEqual(decodeTimeline(sealed([...H, 4, 1, 5, 0, 1, 1, 2]), 4), {
    steps: [{ after: null, at: 5, units: [1, 2, 3] }],
  });
});

Deno.test("the encoder refuses a timeline it could not read back", () => {
  const bad: Timeline[] = [
    { steps: [{ after: null, at: 5, units: [1, 1] }] },
    { steps: [{ after: null, at: 5, units: [] }] },
    { steps: [{ after: 5, at: 5, units: [0] }] },
    { steps: [{ after: null, at: 5, units: [0] }, { after: null, at: 5, units: [1] }] },
    { steps: [{ after: null, at: 5, units: [0] }, { after: null, at: 6, units: [0] }] },
    { steps: [{ after: null, at: 1.5, units: [0] }] },
  ];
  for (const t of bad) throws(() => encodeTimeline(t), TimelineError, JSON.stringify(t));
  throws(() => encodeTimeline(SAMPLE, 5), TimelineError);
});

Deno.test("a merge keeps each unit's earliest time and loses none", () => {
  const later: Timeline = {
    steps: [
      { after: null, at: T0 + 500, units: [0, 1, 2] }, // 0 earlier in SAMPLE, 1 earlier here
      { after: T0 + 9500, at: T0 + 10_000, units: [5] }, // same at as SAMPLE's 3rd step
    ],
  };
  const want: Timeline = {
    steps: [
      { after: null, at: T0, units: [0, 3, 4] },
      { after: null, at: T0 + 500, units: [1, 2] },
      { after: T0 + 9000, at: T0 + 10_000, units: [5, 7] },
      { after: T0, at: T0 + 2000, units: [9] },
    ].sort((a, b) => a.at - b.at),
  };
  deepEqual(mergeTimelines(SAMPLE, later), want);
  deepEqual(mergeTimelines(later, SAMPLE), want);
  deepEqual(mergeTimelines(SAMPLE, { steps: [] }), SAMPLE);
  deepEqual(mergeTimelines(SAMPLE, SAMPLE), SAMPLE);
});

const META: ParsedMeta = {
  hash: "",
  mode: "set",
  granularity: 1,
  packages: [
    { path: "a", name: "a", modulePath: "m", functions: [fn(2), fn(0), fn(3)] },
    { path: "b", name: "b", modulePath: "m", functions: [] },
    { path: "c", name: "c", modulePath: "m", functions: [fn(0), fn(1)] },
  ],
};
function fn(units: number) {
  const u = { stLine: 1, stCol: 1, enLine: 1, enCol: 2, stmts: 1 };
  return { name: "f", file: "f.go", literal: false, units: Array(units).fill(u) };
}

Deno.test("flat unit indexes follow package, function, unit order, both ways", () => {
  equal(flatUnits(META), 6);
  const l = unitLocator(META);
  const places = [[0, 0, 0], [0, 0, 1], [0, 2, 0], [0, 2, 1], [0, 2, 2], [2, 1, 0]];
  places.forEach(([pkg, fn, unit], i) => {
    equal(l.flat(pkg, fn, unit), i);
    deepEqual(l.place(i), { pkg, fn, unit });
  });
  equal(l.place(6), undefined);
  equal(l.place(-1), undefined);
  equal(l.flat(0, 1, 0), -1);
  equal(l.flat(1, 0, 0), -1);
  equal(l.flat(3, 0, 0), -1);
  equal(l.flat(0, 0, 2), -1);
});

Deno.test("the object's name is neither covmeta. nor covcounters.", () => {
  equal(
    timelineName("00112233445566778899aabbccddeeff", 42),
    "covtimeline.00112233445566778899aabbccddeeff.42",
  );
});
