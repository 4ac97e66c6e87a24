/** The sockets a process holds, from the links in /proc/<pid>/fd. */

import type { System } from "../system.ts";
import { isGone } from "./gone.ts";

/**
 * The socket inodes behind a fd link text (`socket:[412337]` → 412337), else null.
 *
 * @example socketInodeOfLink("socket:[412337]") // 412337
 */
export function socketInodeOfLink(link: string): number | null {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : null;
}

/**
 * The inodes of every socket `pid` holds open. A vanished process gives an empty set; a fd
 * closed while reading is skipped.
 *
 * @example (await socketInodesOf(createSystem(), Deno.pid)).size // e.g. 3
 */
export async function socketInodesOf(system: System, pid: number): Promise<Set<number>> {
  const out = new Set<number>();
  let fds: string[];
  try {
    fds = await system.readDir(`/proc/${pid}/fd`);
  } catch (e) {
    if (isGone(e)) return out;
    throw e;
  }
  const links = await Promise.all(fds.map(async (fd) => {
    try {
      return await system.readLink(`/proc/${pid}/fd/${fd}`);
    } catch (e) {
      if (isGone(e)) return "";
      throw e;
    }
  }));
  for (const link of links) {
    const inode = socketInodeOfLink(link);
    if (inode !== null) out.add(inode);
  }
  return out;
}

/**
 * Which of `pids` holds each of `wanted` inodes (first holder in `pids` order wins). Stops early
 * once every wanted inode is found.
 *
 * @example await holdersOf(sys, [1, 42], new Set([412337])) // Map { 412337 => 42 }
 */
export async function holdersOf(
  system: System,
  pids: Iterable<number>,
  wanted: Set<number>,
  signal?: AbortSignal,
): Promise<Map<number, number>> {
  const found = new Map<number, number>();
  for (const pid of pids) {
    signal?.throwIfAborted();
    if (found.size === wanted.size) break;
    for (const inode of await socketInodesOf(system, pid)) {
      if (wanted.has(inode) && !found.has(inode)) found.set(inode, pid);
    }
  }
  return found;
}
