/**
 * The host side of a CRI-O node (crionode.ts): the host paths it must leave as they were, and
 * which host PID is the process the node (a PID namespace of its own) calls N.
 */

/**
 * Host paths a CRI-O (or skopeo, or CNI) would write by default: each must look the same after a
 * run as before it. (Not /run/netns: other tests on this shared machine make namespaces there.)
 */
export const HOST_PATHS = [
  "/run/crio",
  "/run/containers",
  "/run/runc",
  "/var/run/crio",
  "/var/lib/containers",
  "/var/lib/crio",
  "/var/lib/cni",
  "/var/log/pods",
  "/var/log/containers",
  "/etc/containers",
  "/etc/cni",
  "/etc/crio",
];

/** A path's existence and the names in it: what "untouched" compares. */
export function hostPathState(path: string): string {
  try {
    const st = Deno.lstatSync(path);
    if (!st.isDirectory) return `file ${st.size} ${st.mtime?.getTime()}`;
    return `dir ${[...Deno.readDirSync(path)].map((e) => e.name).sort().join(",")}`;
  } catch {
    return "absent";
  }
}

/** The parent PID of `pid` (/proc/<pid>/stat field 4). */
export function ppidOf(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
}

/**
 * This host's PID of the process a node whose PID 1 is host PID `initPid` calls `nodePid`:
 * the one whose NSpid names it at the node's level and whose ancestors lead to `initPid`.
 * @example hostPidInNode(node.initPid, 172) // 31544
 */
export function hostPidInNode(initPid: number, nodePid: number): number {
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    let status: string;
    try {
      status = Deno.readTextFileSync(`/proc/${e.name}/status`);
    } catch {
      continue;
    }
    const ns = /^NSpid:\s+(.*)$/m.exec(status)?.[1].trim().split(/\s+/).map(Number) ?? [];
    if (ns.length < 2 || ns[1] !== nodePid) continue;
    if (descendsFrom(Number(e.name), initPid)) return Number(e.name);
  }
  throw new Error(`crio node: no host process is node PID ${nodePid}`);
}

function descendsFrom(pid: number, ancestor: number): boolean {
  for (let i = 0; i < 64 && pid > 1; i++) {
    if (pid === ancestor) return true;
    try {
      pid = ppidOf(pid);
    } catch {
      return false;
    }
  }
  return false;
}
