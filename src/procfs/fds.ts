/** The sockets a process holds, from the links in /proc/<pid>/fd. */

import type { Logger } from "../log.ts";
import type { System } from "../system.ts";
import { isGone } from "./gone.ts";

/** readlink calls in flight at once per process read. */
export const FD_READ_CONCURRENCY = 32;
/** Fds read per process at most: a process holding more costs no more than this. */
export const MAX_FDS_PER_PROCESS = 65_536;

/**
 * The socket inodes behind a fd link text (`socket:[412337]` → 412337), else null.
 *
 * @example socketInodeOfLink("socket:[412337]") // 412337
 */
export function socketInodeOfLink(link: string): number | null {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : null;
}

export interface FdReadOptions {
  /** readlink calls in flight at once (default FD_READ_CONCURRENCY). */
  concurrency?: number;
  /** Fds read at most (default MAX_FDS_PER_PROCESS); the rest are skipped, with a warning. */
  maxFds?: number;
  log?: Logger;
  signal?: AbortSignal;
}

/**
 * The inodes of every socket `pid` holds open. A vanished process gives an empty set; a fd
 * closed while reading is skipped. The cost is bounded: the fd directory is read up to
 * `maxFds` names and at most `concurrency` links are read at once (a process with 20k fds
 * no longer means 20k reads in flight).
 *
 * @example (await socketInodesOf(createSystem(), Deno.pid)).size // e.g. 3
 */
export async function socketInodesOf(
  system: System,
  pid: number,
  opts: FdReadOptions = {},
): Promise<Set<number>> {
  const { concurrency = FD_READ_CONCURRENCY, maxFds = MAX_FDS_PER_PROCESS, log, signal } = opts;
  const out = new Set<number>();
  let fds: string[];
  try {
    // one more than the cap, to know whether there were more
    fds = await system.readDir(`/proc/${pid}/fd`, maxFds + 1);
  } catch (e) {
    if (isGone(e)) return out;
    throw e;
  }
  if (fds.length > maxFds) {
    log?.warn("process holds more fds than are read; the rest are not looked at", {
      pid,
      read: maxFds,
    });
    fds = fds.slice(0, maxFds);
  }
  let next = 0;
  const worker = async () => {
    while (next < fds.length) {
      signal?.throwIfAborted();
      const fd = fds[next++];
      let link: string;
      try {
        link = await system.readLink(`/proc/${pid}/fd/${fd}`);
      } catch (e) {
        if (isGone(e)) continue;
        throw e;
      }
      const inode = socketInodeOfLink(link);
      if (inode !== null) out.add(inode);
    }
  };
  const workers = Math.max(1, Math.min(concurrency, fds.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return out;
}
