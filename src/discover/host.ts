/** Host scan: coverage servers in the host network namespace held by processes outside containers. */

import type { Candidate, ContainerInfo } from "../target.ts";
import { containerIdOf } from "../procfs/cgroup.ts";
import { readCoveragePort } from "../procfs/environ.ts";
import { dialAddress } from "../procfs/net.ts";
import type { ProcessTable } from "../procfs/tree.ts";
import type { ScanContext } from "./context.ts";

interface Holder {
  /** The topmost process of the tree holding the socket. */
  pid: number;
  coveragePort: number | null;
  /** The container its cgroup names, null for a host process. */
  containerId: string | null;
}

/**
 * Finds host (non-container) listeners in their coverage range. Who holds a listening socket is
 * learned once per socket inode (an fd scan of /proc, only while some listener is unknown) and
 * kept while the listener exists, so a quiet node costs two small reads per scan.
 *
 * @example const hosts = await new HostScanner(53700, 100).scan(ctx, claimed, containers)
 */
export class HostScanner {
  #holders = new Map<number, Holder | null>();

  constructor(readonly portStart: number, readonly portSpan: number) {}

  /** The host candidates; `claimed` are socket inodes already filed under a container. */
  async scan(
    ctx: ScanContext,
    claimed: Set<number>,
    containers: ContainerInfo[],
  ): Promise<Candidate[]> {
    const ns = await ctx.netnsOf(1);
    if (ns === null) return [];
    const listeners = (await ctx.listeners(1)).filter((l) => !claimed.has(l.inode));
    const live = new Set(listeners.map((l) => l.inode));
    for (const inode of this.#holders.keys()) if (!live.has(inode)) this.#holders.delete(inode);
    if (listeners.length === 0) return [];

    const inRange = (h: Holder, port: number) => {
      const start = h.coveragePort ?? this.portStart;
      return port >= start && port < start + this.portSpan;
    };
    let table: ProcessTable | undefined;
    for (const l of listeners) {
      const h = this.#holders.get(l.inode);
      if (h && inRange(h, l.port)) {
        table ??= await ctx.table();
        if (!table.has(h.pid)) this.#holders.delete(l.inode); // holder exited: learn again
      }
    }
    const unknown = new Set(
      listeners.filter((l) => !this.#holders.has(l.inode)).map((l) => l.inode),
    );
    if (unknown.size > 0) {
      table ??= await ctx.table();
      await this.#learn(ctx, table, unknown);
    }

    const out: Candidate[] = [];
    const seen = new Set<string>();
    let containerPids: Set<number> | undefined;
    for (const l of listeners) {
      const h = this.#holders.get(l.inode);
      if (!h || h.containerId !== null || !inRange(h, l.port)) continue;
      table ??= await ctx.table();
      containerPids ??= new Set(containers.flatMap((c) => table!.treeOf(c.pid)));
      if (containerPids.has(h.pid)) continue;
      const host = dialAddress(l);
      const key = `${h.pid} ${host} ${l.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({
        owner: { kind: "host" },
        host,
        port: l.port,
        inode: l.inode,
        pids: table.treeOf(h.pid),
      });
    }
    return out;
  }

  /** One fd scan over /proc for the `unknown` inodes; stops once all are found. */
  async #learn(ctx: ScanContext, table: ProcessTable, unknown: Set<number>): Promise<void> {
    const found = new Map<number, number>();
    for (const pid of table.pids()) {
      ctx.signal.throwIfAborted();
      if (found.size === unknown.size) break;
      for (const inode of await ctx.socketsOf(pid)) {
        if (unknown.has(inode) && !found.has(inode)) found.set(inode, pid);
      }
    }
    for (const inode of unknown) {
      let pid = found.get(inode);
      if (pid === undefined) {
        this.#holders.set(inode, null);
        continue;
      }
      // A wrapper and its child may both hold the socket: file it under the topmost holder.
      for (let parent = table.parents.get(pid); parent !== undefined && parent > 1;) {
        if (!(await ctx.socketsOf(parent)).has(inode)) break;
        pid = parent;
        parent = table.parents.get(pid);
      }
      this.#holders.set(inode, {
        pid,
        coveragePort: await readCoveragePort(ctx.system, pid),
        containerId: await containerIdOf(ctx.system, pid),
      });
    }
  }
}
