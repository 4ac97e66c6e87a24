/** Host scan: coverage servers in the host network namespace held by processes outside containers. */

import type { Candidate, ContainerInfo } from "../target.ts";
import { containerIdOf } from "../procfs/cgroup.ts";
import { readCoveragePort } from "../procfs/environ.ts";
import { ownDialAddress } from "../procfs/net.ts";
import { readStartTime } from "../procfs/stat.ts";
import { readStatus } from "../procfs/status.ts";
import type { ScanContext } from "./context.ts";

interface Holder {
  /** The topmost process of the tree holding the socket. */
  pid: number;
  /** Start time of `pid` when learned (null: unreadable); another value means a reused PID. */
  start: string | null;
  coveragePort: number | null;
  /** The container its cgroup names, null for a host process. */
  containerId: string | null;
  /** Its process tree, read the first time its listener is a candidate. */
  pids?: number[];
  /** Whether it descends from a container's init, for the container PIDs `key`. */
  inContainer?: { key: string; value: boolean };
}

export interface HostScannerOptions {
  /**
   * A listener outside the default range and outside every known COVERAGE_PORT range is learned
   * (an fd walk over /proc) at most once per this many ms; default WIDE_LEARN_MS.
   */
  learnEveryMs?: number;
  /** Clock in ms (System.monotonic: ages of ranges and pauses, never the wall clock). */
  now?: () => number;
}

/** Default pause between fd walks for listeners outside every known range. */
export const WIDE_LEARN_MS = 60_000;
/** How long a COVERAGE_PORT range stays known after its last holder is gone (server restarts). */
const RANGE_MEMORY_MS = 10 * 60_000;
/** Parent walks stop here (a PID chain deeper than this is not a real one). */
const MAX_DEPTH = 64;

/**
 * Finds host (non-container) listeners in their coverage range. Who holds a listening socket is
 * learned once per socket inode and kept while the listener exists, so a quiet node costs two
 * small reads per scan plus one stat read per host server (is its holder still the same process).
 *
 * Learning is an fd walk over /proc. A host process's COVERAGE_PORT (its environ) moves its range,
 * and that environ can only be read once the holder is known, so some listeners outside the
 * default range must be learned too. The rule: a new listener in the default range, or in the
 * range of a COVERAGE_PORT seen on a holder in the last RANGE_MEMORY_MS, is learned at once; any
 * other new listener waits for the next wide walk, run at most once per `learnEveryMs` (a moved
 * range is found within that time, and unrelated listeners never cost more than one walk per
 * period).
 *
 * @example const hosts = await new HostScanner(53700, 100).scan(ctx, claimed, containers)
 */
export class HostScanner {
  #holders = new Map<number, Holder | null>();
  /** COVERAGE_PORT values of holders → when last seen (ms). */
  #ranges = new Map<number, number>();
  #lastWide = -Infinity;
  #learnEveryMs: number;
  #now: () => number;

  /** Entries of the scanner's memory (listener holders, port ranges seen). */
  sizes(): { holders: number; ranges: number } {
    return { holders: this.#holders.size, ranges: this.#ranges.size };
  }

  constructor(
    readonly portStart: number,
    readonly portSpan: number,
    opts: HostScannerOptions = {},
  ) {
    this.#learnEveryMs = opts.learnEveryMs ?? WIDE_LEARN_MS;
    this.#now = opts.now ?? (() => performance.now());
  }

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
    const now = this.#now();
    for (const h of this.#holders.values()) {
      if (h?.coveragePort != null) this.#ranges.set(h.coveragePort, now);
    }
    for (const [port, at] of this.#ranges) {
      if (now - at > RANGE_MEMORY_MS) this.#ranges.delete(port);
    }
    if (listeners.length === 0) return [];

    // A holder of an in-range listener must still be the process learned (not a reused PID).
    const same = new Map<number, boolean>();
    for (const l of listeners) {
      const h = this.#holders.get(l.inode);
      if (!h || h.start === null || !this.#inRange(h.coveragePort, l.port)) continue;
      if (!same.has(h.pid)) same.set(h.pid, (await readStartTime(ctx.system, h.pid)) === h.start);
      if (!same.get(h.pid)) this.#holders.delete(l.inode); // holder exited: learn again
    }
    const unknown = listeners.filter((l) => !this.#holders.has(l.inode));
    const wide = unknown.length > 0 && now - this.#lastWide >= this.#learnEveryMs;
    const learn = wide ? unknown : unknown.filter((l) => this.#urgent(l.port));
    if (wide) this.#lastWide = now;
    if (learn.length > 0) await this.#learn(ctx, new Set(learn.map((l) => l.inode)));

    const out: Candidate[] = [];
    const seen = new Set<string>();
    const containerKey = containers.map((c) => c.pid).sort((a, b) => a - b).join(",");
    for (const l of listeners) {
      const h = this.#holders.get(l.inode);
      if (!h || h.containerId !== null || !this.#inRange(h.coveragePort, l.port)) continue;
      if (h.inContainer?.key !== containerKey) {
        const value = await descendsFrom(ctx, h.pid, new Set(containers.map((c) => c.pid)));
        h.inContainer = { key: containerKey, value };
      }
      if (h.inContainer.value) continue;
      // Never an address the node does not own (a socket bound there with IP_FREEBIND).
      const host = await ownDialAddress(l, () => ctx.localAddresses(1));
      if (host === null) continue;
      const key = `${h.pid} ${host} ${l.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      h.pids ??= (await ctx.table()).treeOf(h.pid);
      out.push({ owner: { kind: "host" }, host, port: l.port, inode: l.inode, pids: h.pids });
    }
    return out;
  }

  #inRange(coveragePort: number | null, port: number): boolean {
    const start = coveragePort ?? this.portStart;
    return port >= start && port < start + this.portSpan;
  }

  /** True for a port in the default range or in a recently seen COVERAGE_PORT range. */
  #urgent(port: number): boolean {
    if (this.#inRange(null, port)) return true;
    for (const start of this.#ranges.keys()) if (this.#inRange(start, port)) return true;
    return false;
  }

  /** One fd walk over /proc for the `wanted` inodes; stops once all are found. */
  async #learn(ctx: ScanContext, wanted: Set<number>): Promise<void> {
    const found = new Map<number, number>();
    for (const pid of await ctx.pids()) {
      ctx.signal.throwIfAborted();
      if (found.size === wanted.size) break;
      for (const inode of await ctx.socketsOf(pid)) {
        if (wanted.has(inode) && !found.has(inode)) found.set(inode, pid);
      }
    }
    for (const inode of wanted) {
      const first = found.get(inode);
      if (first === undefined) {
        this.#holders.set(inode, null);
        continue;
      }
      let pid = first;
      // A wrapper and its child may both hold the socket: file it under the topmost holder.
      for (let depth = 0; depth < MAX_DEPTH; depth++) {
        const parent = (await readStatus(ctx.system, pid))?.ppid ?? 0;
        if (parent <= 1 || !(await ctx.socketsOf(parent)).has(inode)) break;
        pid = parent;
      }
      const holder: Holder = {
        pid,
        start: await readStartTime(ctx.system, pid),
        coveragePort: await readCoveragePort(ctx.system, pid),
        containerId: await containerIdOf(ctx.system, pid),
      };
      this.#holders.set(inode, holder);
      if (holder.coveragePort !== null) this.#ranges.set(holder.coveragePort, this.#now());
    }
  }
}

/** True when `pid` or one of its ancestors is in `roots` (a few status reads up the chain). */
async function descendsFrom(ctx: ScanContext, pid: number, roots: Set<number>): Promise<boolean> {
  if (roots.size === 0) return false;
  for (let p = pid, depth = 0; p > 1 && depth < MAX_DEPTH; depth++) {
    if (roots.has(p)) return true;
    p = (await readStatus(ctx.system, p))?.ppid ?? 0;
  }
  return false;
}
