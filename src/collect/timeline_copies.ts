/**
 * The collector's own copy of each process's timeline, under `<state-dir>/timelines/`: what a
 * restarted collector merges into the timeline it goes on with (a timeline never loses an
 * earlier time). The store is not read back: S3 credentials may allow PUT only, and a timeline
 * in the spool is not in S3 yet. A copy is named like the process's prefix memory entry
 * (src/collect/prefix_memory.ts): digits and hex only, nothing from a pod; it lives as long as
 * that entry.
 */

import { basename, dirname, join } from "node:path";
import type { Logger } from "../log.ts";
import { writeAtomic } from "../sink/dir.ts";
import { ensureDirUnder, isTempName } from "../sink/no_follow.ts";
import type { Target } from "../target.ts";
import { entryName, pathOf, readNoFollow } from "./prefix_memory.ts";

const SUFFIX = ".cvtl";
const NAME = /^\d{1,10}-\d{1,20}-[0-9a-f]{16}\.cvtl$/;

/** One process's copy. */
export interface TimelineCopy {
  /** The bytes kept, at most `max`; undefined when there are none (or they cannot be read). */
  read(max: number): Promise<Uint8Array | undefined>;
  /** Keeps `bytes` (atomically). Never throws: a failure is logged. */
  write(bytes: Uint8Array): Promise<void>;
}

/**
 * The copies in `dir`. `live(entry)` tells whether the prefix memory still holds an entry file
 * name: copies of other processes are removed when opened.
 *
 * @example const copies = await TimelineCopies.open("state/timelines", log, (n) => memory.has(n));
 */
export class TimelineCopies {
  private constructor(readonly dir: string, readonly log: Logger, readonly hostname: string) {}

  /** Null (logged) when the directory cannot be used: timelines then start anew at a restart. */
  static async open(
    dir: string,
    log: Logger,
    hostname: string,
    live: (entry: string) => boolean,
  ): Promise<TimelineCopies | null> {
    const l = log.with({ part: "timelines", dir });
    try {
      await ensureDirUnder(dirname(dir), [basename(dir)]);
    } catch (e) {
      l.warn("timelines not kept across restarts: directory unusable", { error: e });
      return null;
    }
    const c = new TimelineCopies(dir, l, hostname);
    await c.#prune(live);
    return c;
  }

  /** The copy of `t`'s process; undefined when the process has no start time to name it. */
  of(t: Target): TimelineCopy | undefined {
    if (!t.hostStartTime) return undefined;
    const entry = entryName(t.hostPid, t.hostStartTime, pathOf(t, this.hostname));
    const path = join(this.dir, entry.replace(/\.json$/, SUFFIX));
    return {
      read: async (max) => {
        try {
          return await readNoFollow(path, max);
        } catch (e) {
          if (!(e instanceof Deno.errors.NotFound)) {
            this.log.warn("timeline copy not read: starting anew", { file: path, error: e });
          }
          return undefined;
        }
      },
      write: async (bytes) => {
        try {
          await writeAtomic(path, bytes);
        } catch (e) {
          this.log.warn("timeline copy not kept", { file: path, error: e });
        }
      },
    };
  }

  /** Removes the copy of `t`'s process (it is gone). Never throws. */
  async forget(t: Target): Promise<void> {
    if (!t.hostStartTime) return;
    const entry = entryName(t.hostPid, t.hostStartTime, pathOf(t, this.hostname));
    await Deno.remove(join(this.dir, entry.replace(/\.json$/, SUFFIX))).catch(() => {});
  }

  async #prune(live: (entry: string) => boolean): Promise<void> {
    let kept = 0, removed = 0;
    try {
      for await (const e of Deno.readDir(this.dir)) {
        const entry = e.name.slice(0, -SUFFIX.length) + ".json";
        if (isTempName(e.name) || (NAME.test(e.name) && !live(entry))) {
          await Deno.remove(join(this.dir, e.name)).catch(() => {});
          removed++;
        } else kept++;
      }
    } catch (e) {
      this.log.warn("timelines: directory not listed", { error: e });
    }
    this.log.info("timeline copies loaded", { kept, removed });
  }
}
