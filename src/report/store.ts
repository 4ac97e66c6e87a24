/** Where `report` reads stored coverage from: a local directory or an S3 location. */

import { basename, join } from "node:path";
import type { S3Sink } from "../sink/s3.ts";

/** A read-only view of stored objects, keyed by paths relative to the source. */
export interface StoreReader {
  /** `dir:/path` or `s3://bucket/prefix`, for messages. */
  readonly description: string;
  /** Every key under the source, in pages (a page per directory or per S3 list call). */
  list(signal: AbortSignal): AsyncIterable<string[]>;
  /** The object's bytes; throws (with the key in the message) when it cannot be read or is
   * larger than `maxBytes`. */
  read(key: string, signal: AbortSignal, maxBytes: number): Promise<Uint8Array>;
  /** What to call a binary whose files sit at the top of the source (no layout above them). */
  readonly leafName: string;
}

/** A local directory in the stored layout. @example new DirReader("coverage-data") */
export class DirReader implements StoreReader {
  readonly description: string;
  readonly leafName: string;
  constructor(readonly root: string) {
    this.description = `dir:${root}`;
    this.leafName = basename(root.replace(/\/+$/, "")) || "unknown";
  }

  async *list(signal: AbortSignal): AsyncIterable<string[]> {
    const stack = [""];
    while (stack.length > 0) {
      signal.throwIfAborted();
      const rel = stack.pop()!;
      const files: string[] = [];
      for await (const e of Deno.readDir(join(this.root, rel))) {
        const key = rel === "" ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory) stack.push(key);
        else if (e.isFile) files.push(key);
      }
      if (files.length > 0) yield files;
    }
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

/** An S3 location, listed with pagination. @example new S3Reader(new S3Sink({...})) */
export class S3Reader implements StoreReader {
  readonly description: string;
  readonly leafName: string;
  /** List calls made (pagination is tested with it). */
  pages = 0;
  /** `pageSize`: keys per list call (default: the store's, 1000 on AWS). */
  constructor(readonly s3: S3Sink, readonly pageSize?: number) {
    this.description = s3.description;
    this.leafName = s3.description.split("/").pop() || "unknown";
  }

  async *list(signal: AbortSignal): AsyncIterable<string[]> {
    let token: string | undefined;
    do {
      const page = await this.s3.listPage(token, signal, this.pageSize);
      this.pages++;
      if (page.keys.length > 0) yield page.keys;
      token = page.next;
    } while (token !== undefined);
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
