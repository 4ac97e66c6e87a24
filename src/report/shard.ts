/**
 * `report --shard K/N`: which share of a store's prefixes one shard reads.
 *
 * The rule: a prefix belongs to shard `fnv1a32(identity) mod N`, where its identity is the key
 * the twins logic of processes.ts groups by, without the process's `<hash>.<pid>`: the prefix's
 * path with its discovery-time segment replaced by `*` (node; namespace, pod, container and
 * image, or `_host_`; binary). Every prefix one process can have been stored under (the same
 * path but for the discovery time) therefore lands in the same shard, so the max-merge of a
 * process stored twice happens inside one shard and shards only ever add. A prefix outside the
 * layout (no discovery time) is its own identity (its path). The hash is FNV-1a over the UTF-8
 * bytes: stable across runs, machines and versions, and fixed by the path and N alone.
 */

import { UsageError } from "../errors.ts";
import type { StoredPrefix } from "./prefixes.ts";
import { twinKey } from "./processes.ts";

/** One shard of N (K from 0, as a Kubernetes Indexed Job's JOB_COMPLETION_INDEX). */
export interface Shard {
  k: number;
  n: number;
}

/** Shards at most (a Kubernetes Indexed Job takes up to 100,000 completions). */
export const MAX_SHARDS = 100_000;

/**
 * The shard of `--shard K/N`; a UsageError for anything else.
 *
 * @example parseShard("2/8") // { k: 2, n: 8 }
 */
export function parseShard(v: string, hint: string): Shard {
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(v);
  const k = m ? Number(m[1]) : NaN, n = m ? Number(m[2]) : NaN;
  if (!m || n < 1 || n > MAX_SHARDS || k >= n) {
    throw new UsageError(
      `--shard ${JSON.stringify(v)} is not K/N with 0 <= K < N <= ${MAX_SHARDS}`,
      hint,
    );
  }
  return { k, n };
}

/**
 * FNV-1a (32 bits) of the UTF-8 bytes of `s`.
 *
 * @example fnv1a32("") // 2166136261
 */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The identity a prefix is sharded by (see the file's comment). @example shardIdentity(p) */
export function shardIdentity(p: StoredPrefix): string {
  return twinKey(p, "") ?? p.dir;
}

/** The shard (0 to n - 1) a prefix belongs to. @example shardOf(p, 8) // 5 */
export function shardOf(p: StoredPrefix, n: number): number {
  return fnv1a32(shardIdentity(p)) % n;
}
