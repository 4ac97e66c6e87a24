/**
 * Reads a store for `report`: lists it, keeps the prefixes the filter takes, reads them with
 * bounded concurrency and merges the counters per binary (meta hash). An unreadable prefix is an
 * error entry in the result; it never stops the others.
 */

import { errorText, UsageError } from "../errors.ts";
import type { ParsedCounters } from "../coverage/counters.ts";
import { addCounters, emptyProfile } from "../coverage/profile.ts";
import { mergeTimelines, type Timeline } from "../coverage/timeline.ts";
import { CheckedReads } from "./checked_reads.ts";
import type { MergedBinary, PrefixError } from "./merged.ts";
import { type PartialTotals, readPartial } from "./partial_read.ts";
import {
  groupPrefixes,
  matches,
  type PrefixFilter,
  type PrefixGrouping,
  type StoredPrefix,
} from "./prefixes.ts";
import { BinaryFacts } from "./info_summary.ts";
import { MAX_INFO_BYTES, parseInfoFacts, Twins } from "./processes.ts";
import { parseSourceFacts, sourceKey } from "./source_facts.ts";
import { type Shard, shardOf } from "./shard.ts";
import type { StoreReader } from "./store.ts";

export type { MergedBinary, PrefixError } from "./merged.ts";

export interface ReadResult {
  source: string;
  binaries: MergedBinary[];
  errors: PrefixError[];
  /** Prefixes found, and taken by the filter. */
  found: number;
  taken: number;
  /** Report partials read (partial.ts): the source was a directory or S3 prefix of them. */
  partials: number;
}

export interface ReadOptions {
  filter?: PrefixFilter;
  /** Prefixes read at once (default 16). */
  concurrency?: number;
  signal?: AbortSignal;
  /** Called about once a second while reading: (done, total, phase). */
  progress?: (done: number, total: number, phase: "listing" | "reading") => void;
  progressEveryMs?: number;
  /** Largest object read (default 64 MiB, the collector's --max-body). */
  maxBytes?: number;
  /** Merge per group and binary instead of per binary (`--group-by`). */
  grouping?: PrefixGrouping;
  /** Read every prefix's info.json for its source_url/source_commit (`report --format codecov`). */
  sourceFacts?: boolean;
  /** Read every prefix's info.json and gather each binary's facts (the HTML report's). */
  facts?: boolean;
  /** Read only this shard's prefixes (`--shard K/N`: shard.ts). */
  shard?: Shard;
}

/**
 * Reads and merges everything under `store` that the filter takes.
 *
 * @example const r = await readStore(new DirReader("coverage-data"), { filter: { namespace: "ns" } });
 */
export async function readStore(store: StoreReader, opts: ReadOptions = {}): Promise<ReadResult> {
  const signal = opts.signal ?? new AbortController().signal;
  const every = opts.progressEveryMs ?? 1000;
  let lastTick = Date.now();
  const tick = (done: number, total: number, phase: "listing" | "reading") => {
    if (!opts.progress || Date.now() - lastTick < every) return;
    lastTick = Date.now();
    opts.progress(done, total, phase);
  };
  const grouped = new Map<string, StoredPrefix>();
  const shard = opts.shard;
  // A shard keeps only its own prefixes while listing (the rule needs a prefix's path alone), so
  // it holds 1/N of the listing; other prefixes are counted (found) by their path.
  const foreign = new Set<string>();
  let foreignPartial = false;
  let listed = 0;
  for await (const page of store.list(signal)) {
    groupPrefixes(page.keys, grouped, page.etags);
    listed += page.keys.length;
    if (shard !== undefined) {
      let last: string | undefined;
      for (const key of page.keys) {
        const dir = key.slice(0, Math.max(0, key.lastIndexOf("/")));
        if (dir === last) continue;
        last = dir;
        const p = grouped.get(dir);
        if (p === undefined || shardOf(p, shard.n) === shard.k) continue;
        grouped.delete(dir);
        foreign.add(dir);
        if (p.partial !== undefined) foreignPartial = true;
      }
    }
    tick(listed, 0, "listing");
  }
  const maxBytes = opts.maxBytes ?? 64 << 20;
  const top = grouped.get("");
  if (top) top.binary = store.leafName;
  const reads = new CheckedReads(store, signal, maxBytes);
  const byHash = reads.byHash;
  const errors: PrefixError[] = [];
  // A source holding report partials is read as partials: what made them (filters, shards,
  // groups) applied when they were made; a prefix among them that is not one is an error.
  const all = [...grouped.values()];
  const partialSource = foreignPartial || all.some((p) => p.partial !== undefined);
  if (partialSource) {
    const f = opts.filter ?? {};
    const flag = Object.entries(f).find(([, v]) => v !== undefined)?.[0] ??
      (opts.shard ? "shard" : opts.grouping ? "group-by" : undefined);
    if (flag !== undefined) {
      throw new UsageError(
        `${store.description} holds report partials: --${flag} applies when they are made`,
        "see coverage-collector report --help",
      );
    }
    for (const p of all) {
      if (p.partial === undefined) {
        errors.push({ prefix: p.dir || ".", error: "a prefix among report partials: not read" });
      }
    }
  }
  const taken = all.filter((p) =>
    partialSource
      ? p.partial !== undefined
      : matches(p, opts.filter ?? {}) && (shard === undefined || shardOf(p, shard.n) === shard.k)
  ).sort((a, b) => (a.dir < b.dir ? -1 : 1));
  const partials: PartialTotals = { count: 0, found: 0, taken: 0, errors };
  // One process stored under two prefixes is merged by maximum, not added (see processes.ts).
  const twins = new Twins<MergedBinary>(taken);

  // With --group-by: one merged binary per group and hash, sharing the hash's checked meta-data.
  const byGroup = new Map<string, MergedBinary>();
  const inGroup = (b: MergedBinary, group: string | undefined): MergedBinary => {
    if (group === undefined) return b;
    const slot = `${group}\0${b.hash}`;
    let g = byGroup.get(slot);
    if (!g) {
      const profile = emptyProfile(b.profile.meta, b.profile.metaBytes);
      g = { ...b, group, names: new Set(), profile, nodes: new Set(), pods: new Set() };
      byGroup.set(slot, g);
    }
    return g;
  };

  const readPrefix = async (p: StoredPrefix) => {
    if (p.partial !== undefined) return await readPartial(reads, p, p.partial, partials);
    if (p.counters.size === 0) throw new Error("no counter files");
    // Read and check everything first, then merge: a bad file leaves nothing half-merged.
    const pending: { b: MergedBinary; counters: ParsedCounters; id: string }[] = [];
    const checked = new Map<string, MergedBinary>();
    for (const [id, keys] of p.counters) {
      const hash = id.slice(0, 32);
      const meta = p.metas.get(hash);
      if (meta === undefined) throw new Error(`counters of ${hash} without covmeta.${hash}`);
      // One read of the prefix's covmeta however many processes it holds.
      const b = checked.get(hash) ?? await reads.binaryFor(hash, meta.key, meta.etag);
      checked.set(hash, b);
      pending.push({ b, counters: await reads.counters(b, hash, keys), id });
    }
    // Timelines are validated against their binary's meta-data like the counters; a bad one is
    // this prefix's error. One whose process has no counters here names no covered unit: skipped.
    const timelines: { b: MergedBinary; timeline: Timeline }[] = [];
    for (const [id, key] of p.timelines) {
      const b = checked.get(id.slice(0, 32));
      if (b === undefined || !p.counters.has(id)) continue;
      timelines.push({ b, timeline: await reads.timeline(b, key) });
    }
    const info = twins.any(p) || opts.grouping?.needsInfo || opts.sourceFacts || opts.facts
      ? await reads.read(`${p.dir}/info.json`, MAX_INFO_BYTES).catch(() => null)
      : null;
    const facts = twins.any(p) ? parseInfoFacts(info) : {};
    const source = opts.sourceFacts ? parseSourceFacts(info) : undefined;
    const group = opts.grouping?.groupOf(p, info);
    for (const pend of pending) pend.b = inGroup(pend.b, group);
    for (const tl of timelines) tl.b = inGroup(tl.b, group);
    for (const { b, counters, id } of pending) {
      if (twins.has(p, id)) twins.hold(p, id, facts, counters, b);
      else {
        addCounters(b.profile, counters);
        b.processes++;
      }
    }
    for (const { b, timeline } of timelines) {
      b.timeline = b.timeline === undefined ? timeline : mergeTimelines(b.timeline, timeline);
    }
    for (const b of new Set(pending.map((x) => x.b))) {
      b.prefixes++;
      b.names.add(p.binary);
      if (p.node) b.nodes.add(p.node);
      if (p.pod) b.pods.add(`${p.namespace}/${p.pod}`);
      if (opts.facts) (b.facts ??= new BinaryFacts()).add(p, info);
      if (source) b.sources?.set(sourceKey(source), source);
    }
  };

  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < taken.length) {
      signal.throwIfAborted();
      const p = taken[next++];
      try {
        await readPrefix(p);
      } catch (e) {
        if (signal.aborted) throw e;
        errors.push({ prefix: p.dir || ".", error: errorText(e) });
      }
      done++;
      tick(done, taken.length, "reading");
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? 16, taken.length));
  await Promise.all(Array.from({ length: n }, worker));
  for (const { binary, counters } of twins.processes()) {
    addCounters(binary.profile, counters);
    binary.processes++;
  }
  errors.sort((a, b) => (a.prefix < b.prefix ? -1 : 1));
  const binaries = [...byHash.values(), ...byGroup.values()].filter((b) => b.prefixes > 0)
    .sort((a, b) => {
      const ga = a.group ?? "", gb = b.group ?? "";
      if (ga !== gb) return ga < gb ? -1 : 1;
      const na = [...a.names].sort().join(","), nb = [...b.names].sort().join(",");
      return na < nb ? -1 : na > nb ? 1 : a.hash < b.hash ? -1 : 1;
    });
  const source = store.description;
  if (partialSource) {
    const { count, found, taken } = partials;
    return { source, binaries, errors, found, taken, partials: count };
  }
  const found = grouped.size + foreign.size;
  return { source, binaries, errors, found, taken: taken.length, partials: 0 };
}
