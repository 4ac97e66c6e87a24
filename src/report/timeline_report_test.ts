import { deepStrictEqual as assertEquals } from "node:assert/strict";
import type { ParsedMeta } from "../coverage/meta.ts";
import { emptyProfile, type Profile } from "../coverage/profile.ts";
import type { Timeline } from "../coverage/timeline.ts";
import { coveredIn } from "./first_covered.ts";
import { binaryTimeline } from "./timeline_report.ts";

const unit = (stmts: number, line: number) => ({
  stLine: line,
  stCol: 1,
  enLine: line + 1,
  enCol: 2,
  stmts,
});
const fn = (name: string, file: string, units: ReturnType<typeof unit>[]) => ({
  name,
  file,
  literal: false,
  units,
});

// Flat units: A0=0 (3 st.), A1=1 (2), B0=2 (4), C0=3 (1), C1=4 (5, never covered), D0=5 (7).
const META: ParsedMeta = {
  hash: "0".repeat(32),
  mode: "set",
  granularity: 1,
  packages: [{
    path: "ex/p",
    name: "p",
    modulePath: "ex",
    functions: [
      fn("A", "ex/p/a.go", [unit(3, 1), unit(2, 5)]),
      fn("B", "ex/p/b.go", [unit(4, 1)]),
      fn("C", "ex/p/c.go", [unit(1, 1), unit(5, 5)]),
      fn("D", "ex/p/d.go", [unit(7, 1)]),
    ],
  }],
};

function profile(): Profile {
  const p = emptyProfile(META, new Uint8Array());
  p.funcs[0] = [
    Uint32Array.of(1, 1),
    Uint32Array.of(1),
    Uint32Array.of(1, 0),
    Uint32Array.of(1),
  ];
  return p;
}

// D0 is covered but in no step (untimed); C1 is in a step but not covered (ignored).
const TIMELINE: Timeline = {
  steps: [
    { after: null, at: 1000, units: [0] },
    { after: 1000, at: 2000, units: [1] },
    { after: 2000, at: 3000, units: [2] },
    { after: 3000, at: 5000, units: [3] },
    { after: 5000, at: 6000, units: [4] },
  ],
};

const W = [
  { name: "w1", start: 1500, end: 2500 },
  { name: "w2", start: 2500, end: 4000 },
  { name: "w3", start: 2800, end: 6000 },
  { name: "t0", start: 0, end: 1000 },
];

const none = { statements: 0, widestMs: 0, firstPull: 0 };

Deno.test("a step counts where its pull falls; overlapping windows share it; edges say what straddles them", () => {
  const t = binaryTimeline(profile(), TIMELINE, W);
  assertEquals(
    { covered: t.covered, timed: t.timed, untimed: t.untimed, firstPull: t.firstPull },
    { covered: 17, timed: 10, untimed: 7, firstPull: 3 },
  );
  assertEquals(t.outside, 0);
  assertEquals(t.curve.map((p) => [p.ms, p.covered]), [[1000, 3], [2000, 5], [3000, 9], [
    5000,
    10,
  ]]);
  const [w1, w2, w3, t0] = t.windows;
  assertEquals([w1.statements, w1.only, w1.shared], [2, 2, 0]);
  assertEquals(w1.functions.map((f) => f.name), ["A"]);
  assertEquals(w1.files, [{ file: "ex/p/a.go", statements: 2 }]);
  // (1000, 2000] straddles w1's start; (2000, 3000] its end.
  assertEquals(w1.precision, {
    start: { statements: 2, widestMs: 1000, firstPull: 0 },
    end: { statements: 4, widestMs: 1000, firstPull: 0 },
  });
  // B's step at 3000 lies where w2 and w3 overlap: shared, given to neither alone.
  assertEquals([w2.statements, w2.only, w2.shared], [4, 0, 4]);
  assertEquals([w3.statements, w3.only, w3.shared], [5, 1, 4]);
  assertEquals(w2.precision.end, { statements: 1, widestMs: 2000, firstPull: 0 });
  assertEquals(w3.precision.end, none);
  assertEquals(t.shared.map((s) => [s.windows, s.statements, s.functions.map((f) => f.name)]), [
    [["w2", "w3"], 4, ["B"]],
  ]);
  // The first pull's step (before T0) is in the window holding its pull, never in a later one.
  assertEquals([t0.statements, t0.firstPull], [3, 3]);
  assertEquals(t0.precision.start, { statements: 3, widestMs: 0, firstPull: 3 });
});

Deno.test("steps in no window are outside; no timeline leaves every covered statement untimed", () => {
  const t = binaryTimeline(profile(), TIMELINE, [{ name: "late", start: 7000, end: 8000 }]);
  assertEquals([t.outside, t.windows[0].statements], [10, 0]);
  const bare = binaryTimeline(profile(), undefined, []);
  assertEquals([bare.covered, bare.timed, bare.untimed, bare.curve], [17, 0, 17, []]);
});

Deno.test("--covered-since/until keep only the blocks first covered in the span (untimed ones go)", () => {
  const kept = coveredIn(profile(), TIMELINE, 1500, 4000);
  assertEquals(kept.funcs[0].map((c) => [...c!]), [[0, 1], [1], [0, 0], [0]]);
  const since = coveredIn(profile(), TIMELINE, 2000, undefined);
  assertEquals(since.funcs[0].map((c) => [...c!]), [[0, 0], [1], [1, 0], [0]]);
  // The input is left alone.
  assertEquals(profile().funcs[0][0]![0], 1);
});

Deno.test("a window holds the pulls after its start up to its end: (start, end]", () => {
  // Coverage seen at the pull at 2000 happened at or before 2000: not in a window starting then.
  const t = binaryTimeline(profile(), TIMELINE, [{ name: "edge", start: 2000, end: 3000 }]);
  assertEquals([t.windows[0].statements, t.windows[0].functions.map((f) => f.name)], [4, ["B"]]);
  assertEquals(t.windows[0].precision.start, none);
});
