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
