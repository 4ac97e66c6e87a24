/** Which container a host process belongs to, from /proc/<pid>/cgroup. */

import type { System } from "../system.ts";
import { isGone } from "./gone.ts";

const SCOPE = /(?:^|\/)(?:crio|cri-containerd|docker)-([0-9a-f]{64})(?:\.scope)?(?:\/|$)/;
const BARE = /\/([0-9a-f]{64})$/;

/**
 * The container ID named by /proc/<pid>/cgroup text (CRI-O `crio-<id>.scope`, or `crio-<id>` with
 * the cgroupfs driver, containerd
 * `cri-containerd-<id>.scope`, or a bare 64-hex cgroupfs leaf), else null. `crio-conmon-*`
 * (the monitor, not the container) does not count.
 *
 * @example containerIdOfCgroup("0::/kubepods.slice/kubepods-pod1.slice/crio-ab12…(64 hex).scope")
 */
export function containerIdOfCgroup(text: string): string | null {
  for (const line of text.split("\n")) {
    const path = line.split(":").slice(2).join(":").trim();
    if (path === "") continue;
    const m = SCOPE.exec(path) ?? BARE.exec(path);
    if (m) return m[1];
  }
  return null;
}

/**
 * Reads the container ID of `pid`; null for host processes and vanished ones.
 *
 * @example await containerIdOf(createSystem(), 1) // null
 */
export async function containerIdOf(system: System, pid: number): Promise<string | null> {
  try {
    return containerIdOfCgroup(await system.readText(`/proc/${pid}/cgroup`));
  } catch (e) {
    if (isGone(e)) return null;
    throw e;
  }
}
