/**
 * The checked reads of one `report` run: a covmeta that must hash to its name (read once per
 * build over S3, by ETag), counter slots that must belong to their binary, and timelines that
 * must fit it. Each failure names the key; the merged binaries are kept per meta hash.
 */

import { parseCounters, type ParsedCounters } from "../coverage/counters.ts";
import { flatUnits } from "../coverage/flat_units.ts";
import { MetaParseError, parseMeta } from "../coverage/meta.ts";
import { checkCounters, emptyProfile, latestOf } from "../coverage/profile.ts";
import { decodeTimeline, type Timeline, TimelineError } from "../coverage/timeline.ts";
import type { MergedBinary } from "./merged.ts";
import type { StoreReader } from "./store.ts";

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

/** Reads of one store, checked. @example const b = await reads.binaryFor(hash, key, etag); */
export class CheckedReads {
  /** The merged binaries, by meta hash. */
  readonly byHash = new Map<string, MergedBinary>();
  readonly #byEtag = new Map<string, Promise<MergedBinary | null>>();

  constructor(
    readonly store: StoreReader,
    readonly signal: AbortSignal,
    readonly maxBytes: number,
  ) {}

  /** The bytes of `key` (at most maxBytes). */
  read(key: string, maxBytes = this.maxBytes): Promise<Uint8Array> {
    return this.store.read(key, this.signal, maxBytes);
  }

  // Every prefix's covmeta is read and must hash to its name: a forged copy (one claiming a real
  // build's hash) is that prefix's error, and never stands in for, or poisons, the real one.
  async #readMeta(hash: string, key: string): Promise<MergedBinary> {
    const bytes = await this.read(key);
    const have = this.byHash.get(hash);
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
      sources: new Map(),
    };
    this.byHash.set(hash, b);
    return b;
  }
  // Except over S3: a copy whose listed ETag (the MD5 of a single-part PUT's bytes) equals that of
  // a copy of the same hash read and verified is the same bytes, and is not fetched again (one GET
  // per build instead of one per prefix). Copies sharing an ETag wait for the first read of it; if
  // that fails, each reads its own. A copy with another ETag (a forgery), a multipart or missing
  // ETag, or a dir store: read as above.
  async binaryFor(hash: string, key: string, etag?: string): Promise<MergedBinary> {
    if (etag === undefined || !PLAIN_ETAG.test(etag)) return await this.#readMeta(hash, key);
    const id = `${hash} ${etag}`;
    const first = this.#byEtag.get(id);
    if (first) return (await first) ?? await this.#readMeta(hash, key);
    const read = this.#readMeta(hash, key);
    this.#byEtag.set(
      id,
      read.catch(() => {
        this.#byEtag.delete(id);
        return null;
      }),
    );
    return await read;
  }

  // The latest snapshot of one process's counter slots, checked against its binary.
  async counters(b: MergedBinary, hash: string, keys: string[]): Promise<ParsedCounters> {
    const snapshots: ParsedCounters[] = [];
    for (const key of keys) {
      const bytes = await this.read(key);
      const parsed = parseCounters(bytes);
      const h = hexOf(bytes.subarray(COUNTERS_HASH.from, COUNTERS_HASH.to));
      if (h !== hash) throw new Error(`${key} holds counters of ${h}`);
      snapshots.push(parsed);
    }
    const counters = latestOf(snapshots);
    checkCounters(b.profile, counters);
    return counters;
  }
  /** A timeline, validated against its binary's meta-data. */
  async timeline(b: MergedBinary, key: string): Promise<Timeline> {
    const bytes = await this.read(key);
    let timeline;
    try {
      timeline = decodeTimeline(bytes, flatUnits(b.profile.meta));
    } catch (e) {
      throw e instanceof TimelineError ? new Error(`${key}: ${e.message}`) : e;
    }
    // A time a Date cannot hold (the codec takes up to 2^53 ms) would break every renderer.
    const late = timeline.steps.find((s) => s.at > MAX_DATE_MS);
    if (late) throw new Error(`${key}: step at ${late.at} ms is past the year 275760`);
    return timeline;
  }
}
