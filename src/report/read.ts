/**
 * Reads a store for `report`: lists it, keeps the prefixes the filter takes, reads them with
 * bounded concurrency and merges the counters per binary (meta hash). An unreadable prefix is an
 * error entry in the result; it never stops the others.
 */

import { errorText } from "../errors.ts";
import { parseCounters, type ParsedCounters } from "../coverage/counters.ts";
import { flatUnits } from "../coverage/flat_units.ts";
import { MetaParseError, parseMeta } from "../coverage/meta.ts";
import {
  addCounters,
  checkCounters,
  emptyProfile,
  latestOf,
  type Profile,
} from "../coverage/profile.ts";
import {
  decodeTimeline,
  mergeTimelines,
  type Timeline,
  TimelineError,
} from "../coverage/timeline.ts";
import {
  groupPrefixes,
  matches,
  type PrefixFilter,
  type PrefixGrouping,
  type StoredPrefix,
} from "./prefixes.ts";
import { BinaryFacts } from "./info_summary.ts";
import { MAX_INFO_BYTES, parseInfoFacts, Twins } from "./processes.ts";
import type { StoreReader } from "./store.ts";

/** A merged binary: its profile and where its data came from. */
export interface MergedBinary {
  hash: string;
  /** The group it was merged in (`--group-by`: src/report/group_by.ts); unset without one. */
  group?: string;
  /** Binary names the prefixes of this hash carry. */
  names: Set<string>;
  profile: Profile;
  prefixes: number;
  processes: number;
  nodes: Set<string>;
  pods: Set<string>;
  /** When each unit was first seen covered, merged over the prefixes' timelines (none stored:
   * undefined). */
  timeline?: Timeline;
  /** What the prefixes' paths and info.json say (with `ReadOptions.facts`). */
  facts?: BinaryFacts;
}

export interface PrefixError {
  prefix: string;
  error: string;
}

export interface ReadResult {
  source: string;
  binaries: MergedBinary[];
  errors: PrefixError[];
  /** Prefixes found, and taken by the filter. */
  found: number;
  taken: number;
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
  /** Read every prefix's info.json and gather each binary's facts (the HTML report's). */
  facts?: boolean;
}

const COUNTERS_HASH = { from: 8, to: 24 };
/** The last time a Date holds (ms since the epoch). */
const MAX_DATE_MS = 8.64e15;
/** A single-part upload's ETag: the quoted MD5 of the bytes (compared as an opaque string). */
const PLAIN_ETAG = /^"[0-9a-fA-F]{32}"$/;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hexOf(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
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
  let listed = 0;
  for await (const page of store.list(signal)) {
    groupPrefixes(page.keys, grouped, page.etags);
    listed += page.keys.length;
    tick(listed, 0, "listing");
  }
  const maxBytes = opts.maxBytes ?? 64 << 20;
  const top = grouped.get("");
  if (top) top.binary = store.leafName;
  const taken = [...grouped.values()].filter((p) => matches(p, opts.filter ?? {}))
    .sort((a, b) => (a.dir < b.dir ? -1 : 1));
  const byHash = new Map<string, MergedBinary>();
  const errors: PrefixError[] = [];
  // One process stored under two prefixes is merged by maximum, not added (see processes.ts).
  const twins = new Twins<MergedBinary>(taken);

  // Every prefix's covmeta is read and must hash to its name: a forged copy (one claiming a real
  // build's hash) is that prefix's error, and never stands in for, or poisons, the real one.
  const readMeta = async (hash: string, key: string): Promise<MergedBinary> => {
    const bytes = await store.read(key, signal, maxBytes);
    const have = byHash.get(hash);
    if (have && sameBytes(have.profile.metaBytes, bytes)) return have;
    let meta;
    try {
      meta = parseMeta(bytes);
    } catch (e) {
      throw e instanceof MetaParseError ? new Error(`${key}: ${e.message}`) : e;
    }
    if (meta.hash !== hash) throw new Error(`${key} holds the meta-data of ${meta.hash}`);
    if (have) return have;
    const b: MergedBinary = {
      hash,
      names: new Set(),
      profile: emptyProfile(meta, bytes),
      prefixes: 0,
      processes: 0,
      nodes: new Set(),
      pods: new Set(),
    };
    byHash.set(hash, b);
    return b;
  };
  // Except over S3: a copy whose listed ETag (the MD5 of a single-part PUT's bytes) equals that of
  // a copy of the same hash read and verified is the same bytes, and is not fetched again (one GET
  // per build instead of one per prefix). Copies sharing an ETag wait for the first read of it; if
  // that fails, each reads its own. A copy with another ETag (a forgery), a multipart or missing
  // ETag, or a dir store: read as above.
  const byEtag = new Map<string, Promise<MergedBinary | null>>();
  const binaryFor = async (hash: string, key: string, etag?: string): Promise<MergedBinary> => {
    if (etag === undefined || !PLAIN_ETAG.test(etag)) return await readMeta(hash, key);
    const id = `${hash} ${etag}`;
    const first = byEtag.get(id);
    if (first) return (await first) ?? await readMeta(hash, key);
    const read = readMeta(hash, key);
    byEtag.set(
      id,
      read.catch(() => {
        byEtag.delete(id);
        return null;
      }),
    );
    return await read;
  };

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
    if (p.counters.size === 0) throw new Error("no counter files");
    // Read and check everything first, then merge: a bad file leaves nothing half-merged.
    const pending: { b: MergedBinary; counters: ParsedCounters; id: string }[] = [];
    const checked = new Map<string, MergedBinary>();
    for (const [id, keys] of p.counters) {
      const hash = id.slice(0, 32);
      const meta = p.metas.get(hash);
      if (meta === undefined) throw new Error(`counters of ${hash} without covmeta.${hash}`);
      // One read of the prefix's covmeta however many processes it holds.
      const b = checked.get(hash) ?? await binaryFor(hash, meta.key, meta.etag);
      checked.set(hash, b);
      const snapshots: ParsedCounters[] = [];
      for (const key of keys) {
        const bytes = await store.read(key, signal, maxBytes);
        const parsed = parseCounters(bytes);
        const h = hexOf(bytes.subarray(COUNTERS_HASH.from, COUNTERS_HASH.to));
        if (h !== hash) throw new Error(`${key} holds counters of ${h}`);
        snapshots.push(parsed);
      }
      const counters = latestOf(snapshots);
      checkCounters(b.profile, counters);
      pending.push({ b, counters, id });
    }
    // Timelines are validated against their binary's meta-data like the counters; a bad one is
    // this prefix's error. One whose process has no counters here names no covered unit: skipped.
    const timelines: { b: MergedBinary; timeline: Timeline }[] = [];
    for (const [id, key] of p.timelines) {
      const b = checked.get(id.slice(0, 32));
      if (b === undefined || !p.counters.has(id)) continue;
      const bytes = await store.read(key, signal, maxBytes);
      let timeline;
      try {
        timeline = decodeTimeline(bytes, flatUnits(b.profile.meta));
      } catch (e) {
        throw e instanceof TimelineError ? new Error(`${key}: ${e.message}`) : e;
      }
      // A time a Date cannot hold (the codec takes up to 2^53 ms) would break every renderer.
      const late = timeline.steps.find((s) => s.at > MAX_DATE_MS);
      if (late) throw new Error(`${key}: step at ${late.at} ms is past the year 275760`);
      timelines.push({ b, timeline });
    }
    const info = twins.any(p) || opts.grouping?.needsInfo || opts.facts
      ? await store.read(`${p.dir}/info.json`, signal, MAX_INFO_BYTES).catch(() => null)
      : null;
    const facts = twins.any(p) ? parseInfoFacts(info) : {};
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
  return { source: store.description, binaries, errors, found: grouped.size, taken: taken.length };
}
