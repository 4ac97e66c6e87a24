/** Where `report` reads stored coverage from: a local directory or an S3 location. */

import { basename, join } from "node:path";
import type { S3Sink } from "../sink/s3.ts";
import { safeText } from "../terminal_text.ts";

/** One page of a listing: keys, and (from S3) `etags[i]`, the ETag the store gave for `keys[i]`
 * (bounded in length, opaque). */
export interface StorePage {
  keys: string[];
  etags?: (string | undefined)[];
}

/** A read-only view of stored objects, keyed by paths relative to the source. */
export interface StoreReader {
  /** `dir:/path` or `s3://bucket/prefix`, for messages. */
  readonly description: string;
  /** Every key under the source, in pages (a page per directory or per S3 list call). */
  list(signal: AbortSignal): AsyncIterable<StorePage>;
  /** The object's bytes; throws (with the key in the message) when it cannot be read or is
   * larger than `maxBytes`. */
  read(key: string, signal: AbortSignal, maxBytes: number): Promise<Uint8Array>;
  /** What to call a binary whose files sit at the top of the source (no layout above them). */
  readonly leafName: string;
}

/** Directories a DirReader lists at once. */
const LIST_CONCURRENCY = 16;

/** A local directory in the stored layout. @example new DirReader("coverage-data") */
export class DirReader implements StoreReader {
  readonly description: string;
  readonly leafName: string;
  constructor(readonly root: string) {
    this.description = `dir:${root}`;
    this.leafName = basename(root.replace(/\/+$/, "")) || "unknown";
  }

  /**
   * Every file, a page per directory. Up to LIST_CONCURRENCY directories are read at once: a
   * store of 100,000 prefixes is ~500,000 directories, and one at a time the walk waits on the
   * disk's latency for each (pages come in completion order; readStore groups them by path).
   */
  async *list(signal: AbortSignal): AsyncIterable<StorePage> {
    const dirs = [""];
    const ready: StorePage[] = [];
    const inflight = new Set<Promise<void>>();
    let failure: { e: unknown } | undefined;
    const readOne = async (rel: string) => {
      const files: string[] = [];
      for await (const e of Deno.readDir(join(this.root, rel))) {
        const key = rel === "" ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory) dirs.push(key);
        else if (e.isFile) files.push(key);
      }
      if (files.length > 0) ready.push({ keys: files });
    };
    while (dirs.length > 0 || inflight.size > 0 || ready.length > 0) {
      signal.throwIfAborted();
      if (failure) throw failure.e;
      while (dirs.length > 0 && inflight.size < LIST_CONCURRENCY) {
        const p: Promise<void> = readOne(dirs.pop()!)
          .catch((e) => void (failure ??= { e }))
          .finally(() => inflight.delete(p));
        inflight.add(p);
      }
      const page = ready.pop();
      if (page) yield page;
      else if (inflight.size > 0) await Promise.race(inflight);
    }
    if (failure) throw failure.e;
  }

  async read(key: string, _signal: AbortSignal, maxBytes: number): Promise<Uint8Array> {
    using file = await Deno.open(join(this.root, key));
    const size = (await file.stat()).size;
    if (size > maxBytes) throw new Error(`${key}: ${size} bytes, over the ${maxBytes}-byte limit`);
    const out = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const n = await file.read(out.subarray(at));
      if (n === null) break;
      at += n;
    }
    return out.subarray(0, at);
  }
}

/** A listing that cannot end well: the store's pagination loops, stops short, or grows past bounds. */
export class S3ListError extends Error {
  constructor(readonly description: string, what: string) {
    super(`listing ${description}: ${what}`);
    this.name = "S3ListError";
  }
}

/** Bounds of one listing: a store that pages on forever is stopped (defaults in S3_LIST_LIMITS). */
export interface S3ListLimits {
  /** List calls at most. */
  maxPages?: number;
  /** Keys at most (readStore holds every key listed). */
  maxKeys?: number;
}

/**
 * 1 M keys (~200 k servers' prefixes, ~460 MiB held while grouped) in at most 10 k calls (AWS
 * gives 1000 a page): far past a CI run's store; a larger one wants a narrower prefix.
 */
export const S3_LIST_LIMITS: Required<S3ListLimits> = { maxPages: 10_000, maxKeys: 1_000_000 };

/** Longest continuation token taken (AWS's are a few hundred characters). */
const MAX_TOKEN_CHARS = 1024;

function tokenText(token: string): string {
  return `"${safeText(token.length > 80 ? `${token.slice(0, 80)}…` : token)}"`;
}

/** An S3 location, listed with pagination. @example new S3Reader(new S3Sink({...})) */
export class S3Reader implements StoreReader {
  readonly description: string;
  readonly leafName: string;
  /** List calls made (pagination is tested with it). */
  pages = 0;
  /** The bounds this listing stops at. */
  readonly limits: Required<S3ListLimits>;
  /** `pageSize`: keys per list call (default: the store's, 1000 on AWS). */
  constructor(readonly s3: S3Sink, readonly pageSize?: number, limits: S3ListLimits = {}) {
    this.description = s3.description;
    this.leafName = s3.description.split("/").pop() || "unknown";
    this.limits = { ...S3_LIST_LIMITS, ...limits };
  }

  /**
   * Every key with its ETag, page by page. A continuation token seen before (a loop), a truncated page without
   * a token, or more pages or keys than the limits is an S3ListError naming bucket, prefix and token.
   */
  async *list(signal: AbortSignal): AsyncIterable<StorePage> {
    const seen = new Set<string>();
    let token: string | undefined;
    let keys = 0;
    for (let calls = 0;; calls++) {
      signal.throwIfAborted();
      if (calls >= this.limits.maxPages) {
        throw new S3ListError(
          this.description,
          `still truncated after ${calls} list calls (at most ${this.limits.maxPages}); ` +
            `${keys} keys so far, last token ${tokenText(token ?? "")}`,
        );
      }
      const page = await this.s3.listPage(token, signal, this.pageSize);
      this.pages++;
      keys += page.keys.length;
      if (keys > this.limits.maxKeys) {
        throw new S3ListError(
          this.description,
          `more than ${this.limits.maxKeys} keys (after ${
            calls + 1
          } list calls); list a narrower prefix`,
        );
      }
      if (page.keys.length > 0) yield { keys: page.keys, etags: page.etags };
      if (!page.truncated) return;
      const next = page.next;
      if (next === undefined) {
        throw new S3ListError(
          this.description,
          `list call ${calls + 1} answered IsTruncated=true without a NextContinuationToken ` +
            `(asked with token ${tokenText(token ?? "")}); the listing would stop short`,
        );
      }
      if (next.length > MAX_TOKEN_CHARS) {
        throw new S3ListError(
          this.description,
          `list call ${calls + 1} gave a ${next.length}-character continuation token ${
            tokenText(next)
          } (at most ${MAX_TOKEN_CHARS})`,
        );
      }
      if (seen.has(next) || next === token) {
        throw new S3ListError(
          this.description,
          `list call ${calls + 1} gave continuation token ${
            tokenText(next)
          } again: the store's pagination loops`,
        );
      }
      seen.add(next);
      token = next;
    }
  }

  async read(key: string, signal: AbortSignal, maxBytes: number): Promise<Uint8Array> {
    const bytes = await this.s3.get(key, signal, maxBytes);
    if (bytes === null) throw new Error(`${this.s3.url(key)}: not found`);
    return bytes;
  }
}

/**
 * Splits `s3://bucket/prefix` into bucket and prefix; null for anything else.
 *
 * @example parseS3Url("s3://cov/ci/run-1") // { bucket: "cov", prefix: "ci/run-1" }
 */
export function parseS3Url(source: string): { bucket: string; prefix: string } | null {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(source);
  if (!m) return null;
  return { bucket: m[1], prefix: m[2].replace(/\/+$/, "") };
}
