/** The process table of one scan (one pass over /proc), and process trees drawn from it. */

import type { System } from "../system.ts";
import { readStatus } from "./status.ts";

/** PID → parent PID of every process seen in one pass over /proc. */
export class ProcessTable {
  readonly parents: ReadonlyMap<number, number>;
  #children = new Map<number, number[]>();

  constructor(parents: Map<number, number>) {
    this.parents = parents;
    for (const [pid, ppid] of parents) {
      const list = this.#children.get(ppid);
      if (list) list.push(pid);
      else this.#children.set(ppid, [pid]);
    }
  }

  has(pid: number): boolean {
    return this.parents.has(pid);
  }

  /** `rootPid` and all its descendants (root first); [] when the root is not in the table. */
  treeOf(rootPid: number): number[] {
    if (!this.parents.has(rootPid)) return [];
    const out: number[] = [];
    const seen = new Set<number>();
    const todo = [rootPid];
    while (todo.length > 0) {
      const pid = todo.shift()!;
      if (seen.has(pid)) continue;
      seen.add(pid);
      out.push(pid);
      todo.push(...(this.#children.get(pid) ?? []));
    }
    return out;
  }

  /** Every PID, ascending. */
  pids(): number[] {
    return [...this.parents.keys()].sort((a, b) => a - b);
  }
}

/**
 * Reads the PPid of every process in /proc once (processes that vanish meanwhile are skipped).
 *
 * @example (await readProcessTable(createSystem())).treeOf(1).length // every process
 */
export async function readProcessTable(
  system: System,
  signal?: AbortSignal,
  concurrency = 64,
): Promise<ProcessTable> {
  const pids = (await system.readDir("/proc")).filter((n) => /^\d+$/.test(n)).map(Number)
    .sort((a, b) => a - b);
  const parents = new Map<number, number>();
  for (let i = 0; i < pids.length; i += concurrency) {
    signal?.throwIfAborted();
    const batch = pids.slice(i, i + concurrency);
    const statuses = await Promise.all(batch.map((pid) => readStatus(system, pid)));
    statuses.forEach((s, j) => {
      if (s) parents.set(batch[j], s.ppid);
    });
  }
  return new ProcessTable(parents);
}
