/** CRI answers + /proc → ContainerInfo, and the candidate servers of each container. */

import type { Candidate, ContainerInfo } from "../target.ts";
import type { InspectOutput, InspectpOutput, PsContainer } from "../cri/schemas.ts";
import { dialAddress, isLoopback } from "../procfs/net.ts";
import type { ScanContext } from "./context.ts";

const L = {
  container: "io.kubernetes.container.name",
  pod: "io.kubernetes.pod.name",
  namespace: "io.kubernetes.pod.namespace",
  uid: "io.kubernetes.pod.uid",
};

/**
 * Builds a ContainerInfo from `crictl ps`, `inspect` and `inspectp`; null when the container has
 * no process (info.pid 0). An empty pod IP is treated as hostNetwork (NODE): never dialled.
 *
 * @example containerInfoOf(ps.containers[1], inspect, inspectp, 53700)
 * // { id: "9f8e…", podName: "console-6b8d7c9f5-x2k4p", pid: 48213, network: "POD",
 * //   podIp: "10.128.2.17", coveragePort: 53700, ... }
 */
export function containerInfoOf(
  ps: PsContainer,
  inspect: InspectOutput,
  sandbox: InspectpOutput,
  coveragePort: number,
): ContainerInfo | null {
  const pid = inspect.info.pid;
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const labels = { ...sandbox.status.labels, ...inspect.status.labels, ...ps.labels };
  const meta = sandbox.status.metadata;
  const ip = (sandbox.status.network?.ip ?? "").trim();
  const mode = sandbox.status.linux?.namespaces?.options?.network;
  const network = mode === "NODE" || ip === "" ? "NODE" : "POD";
  return {
    id: ps.id,
    sandboxId: ps.podSandboxId,
    name: labels[L.container] ?? ps.metadata?.name ?? inspect.status.metadata?.name ?? "",
    podName: labels[L.pod] ?? meta?.name ?? "",
    namespace: labels[L.namespace] ?? meta?.namespace ?? "",
    podUid: labels[L.uid] ?? meta?.uid ?? "",
    pid,
    imageRef: ps.imageRef ?? inspect.status.imageRef ?? "",
    network,
    podIp: network === "POD" ? ip : "",
    coveragePort,
  };
}

export interface ContainerScan {
  candidates: Candidate[];
  /** Inodes of listeners filed under a container (socket inodes are unique across namespaces). */
  claimed: Set<number>;
}

/**
 * The listeners in each container's coverage range that belong to it. A hostNetwork (NODE)
 * container sees every host socket, so only sockets held by its process tree count; a POD
 * container counts sockets its tree holds, or every in-range socket of its pod network when it is
 * the only known container there. Dial host: the pod IP for POD, a loopback/bound address for NODE
 * (only when the container really is in the host network namespace).
 *
 * @example const { candidates } = await containerCandidates(ctx, containers, 100)
 */
export async function containerCandidates(
  ctx: ScanContext,
  containers: ContainerInfo[],
  portSpan: number,
): Promise<ContainerScan> {
  const out: ContainerScan = { candidates: [], claimed: new Set() };
  const perNetns = new Map<string, number>();
  const netnsOf = new Map<string, string>();
  for (const c of containers) {
    const ns = await ctx.netnsOf(c.pid);
    if (ns === null) continue; // gone since crictl saw it
    netnsOf.set(c.id, ns);
    perNetns.set(ns, (perNetns.get(ns) ?? 0) + 1);
  }
  const hostNs = await ctx.netnsOf(1);
  const seen = new Set<string>();
  for (const c of containers) {
    ctx.signal.throwIfAborted();
    const ns = netnsOf.get(c.id);
    if (ns === undefined) continue;
    // Loopback of a network namespace other than the host's cannot be dialled from here.
    if (c.network === "NODE" && known(hostNs) && known(ns) && ns !== hostNs) continue;
    const inRange = (await ctx.listeners(c.pid)).filter((l) =>
      l.port >= c.coveragePort && l.port < c.coveragePort + portSpan
    );
    if (inRange.length === 0) continue;
    const pids = (await ctx.table()).treeOf(c.pid);
    if (pids.length === 0) continue; // gone since crictl saw it
    const owned = await ctx.socketsOfAll(pids);
    const sole = c.network === "POD" && known(ns) && perNetns.get(ns) === 1;
    for (const l of inRange) {
      if (out.claimed.has(l.inode) || !(owned.has(l.inode) || sole)) continue;
      if (c.network === "POD" && isLoopback(l.address)) continue; // unreachable from the host
      const host = c.network === "POD" ? c.podIp : dialAddress(l);
      if (host === "") continue;
      out.claimed.add(l.inode);
      const dedup = `${c.id} ${host} ${l.port}`;
      if (seen.has(dedup)) continue; // a v4 and a v6 listener on one port: dial once
      seen.add(dedup);
      out.candidates.push({
        owner: { kind: "container", container: c },
        host,
        port: l.port,
        inode: l.inode,
        pids,
      });
    }
  }
  return out;
}

/** True for a real namespace link (not a stand-in key for an unreadable one). */
function known(ns: string | null): ns is string {
  return ns !== null && ns.startsWith("net:");
}
