/** The directory sink: the S3 layout on local disk, each file written atomically. */

import { errorText } from "../errors.ts";
import { basename, dirname, join, resolve } from "node:path";
import { type Sink, SinkError } from "./sink.ts";
import { keySegments } from "./key.ts";

/**
 * Writes `data` to `path` so a reader sees the old file or the new one, never a part: a temp
 * file in the same directory, synced, then renamed over the target.
 *
 * @example await writeAtomic("/tmp/x/covmeta.ab", bytes)
 */
export async function writeAtomic(path: string, data: Uint8Array): Promise<void> {
  const rand = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  const tmp = join(dirname(path), `.${basename(path)}.${rand}.tmp`);
  try {
    const file = await Deno.open(tmp, { write: true, createNew: true, mode: 0o644 });
    try {
      let off = 0;
      while (off < data.length) off += await file.write(data.subarray(off));
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Stores objects as files under `root`, key segments as directories.
 *
 * @example await new DirSink("coverage-data").put("host/_host_/t/bin/info.json", bytes)
 */
export class DirSink implements Sink {
  readonly root: string;
  readonly description: string;

  constructor(root: string) {
    this.root = resolve(root);
    this.description = `dir:${this.root}`;
  }

  /** The file a key is stored in; throws SinkError for an unsafe key. */
  pathOf(key: string): string {
    return join(this.root, ...keySegments(key));
  }

  async put(key: string, data: Uint8Array, signal?: AbortSignal): Promise<void> {
    const path = this.pathOf(key);
    signal?.throwIfAborted();
    try {
      await Deno.mkdir(dirname(path), { recursive: true });
      await writeAtomic(path, data);
    } catch (e) {
      const permanent = e instanceof Deno.errors.PermissionDenied ||
        e instanceof Deno.errors.NotADirectory || e instanceof Deno.errors.AlreadyExists;
      throw new SinkError(
        `cannot write ${path}: ${errorText(e)}`,
        permanent,
        { cause: e },
      );
    }
  }

  /** Removes a stored object; absent is fine. */
  async delete(key: string): Promise<void> {
    await Deno.remove(this.pathOf(key)).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }

  status(): Record<string, unknown> {
    return { kind: "dir", root: this.root };
  }
}
