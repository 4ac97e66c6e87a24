/** Reading a stored prefix's timeline in tests: decoded against its meta-data, judged by package. */

import { ok } from "node:assert/strict";
import { join } from "node:path";
import { coveredUnits } from "../../src/coverage/covered_units.ts";
import { flatUnits, unitLocator } from "../../src/coverage/flat_units.ts";
import { statementTable } from "../../src/coverage/live.ts";
import { parseMeta } from "../../src/coverage/meta.ts";
import type { ParsedMeta } from "../../src/coverage/meta_types.ts";
import { decodeTimeline, type Timeline } from "../../src/coverage/timeline.ts";

/** The build's meta-data, the stored timeline and the units the last counters cover. */
export async function stored(dir: string) {
  const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  const metaName = names.find((n) => n.startsWith("covmeta."))!;
  const hash = metaName.slice("covmeta.".length);
  const metaBytes = await Deno.readFile(join(dir, metaName));
  const meta = parseMeta(metaBytes);
  const tl = names.find((n) => n.startsWith("covtimeline."));
  ok(tl, `no timeline in ${names.join(", ")}`);
  const timeline = decodeTimeline(await Deno.readFile(join(dir, tl)), flatUnits(meta));
  // What the counters cover: they are cumulative, so the union of the slots is the newer one.
  const units: number[] = [];
  const table = statementTable(metaBytes);
  const slots = await Promise.all(
    names.filter((n) => n.startsWith("covcounters."))
      .map(async (n) => coveredUnits(await Deno.readFile(join(dir, n)), table)),
  );
  for (let u = 0; u < flatUnits(meta); u++) {
    if (slots.some((c) => c.kind === "meta" && c.bits[u >>> 5] & (1 << (u & 31)))) units.push(u);
  }
  return { names, hash, meta, timeline, covered: units, timelineName: tl };
}

/** Step time of each unit of package `pkg` (path ending in /pkg) the timeline holds. */
export function packageSteps(meta: ParsedMeta, t: Timeline, pkg: string): Set<number> {
  const loc = unitLocator(meta);
  const at = new Set<number>();
  for (const s of t.steps) {
    for (const u of s.units) {
      if (meta.packages[loc.place(u)!.pkg].path.endsWith(`/${pkg}`)) at.add(s.at);
    }
  }
  return at;
}

export const allUnits = (t: Timeline) => t.steps.flatMap((s) => s.units).sort((a, b) => a - b);
