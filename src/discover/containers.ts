/** CRI answers + /proc → ContainerInfo, and the candidate servers of each container. */

import type { Candidate, ContainerInfo } from "../target.ts";
import type { InspectOutput, InspectpOutput, PsContainer } from "../cri/schemas.ts";
import { isLoopback, isWildcard, ownDialAddress } from "../procfs/net.ts";
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
  const more = (sandbox.status.network?.additionalIps ?? [])
    .map((a) => (typeof a === "string" ? a : a.ip).trim()).filter((a) => a !== "" && a !== ip);
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
    podIps: network === "POD" ? [ip, ...more] : [],
    coveragePort,
  };
}

export interface ContainerScan {
  candidates: Candidate[];
  /** Inodes of listeners filed under a container (socket inodes are unique across namespaces). */
  claimed: Set<number>;
}

/** What was worked out for one container, reused while its in-range listeners stay the same. */
interface Memo {
  /** Its network namespace: fixed for the container's life, like its PID. */
  ns: string;
  /** `sole|inodes` of the in-range listeners `pids` and `owned` were worked out for. */
  key?: string;
  pids: number[];
  /** The in-range inodes its process tree holds. */
  owned: Set<number>;
}

/**
 * The listeners in each container's coverage range that belong to it. A hostNetwork (NODE)
 * container sees every host socket, so only sockets held by its process tree count; a POD
 * container counts sockets its tree holds, or every in-range socket of its pod network when it is
 * the only container there (every container of its sandbox is known). Dial host: the pod IP for a
 * wildcard or pod-IP listener of a POD container (nothing else); for NODE, loopback for a
 * wildcard or loopback listener, else the bound address if it is the node's own (only when the
 * container really is in the host network namespace).
 *
 * Cheap when idle: per container ID it keeps its network namespace and, for the set of in-range
 * LISTEN inodes last seen, its process tree and the inodes the tree holds. The process table and
 * fd dirs are read again only when a container's in-range inode set changes.
 *
 * @example const { candidates } = await new ContainerScanner(100).scan(ctx, containers)
 */
export class ContainerScanner {
  #memo = new Map<string, Memo>();

  constructor(readonly portSpan: number) {}

  /** Containers remembered. */
  get size(): number {
    return this.#memo.size;
  }

  /** Forgets every container whose ID is not in `ids` (call with the IDs still running). */
  retain(ids: Set<string>): void {
    for (const id of this.#memo.keys()) if (!ids.has(id)) this.#memo.delete(id);
  }

  /**
   * This scan's container candidates. `unsure` holds the pod sandboxes that may have containers
   * not in `containers` (one whose `crictl inspect` failed, or every sandbox while `crictl ps`
   * fails): a container there is never taken for the only one of its pod network, so it gets
   * only the sockets its process tree holds (a sibling's server is not filed under it).
   */
  async scan(
    ctx: ScanContext,
    containers: ContainerInfo[],
    unsure: { has(sandboxId: string): boolean } = new Set(),
  ): Promise<ContainerScan> {
    const out: ContainerScan = { candidates: [], claimed: new Set() };
    const perNetns = new Map<string, number>();
    for (const c of containers) {
      const memo = this.#memo.get(c.id);
      if (memo) ctx.seedNetns(c.pid, memo.ns);
      else {
        const ns = await ctx.netnsOf(c.pid);
        if (ns === null) continue; // gone since crictl saw it
        this.#memo.set(c.id, { ns, pids: [], owned: new Set() });
      }
      const ns = this.#memo.get(c.id)!.ns;
      perNetns.set(ns, (perNetns.get(ns) ?? 0) + 1);
    }
    const hostNs = await ctx.netnsOf(1);
    // Each read of a listener table costs the kernel a walk of its TCP hash: read them in
    // parallel (one per network namespace; the context keeps the promises).
    const tables = containers.filter((c) => this.#memo.has(c.id)).map((c) => ctx.listeners(c.pid));
    await Promise.all([...tables, ctx.listeners(1)]);
    const seen = new Set<string>();
    for (const c of containers) {
      ctx.signal.throwIfAborted();
      const memo = this.#memo.get(c.id);
      if (memo === undefined) continue;
      const ns = memo.ns;
      // Loopback of a network namespace other than the host's cannot be dialled from here.
      if (c.network === "NODE" && known(hostNs) && known(ns) && ns !== hostNs) continue;
      const inRange = (await ctx.listeners(c.pid)).filter((l) =>
        l.port >= c.coveragePort && l.port < c.coveragePort + this.portSpan
      );
      if (inRange.length === 0) continue;
      const sole = c.network === "POD" && known(ns) && perNetns.get(ns) === 1 &&
        !unsure.has(c.sandboxId);
      const key = `${sole}|${inRange.map((l) => l.inode).sort((a, b) => a - b).join(",")}`;
      if (memo.key !== key) {
        memo.pids = (await ctx.table()).treeOf(c.pid);
        // the sole container of a pod network owns every in-range socket: no fd reads needed
        const held = sole || memo.pids.length === 0
          ? new Set<number>()
          : await ctx.socketsOfAll(memo.pids);
        memo.owned = new Set(inRange.map((l) => l.inode).filter((i) => held.has(i)));
        memo.key = key;
      }
      const pids = memo.pids;
      if (pids.length === 0) continue; // gone since crictl saw it
      for (const l of inRange) {
        if (out.claimed.has(l.inode) || !(memo.owned.has(l.inode) || sole)) continue;
        if (c.network === "POD" && isLoopback(l.address)) continue; // unreachable from the host
        // Only the pod's own IP (or, in the host network, an address of the node): a socket bound
        // with IP_FREEBIND to another pod's IP would have us pull that pod and file it here.
        const host = c.network === "POD"
          ? (isWildcard(l.address) ? c.podIp : ownPodIp(c, l.address))
          : await ownDialAddress(l, () => ctx.localAddresses(c.pid));
        if (host === null || host === "") continue;
        out.claimed.add(l.inode);
        // a v4 and a v6 wildcard listener on one port: dial once
        const dedup = `${c.id} ${isWildcard(l.address) ? "*" : host} ${l.port}`;
        if (seen.has(dedup)) continue;
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
}

/** The bound address when it is one of the pod's own IPs (per CRI), else null. */
function ownPodIp(c: ContainerInfo, address: string): string | null {
  const a = address.startsWith("::ffff:") ? address.slice(7) : address;
  return (c.podIps ?? [c.podIp]).includes(a) ? a : null;
}

/** True for a real namespace link (not a stand-in key for an unreadable one). */
function known(ns: string | null): ns is string {
  return ns !== null && ns.startsWith("net:");
}
