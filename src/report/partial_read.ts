/**
 * Reading one report partial (partial.ts) of a source of partials: its merged binaries are
 * checked like any stored prefix's files and added, with the counts and sets its facts record;
 * the partial's own counts (prefixes found and taken, unreadable prefixes) are summed for the
 * whole source. A shard holds every prefix of a process (shard.ts), so adding is exact.
 */

import type { ParsedCounters } from "../coverage/counters.ts";
import { addCounters } from "../coverage/profile.ts";
import { mergeTimelines, type Timeline } from "../coverage/timeline.ts";
import type { CheckedReads } from "./checked_reads.ts";
import type { MergedBinary, PrefixError } from "./merged.ts";
import { parsePartial, type PartialFacts } from "./partial.ts";
import type { StoredPrefix } from "./prefixes.ts";

/** What the partials of a source say together. */
export interface PartialTotals {
  count: number;
  /** The store's prefixes as the shards listed them (the largest count). */
  found: number;
  taken: number;
  errors: PrefixError[];
}

/**
 * Adds the partial at `p` (its facts at `key`) to the merged binaries of `reads`.
 *
 * @example await readPartial(reads, prefix, prefix.partial!, totals);
 */
export async function readPartial(
  reads: CheckedReads,
  p: StoredPrefix,
  key: string,
  into: PartialTotals,
): Promise<void> {
  const facts = parsePartial(await reads.read(key), key);
  const hashes = new Set(facts.binaries.map((f) => f.hash));
  for (const id of p.counters.keys()) {
    if (!hashes.has(id.slice(0, 32)) || !id.endsWith(".0")) {
      throw new Error(`${key}: the partial's counters ${id} are not among its binaries`);
    }
  }
  const pending: {
    b: MergedBinary;
    f: PartialFacts["binaries"][number];
    counters: ParsedCounters;
    timeline?: Timeline;
  }[] = [];
  for (const f of facts.binaries) {
    const meta = p.metas.get(f.hash), keys = p.counters.get(`${f.hash}.0`);
    if (!meta || !keys) {
      throw new Error(`${key}: binary ${f.hash} without its covmeta and covcounters`);
    }
    const b = await reads.binaryFor(f.hash, meta.key, meta.etag);
    const counters = await reads.counters(b, f.hash, keys);
    const tl = p.timelines.get(`${f.hash}.0`);
    pending.push({
      b,
      f,
      counters,
      timeline: tl === undefined ? undefined : await reads.timeline(b, tl),
    });
  }
  for (const { b, f, counters, timeline } of pending) {
    addCounters(b.profile, counters);
    b.prefixes += f.prefixes;
    b.processes += f.processes;
    for (const n of f.names) b.names.add(n);
    for (const n of f.nodes) b.nodes.add(n);
    for (const n of f.pods) b.pods.add(n);
    if (timeline) {
      b.timeline = b.timeline === undefined ? timeline : mergeTimelines(b.timeline, timeline);
    }
  }
  into.count++;
  into.found = Math.max(into.found, facts.found);
  into.taken += facts.taken;
  into.errors.push(...facts.errors);
}
