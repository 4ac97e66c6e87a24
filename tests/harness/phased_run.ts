/**
 * A real `-cover` server driven through timed phases, stored with its coverage timeline: the
 * fixture is pulled once before the first phase (the collector's first pull: what init and main
 * covered is "before T0"), then each phase calls its routes and is pulled; the units first seen
 * covered at a pull make a step. Stored as the collector stores a prefix (covmeta, counters,
 * info.json, covtimeline), the timeline written with the codec (src/coverage/timeline.ts).
 */

import { join } from "node:path";
import { decodeCoverage } from "../../src/collect/coverage.ts";
import { parseCounters } from "../../src/coverage/counters.ts";
import { unitLocator } from "../../src/coverage/flat_units.ts";
import { parseMeta } from "../../src/coverage/meta.ts";
import { encodeTimeline, timelineName, type TimelineStep } from "../../src/coverage/timeline.ts";
import { startCovserver } from "./covserver.ts";

/** One phase as run: its routes, when it began (before its first call) and its pull. */
export interface PhaseRun {
  routes: string[];
  /** Ms since the epoch. */
  began: number;
  pulledAt: number;
}

export interface PhasedRun {
  leaf: string;
  hash: string;
  pid: number;
  /** The pull before the first phase. */
  firstPull: number;
  phases: PhaseRun[];
  steps: TimelineStep[];
}

/** A clock reading later than `t` (pulls of one process never share a millisecond). */
function after(t: number): number {
  let now = Date.now();
  while (now <= t) now = Date.now();
  return now;
}

/**
 * Runs the fixture through `phases` (routes per phase) and stores it under `base/segments...`.
 *
 * @example await storePhasedRun(base, [["/run/alpha"], ["/run/beta"]], ["n", "_host_", "20261202T100000Z", "app"])
 */
export async function storePhasedRun(
  base: string,
  phases: string[][],
  segments: string[],
): Promise<PhasedRun> {
  const leaf = join(base, ...segments);
  await Deno.mkdir(leaf, { recursive: true });
  await using srv = await startCovserver({ name: segments[segments.length - 1] });
  const pull = async () => {
    const res = await fetch(`http://127.0.0.1:${srv.coveragePort}/coverage`);
    return decodeCoverage(await res.text(), { expectMeta: true });
  };
  const first = await pull();
  const meta = parseMeta(first.meta!.bytes);
  const loc = unitLocator(meta);
  const seen = new Uint8Array(loc.units);
  const steps: TimelineStep[] = [];
  const newlyCovered = (bytes: Uint8Array): number[] => {
    const out: number[] = [];
    for (const f of parseCounters(bytes).functions) {
      f.counters.forEach((c, i) => {
        const u = loc.flat(f.pkgIdx, f.funcIdx, i);
        if (c !== 0 && u >= 0 && !seen[u]) {
          seen[u] = 1;
          out.push(u);
        }
      });
    }
    return out.sort((a, b) => a - b);
  };
  let last = Date.now();
  const firstUnits = newlyCovered(first.counters.bytes);
  if (firstUnits.length > 0) steps.push({ after: null, at: last, units: firstUnits });
  const firstPull = last;
  let counters = first.counters.bytes;
  const runs: PhaseRun[] = [];
  for (const routes of phases) {
    const began = after(last);
    for (const r of routes) {
      const res = await fetch(`http://127.0.0.1:${srv.appPort}${r}`);
      await res.body?.cancel();
      if (!res.ok) throw new Error(`GET ${r}: HTTP ${res.status}`);
    }
    const d = await pull();
    const at = after(began);
    const units = newlyCovered(d.counters.bytes);
    if (units.length > 0) steps.push({ after: last, at, units });
    runs.push({ routes, began, pulledAt: at });
    last = at;
    counters = d.counters.bytes;
  }
  const hash = meta.hash;
  await Deno.writeFile(join(leaf, `covmeta.${hash}`), first.meta!.bytes);
  await Deno.writeFile(join(leaf, `covcounters.${hash}.${srv.pid}.1`), counters);
  await Deno.writeFile(
    join(leaf, timelineName(hash, srv.pid)),
    encodeTimeline({ steps }, loc.units),
  );
  await Deno.writeTextFile(
    join(leaf, "info.json"),
    JSON.stringify({ binary: segments[segments.length - 1], pid: srv.pid }) + "\n",
  );
  return { leaf, hash, pid: srv.pid, firstPull, phases: runs, steps };
}
