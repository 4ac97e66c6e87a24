/**
 * What a stored coverage timeline (src/coverage/timeline.ts) weighs per 10,000 blocks, in the
 * shapes a run gives it, and what encoding and decoding one costs:
 *
 *   nice -n 19 scripts/deno run -A scripts/bench_timeline.ts
 *
 * Prints one JSON line per shape: bytes per 10,000 covered blocks, steps, ms to encode and to
 * decode. Times are ms since the epoch (6 bytes for the first step), pulls 10 s apart. The last
 * shape is real: the blocks the field-size fixture (`-coverpkg=all`, ~72,000 blocks) covers
 * after its three routes, in one step and spread over 50 pulls in flat-index order.
 */

import { join } from "node:path";
import { coveredUnits } from "../src/coverage/covered_units.ts";
import { statementTable } from "../src/coverage/live.ts";
import { decodeTimeline, encodeTimeline, type Timeline } from "../src/coverage/timeline.ts";
import { fieldSizeRun } from "../tests/harness/gocoverdir.ts";

const BLOCKS = 10_000;
const T0 = Date.parse("2026-12-02T00:00:00Z");

/** `steps` pulls 10 s apart, each covering `BLOCKS / steps` blocks; `stride`: blocks of one
 * step are that far apart in the flat index (1: a run of neighbours, as one function's). */
function shape(steps: number, stride: number): Timeline {
  const per = BLOCKS / steps;
  return {
    steps: Array.from({ length: steps }, (_, k) => ({
      after: k === 0 ? null : T0 + 10_000 * (k - 1),
      at: T0 + 10_000 * k,
      units: Array.from({ length: per }, (_, i) => stride === 1 ? k * per + i : i * stride + k)
        .sort((a, b) => a - b),
    })),
  };
}

function timeMs(f: () => unknown, n = 20): number {
  f();
  const t = performance.now();
  for (let i = 0; i < n; i++) f();
  return Number(((performance.now() - t) / n).toFixed(3));
}

if (import.meta.main) {
  const shapes: [string, Timeline][] = [
    ["all at the first pull", shape(1, 1)],
    ["100 pulls, neighbouring blocks", shape(100, 1)],
    ["100 pulls, blocks spread over the binary", shape(100, 100)],
    ["10,000 pulls, one block each", shape(10_000, 1)],
  ];
  const lines = shapes.map(([name, t]) => ({ name, t, units: BLOCKS }));
  const real = await realCovered();
  lines.push({ name: "field-size fixture, one step", t: spread(real.covered, 1), ...real });
  lines.push({ name: "field-size fixture, 50 pulls", t: spread(real.covered, 50), ...real });
  for (const { name, t, units } of lines) {
    const bytes = encodeTimeline(t, units);
    const covered = t.steps.reduce((n, s) => n + s.units.length, 0);
    console.log(JSON.stringify({
      shape: name,
      blocks: covered,
      bytes: bytes.length,
      bytesPer10000Blocks: Math.round((bytes.length * 10_000) / covered),
      steps: t.steps.length,
      encodeMs: timeMs(() => encodeTimeline(t, units)),
      decodeMs: timeMs(() => decodeTimeline(bytes, units)),
    }));
  }
}

/** The units the field-size fixture covers after its routes, and its unit count. */
async function realCovered(): Promise<{ covered: number[]; units: number }> {
  const { dir } = await fieldSizeRun(["/run/alpha", "/run/beta", "/run/gamma"], "bench-tl-");
  try {
    const names = [...Deno.readDirSync(dir)].map((e) => e.name);
    const read = (p: string) => Deno.readFile(join(dir, names.find((n) => n.startsWith(p))!));
    const table = statementTable(await read("covmeta."));
    const c = coveredUnits(await read("covcounters."), table);
    const units = table.fnStart[table.fnStart.length - 1];
    const covered: number[] = [];
    for (let u = 0; u < units; u++) {
      if (c.kind === "meta" && c.bits[u >>> 5] & (1 << (u & 31))) covered.push(u);
    }
    return { covered, units };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `units` over `steps` pulls 10 s apart, in order. */
function spread(units: number[], steps: number): Timeline {
  const per = Math.ceil(units.length / steps);
  return {
    steps: Array.from({ length: steps }, (_, k) => ({
      after: k === 0 ? null : T0 + 10_000 * (k - 1),
      at: T0 + 10_000 * k,
      units: units.slice(k * per, (k + 1) * per),
    })).filter((s) => s.units.length > 0),
  };
}
