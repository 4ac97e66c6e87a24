/** Where `report` reads stored coverage from: a local directory or an S3 location. */

import { join } from "node:path";
import type { S3Sink } from "../sink/s3.ts";

/** A read-only view of stored objects, keyed by paths relative to the source. */
export interface StoreReader {
  /** `dir:/path` or `s3://bucket/prefix`, for messages. */
  readonly description: string;
  /** Every key under the source, in pages (a page per directory or per S3 list call). */
  list(signal: AbortSignal): AsyncIterable<string[]>;
  /** The object's bytes; throws (with the key in the message) when it cannot be read. */
  read(key: string, signal: AbortSignal): Promise<Uint8Array>;
}

/** A local directory in the stored layout. @example new DirReader("coverage-data") */
export class DirReader implements StoreReader {
  readonly description: string;
  constructor(readonly root: string) {
    this.description = `dir:${root}`;
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

  read(key: string): Promise<Uint8Array> {
    return Deno.readFile(join(this.root, key));
  }
}

/** An S3 location, listed with pagination. @example new S3Reader(new S3Sink({...})) */
export class S3Reader implements StoreReader {
  readonly description: string;
  /** List calls made (pagination is tested with it). */
  pages = 0;
  /** `pageSize`: keys per list call (default: the store's, 1000 on AWS). */
  constructor(readonly s3: S3Sink, readonly pageSize?: number) {
    this.description = s3.description;
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

  async read(key: string, signal: AbortSignal): Promise<Uint8Array> {
    const bytes = await this.s3.get(key, signal);
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
