/** The directory sink: the S3 layout on local disk, each file written atomically. */

import { errorText } from "../errors.ts";
import type { Logger } from "../log.ts";
import { basename, dirname, join, resolve } from "node:path";
import { KeyRejectedError, type Sink, SinkError } from "./sink.ts";
import { keySegments } from "./key.ts";
import {
  ensureDirUnder,
  FILE_MODE,
  refuseLink,
  removeStaleTemps,
  syncDir,
  UnsafePathError,
} from "./no_follow.ts";

/**
 * Writes `data` to `path` so a reader sees the old file or the new one, never a part: a temp
 * file (mode 0600, made with O_EXCL) in the same directory, synced, then renamed over the
 * target, and the directory synced. A symlink at `path` is refused (UnsafePathError).
 *
 * @example await writeAtomic("/tmp/x/covmeta.ab", bytes)
 */
export async function writeAtomic(path: string, data: Uint8Array): Promise<void> {
  await refuseLink(path);
  const rand = crypto.getRandomValues(new Uint32Array(1))[0].toString(36);
  const tmp = join(dirname(path), `.${basename(path)}.${rand}.tmp`);
  try {
    const file = await Deno.open(tmp, { write: true, createNew: true, mode: FILE_MODE });
    try {
      let off = 0;
      while (off < data.length) off += await file.write(data.subarray(off));
      await file.syncData();
    } finally {
      file.close();
    }
    await refuseLink(path); // again, as late as we can: rename replaces a link, but say so
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
  await syncDir(dirname(path));
}

/**
 * Stores objects as files under `root`, key segments as directories (made 0700; files 0600).
 * A symlink planted under the root is never followed: that object is refused.
 *
 * @example await new DirSink("coverage-data").put("host/_host_/t/bin/info.json", bytes)
 */
export class DirSink implements Sink {
  readonly root: string;
  readonly description: string;
  #madeAt = Date.now();
  #log?: Logger;

  constructor(root: string, opts: { log?: Logger } = {}) {
    this.root = resolve(root);
    this.description = `dir:${this.root}`;
    this.#log = opts.log;
  }

  /** The file a key is stored in; throws SinkError for an unsafe key. */
  pathOf(key: string): string {
    return join(this.root, ...keySegments(key));
  }

  async put(key: string, data: Uint8Array, signal?: AbortSignal): Promise<void> {
    const path = this.pathOf(key);
    const segments = keySegments(key);
    signal?.throwIfAborted();
    try {
      const dir = await ensureDirUnder(this.root, segments.slice(0, -1));
      await writeAtomic(join(dir, segments[segments.length - 1]), data);
    } catch (e) {
      if (e instanceof UnsafePathError) {
        throw new KeyRejectedError(`cannot write ${path}: ${e.message}`, key, { cause: e });
      }
      const permanent = e instanceof Deno.errors.PermissionDenied ||
        e instanceof Deno.errors.NotADirectory || e instanceof Deno.errors.AlreadyExists;
      throw new SinkError(
        `cannot write ${path}: ${errorText(e)}`,
        permanent,
        { cause: e },
      );
    }
  }

  /**
   * Removes the temp files an earlier run left when it was killed mid-write (older than this
   * sink; a write of ours under way is left alone). Returns how many.
   */
  async removeLeftovers(signal?: AbortSignal): Promise<number> {
    const removed = await removeStaleTemps(this.root, this.#madeAt, signal);
    if (removed > 0) {
      this.#log?.info("removed temp files an interrupted run left", {
        root: this.root,
        files: removed,
      });
    }
    return removed;
  }

  /** Background work: the leftovers of an earlier run are removed, then it waits for `signal`. */
  async run(signal: AbortSignal): Promise<void> {
    try {
      await this.removeLeftovers(signal);
    } catch (e) {
      if (!signal.aborted) {
        this.#log?.warn("could not remove old temp files", { root: this.root, error: e });
      }
    }
    if (signal.aborted) return;
    await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
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
