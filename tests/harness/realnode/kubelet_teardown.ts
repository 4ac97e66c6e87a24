/** What a kubelet node's teardown checks and removes (kubelet_node.ts). */

import { join } from "node:path";
import { rmdirWhenDrained } from "../hostfs.ts";

/**
 * A host folder that changed only by other test runs' entries: the simulated tier's
 * `ip netns add ccsim-<run>-<n>` lands in the host's /run/netns while this test runs.
 */
export function othersOnly(path: string): boolean {
  try {
    return [...Deno.readDirSync(path)].every((e) => /^ccsim-[0-9a-f]{6}-\d+$/.test(e.name));
  } catch {
    return false;
  }
}

/** Lines added (+) and removed (-) between two snapshots. */
export function diff(a: string, b: string): string {
  const [x, y] = [new Set(a.split("\n")), new Set(b.split("\n"))];
  return [
    ...[...y].filter((l) => !x.has(l)).map((l) => `+${l}`),
    ...[...x].filter((l) => !y.has(l)).map((l) => `-${l}`),
  ]
    .join(" ");
}

/** Removes a cgroup folder and everything under it (each must be empty of tasks). */
export async function removeCgroupTree(dir: string): Promise<void> {
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) await removeCgroupTree(join(dir, e.name));
  }
  if (!(await rmdirWhenDrained(dir))) throw new Error(`rmdir ${dir}: still busy after 2 s`);
}
