/**
 * Cost of `report --windows` on a large binary: a synthetic build of UNITS units (100 a
 * function), all covered, first seen over STEPS pulls 5 s apart, reported for WINDOWS overlapping
 * windows (each 5% of the run). Prints the figures as one JSON line.
 *
 *   scripts/deno run -A scripts/bench_windows.ts [units=200000] [steps=20000] [windows=1000]
 */

import type { ParsedMeta } from "../src/coverage/meta.ts";
import { emptyProfile } from "../src/coverage/profile.ts";
import type { Timeline } from "../src/coverage/timeline.ts";
import { renderTimelineHtml } from "../src/report/html_timeline.ts";
import { binaryTimeline } from "../src/report/timeline_report.ts";
import { renderTimelineText } from "../src/report/timeline_text.ts";

const [units, steps, windows] = [200_000, 20_000, 1000].map((d, i) => Number(Deno.args[i] ?? d));
const perFn = 100;
const meta: ParsedMeta = {
  hash: "0".repeat(32),
  mode: "set",
  granularity: 1,
  packages: Array.from({ length: Math.ceil(units / perFn / 50) }, (_, p) => ({
    path: `bench/p${p}`,
    name: `p${p}`,
    modulePath: "bench",
    functions: Array.from({ length: 50 }, (_, f) => ({
      name: `F${f}`,
      file: `bench/p${p}/f${f % 5}.go`,
      literal: false,
      units: Array.from({ length: perFn }, (_, u) => ({
        stLine: u + 1,
        stCol: 1,
        enLine: u + 2,
        enCol: 1,
        stmts: 1 + (u % 3),
      })),
    })),
  })),
};
const profile = emptyProfile(meta, new Uint8Array());
profile.funcs = meta.packages.map((p) =>
  p.functions.map((f) => new Uint32Array(f.units.length).fill(1))
);
const total = meta.packages.length * 50 * perFn;
const T0 = Date.UTC(2026, 11, 2, 10);
const timeline: Timeline = { steps: [] };
for (let s = 0; s < steps; s++) {
  const from = Math.floor((s * total) / steps), to = Math.floor(((s + 1) * total) / steps);
  timeline.steps.push({
    after: s === 0 ? null : T0 + (s - 1) * 5000,
    at: T0 + s * 5000,
    units: Array.from({ length: to - from }, (_, i) => from + i),
  });
}
const span = steps * 5000;
const ws = Array.from({ length: windows }, (_, i) => {
  const start = T0 + Math.floor((i * span) / windows) - 1234;
  return { name: `w${i}`, start, end: start + span / 20 };
});
const t0 = performance.now();
const t = binaryTimeline(profile, timeline, ws);
const t1 = performance.now();
const text = renderTimelineText("bench", meta.hash, t);
const html = renderTimelineHtml(t, t.covered);
const t2 = performance.now();
console.log(JSON.stringify({
  units: total,
  steps,
  windows,
  attributeMs: Math.round(t1 - t0),
  renderMs: Math.round(t2 - t1),
  textBytes: text.length,
  htmlBytes: html.length,
  sharedGroups: t.shared.length,
  covered: t.covered,
}));
