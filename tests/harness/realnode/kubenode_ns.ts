/**
 * The "node" of the kubelet tier: new PID, mount and network namespaces held by a reaper as the
 * node's PID 1 (`unshare --pid --fork --mount-proc`), so the kubelet, its runtime and the collector
 * all see one host as on a real machine (the collector trusts a kubelet only in PID 1's
 * namespaces). Inside, and only there: empty run-dir folders bound over /run, /var/lib and
 * /var/log; read-only files with the kubelet's wanted values over the global sysctls it would
 * otherwise write (`protectKernelDefaults`); an empty folder over /sys/kernel/mm/hugepages (this
 * VM has no v1 hugetlb hierarchy, so runc fails on the kubelet's limit-0 hugepage limits); lo up
 * and a veth pair with both ends inside giving the node IP (the dummy link type is missing
 * here). Ending the reaper ends every process of the node (PID namespace semantics).
 * From the facts of the team's kubelet recipe (topology, and every workaround and the error that forced it).
 */

import { join } from "node:path";
import { pidRunning } from "../hostfs.ts";
import { run } from "../netns.ts";

/** The node IP on the veth inside the node netns. */
export const NODE_IP = "10.99.0.1";

/** The sysctls the kubelet checks with protectKernelDefaults, and the values it wants. */
export const KUBELET_SYSCTLS: ReadonlyArray<[string, string]> = [
  ["vm/overcommit_memory", "1"],
  ["vm/panic_on_oom", "0"],
  ["kernel/panic", "10"],
  ["kernel/panic_on_oops", "1"],
  ["kernel/keys/root_maxkeys", "1000000"],
  ["kernel/keys/root_maxbytes", "25000000"],
];

/** Host state the node must leave as it found it. */
export interface HostSnapshot {
  mounts: string;
  links: string;
  sysctls: string;
}

/** Mount targets the node covers inside its own mount namespace (never on the host). */
const NODE_MOUNTS = ["/run", "/var/lib", "/var/log", "/sys/kernel/mm/hugepages"];

/**
 * What of the host the node could touch, as it is now: host mounts over the node's targets or
 * naming `dir`, host links the node's names could take (`node0`, `ccp-<runId>`), and the global
 * sysctls the kubelet wants. Other sessions' mounts and links are not its business.
 * @example const before = await hostSnapshot(dir, runId); ...; assert.deepEqual(await hostSnapshot(dir, runId), before);
 */
export async function hostSnapshot(dir: string, runId: string): Promise<HostSnapshot> {
  const mounts = (await Deno.readTextFile("/proc/1/mounts")).split("\n").map((l) => l.split(" "))
    .filter((m) =>
      NODE_MOUNTS.includes(m[1] ?? "") || (m[1] ?? "").startsWith("/proc/sys/") ||
      (m[0] ?? "").includes(dir) || (m[1] ?? "").includes(dir)
    ).map((m) => `${m[0]} ${m[1]}`).sort().join("\n");
  const links = (await run("ip", ["-o", "link", "show"])).split("\n")
    .map((l) => l.split(":")[1]?.trim().split("@")[0] ?? "")
    .filter((n) => n.startsWith("node0") || n === `ccp-${runId}`).sort().join("\n");
  const sysctls = KUBELET_SYSCTLS.map(([k]) => {
    try {
      return `${k}=${Deno.readTextFileSync(`/proc/sys/${k}`).trim()}`;
    } catch {
      return `${k}=?`;
    }
  }).join("\n");
  return { mounts, links, sysctls };
}

/**
 * The shell run inside the node's mount and network namespaces before the kubelet starts
 * (`binds: false` where the runtime's node already bound /run, /var/lib and /var/log).
 */
export function nodeSetupScript(
  dir: string,
  current: Record<string, string>,
  binds = true,
): string {
  const lines = ["set -e", "mount --make-rprivate /"];
  for (const t of binds ? ["run", "var/lib", "var/log"] : []) {
    const src = join(dir, "nsroot", t.replace("/", "-"));
    lines.push(`mkdir -p ${src}`, `mount --bind ${src} /${t}`);
  }
  const fake = join(dir, "sysctl-fake");
  lines.push(`mkdir -p ${fake}`);
  for (const [k, v] of KUBELET_SYSCTLS) {
    if (current[k] === undefined || current[k] === v) continue;
    const f = join(fake, k.replaceAll("/", "_"));
    lines.push(`echo ${v} > ${f}`, `mount --bind -o ro ${f} /proc/sys/${k}`);
  }
  const huge = join(dir, "empty-hugepages");
  lines.push(
    `mkdir -p ${huge}`,
    `mount --bind -o ro ${huge} /sys/kernel/mm/hugepages`,
    "ip link set lo up",
    "ip link add node0 type veth peer name node0p",
    "ip link set node0p up",
    `ip addr add ${NODE_IP}/24 dev node0`,
    "ip link set node0 up",
    "ip route add default via 10.99.0.254 dev node0 onlink",
  );
  return lines.join("\n");
}

function currentSysctls(): Record<string, string> {
  const current: Record<string, string> = {};
  for (const [k] of KUBELET_SYSCTLS) {
    try {
      current[k] = Deno.readTextFileSync(`/proc/sys/${k}`).trim();
    } catch { /* not on this kernel */ }
  }
  return current;
}

function childrenOf(pid: number): number[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/)
      .filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * @example
 * const ns = await NodeNamespaces.create(dir, reaperBinary);
 * const child = new Deno.Command("nsenter", { args: [...ns.enter(), "kubelet", ...] }).spawn();
 */
export class NodeNamespaces {
  private constructor(
    readonly dir: string,
    /** Undefined for a node adopted from its runtime (which ends it). */
    readonly unshare: Deno.ChildProcess | undefined,
    /** Host PID of the node's PID 1. */
    readonly holder: number,
  ) {}

  /**
   * The kubelet's setup inside a node a runtime made (CRI-O's CrioNode, PID 1 `holder`); ending
   * the node stays that runtime's job.
   * @example const ns = await NodeNamespaces.adopt(dir, crio.initPid);
   */
  static async adopt(dir: string, holder: number): Promise<NodeNamespaces> {
    const ns = new NodeNamespaces(dir, undefined, holder);
    await run("nsenter", [
      ...ns.enter({ pid: false }),
      "sh",
      "-c",
      nodeSetupScript(dir, currentSysctls(), false),
    ]);
    return ns;
  }

  /** Starts the holder (the `reaper` binary as PID 1) and sets the node up. */
  static async create(dir: string, reaper: string): Promise<NodeNamespaces> {
    const unshare = new Deno.Command("unshare", {
      args: [
        "--pid",
        "--fork",
        "--mount",
        "--net",
        "--propagation",
        "private",
        "--mount-proc",
        "--kill-child",
        reaper,
        dir, // ignored by the reaper; names the run so a sweep of a killed run finds the node
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    let holder = 0;
    for (let i = 0; i < 200 && !holder; i++) {
      holder = childrenOf(unshare.pid)[0] ?? 0;
      // Another process's fork has no event to wait on; poll briefly.
      if (!holder) await new Promise((r) => setTimeout(r, 10));
    }
    const ns = new NodeNamespaces(dir, unshare, holder);
    if (!holder) {
      await ns.close();
      throw new Error("node namespaces: unshare started no holder within 2 s");
    }
    const current: Record<string, string> = {};
    for (const [k] of KUBELET_SYSCTLS) {
      try {
        current[k] = Deno.readTextFileSync(`/proc/sys/${k}`).trim();
      } catch { /* not on this kernel */ }
    }
    try {
      await run("nsenter", [
        ...ns.enter({ pid: false }),
        "sh",
        "-c",
        nodeSetupScript(dir, current),
      ]);
    } catch (e) {
      await ns.close();
      throw e;
    }
    return ns;
  }

  /** The `nsenter` arguments entering the node (its PID namespace too unless `pid: false`). */
  enter(o: { pid?: boolean } = {}): string[] {
    return ["-t", String(this.holder), ...(o.pid === false ? [] : ["-p"]), "-m", "-n"];
  }

  /**
   * A host PID's PID inside the node (the last NSpid field), or undefined when it is gone.
   * @example ns.nodePid(kubelet.pid)
   */
  static nodePid(hostPid: number): number | undefined {
    try {
      const line = Deno.readTextFileSync(`/proc/${hostPid}/status`).split("\n")
        .find((l) => l.startsWith("NSpid:"));
      return line ? Number(line.split(/\s+/).at(-1)) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Ends the holder, and with it every process of the node; waits until it is gone. */
  async close(): Promise<void> {
    if (!this.unshare) return;
    for (const p of [this.holder, this.unshare.pid]) {
      try {
        if (p) Deno.kill(p, "SIGKILL");
      } catch { /* gone */ }
    }
    await this.unshare.status;
    for (let i = 0; i < 250 && this.holder && pidRunning(this.holder); i++) {
      await new Promise((r) => setTimeout(r, 20)); // no event for another process's exit
    }
  }
}
