/** What one scan reads from /proc, read at most once per scan and shared by its steps. */

import type { Logger } from "../log.ts";
import type { System } from "../system.ts";
import { isGone } from "../procfs/gone.ts";
import { listeningSockets, type TcpSocket } from "../procfs/net.ts";
import { socketInodesOf } from "../procfs/fds.ts";
import { localAddresses } from "../procfs/local_addrs.ts";
import { type ProcessTable, readProcessTable } from "../procfs/tree.ts";

const ALL_PORTS = { start: 1, end: 65536 };

/** LISTEN sockets of a network namespace without /proc/net/tcp (see procfs/sock_diag.ts); null
 * when it cannot answer for that namespace. */
export interface ListenerSource {
  listeners(nsPath: string, nsKey: string): TcpSocket[] | null;
}

/**
 * Per-scan memo of /proc reads: the process table (one pass over /proc, only when something new
 * needs it), network namespace of a PID, LISTEN sockets per network namespace, socket fds per PID.
 *
 * @example const ctx = new ScanContext(system, signal); await ctx.listeners(1)
 */
export class ScanContext {
  #table?: Promise<ProcessTable>;
  #netns = new Map<number, Promise<string | null>>();
  #listeners = new Map<string, Promise<TcpSocket[]>>();
  #fds = new Map<number, Promise<Set<number>>>();
  #local = new Map<string, Promise<Set<string>>>();

  constructor(
    readonly system: System,
    readonly signal: AbortSignal,
    readonly log?: Logger,
    readonly source?: ListenerSource | null,
  ) {}

  /** The network namespaces whose listeners this scan read. */
  namespaces(): Set<string> {
    return new Set(this.#listeners.keys());
  }

  /** Tells the scan the network namespace of `pid`, known from an earlier scan (no readlink). */
  seedNetns(pid: number, ns: string): void {
    if (!this.#netns.has(pid)) this.#netns.set(pid, Promise.resolve(ns));
  }

  /** The process table of this scan (read on first use: one status read per process). */
  table(): Promise<ProcessTable> {
    this.#table ??= readProcessTable(this.system, this.signal);
    return this.#table;
  }

  /**
   * The network namespace of `pid` (`net:[4026531992]`), null when the process is gone. When the
   * link may not be read (a process we may not ptrace), `pid:<pid>`: a key shared with no other.
   */
  netnsOf(pid: number): Promise<string | null> {
    let p = this.#netns.get(pid);
    if (!p) {
      p = this.system.readLink(`/proc/${pid}/ns/net`).catch((e) => {
        if (e instanceof Deno.errors.PermissionDenied) return `pid:${pid}`;
        if (isGone(e)) return null;
        throw e;
      });
      this.#netns.set(pid, p);
    }
    return p;
  }

  /** Every LISTEN socket of the network namespace of `pid`; [] when the process is gone. */
  async listeners(pid: number): Promise<TcpSocket[]> {
    const ns = await this.netnsOf(pid);
    if (ns === null) return [];
    let p = this.#listeners.get(ns);
    if (!p) {
      const got = ns.startsWith("net:")
        ? this.source?.listeners(this.system.hostPath(`/proc/${pid}/ns/net`), ns)
        : null;
      p = got ? Promise.resolve(got.filter((s) => s.inode > 0)) : listeningSockets(
        this.system,
        pid,
        ALL_PORTS,
      );
      this.#listeners.set(ns, p);
    }
    return p;
  }

  /** The addresses local to the network namespace of `pid` (empty when it is gone). */
  async localAddresses(pid: number): Promise<Set<string>> {
    const ns = await this.netnsOf(pid);
    if (ns === null) return new Set();
    let p = this.#local.get(ns);
    if (!p) {
      p = localAddresses(this.system, pid);
      this.#local.set(ns, p);
    }
    return p;
  }

  /** Every PID in /proc, ascending (from the process table when this scan has read it). */
  async pids(): Promise<number[]> {
    if (this.#table) return (await this.#table).pids();
    return (await this.system.readDir("/proc")).filter((n) => /^\d+$/.test(n)).map(Number)
      .sort((a, b) => a - b);
  }

  /** Socket inodes held by `pid`. */
  socketsOf(pid: number): Promise<Set<number>> {
    let p = this.#fds.get(pid);
    if (!p) {
      p = socketInodesOf(this.system, pid, { log: this.log, signal: this.signal });
      this.#fds.set(pid, p);
    }
    return p;
  }

  /** Socket inodes held by any of `pids`. */
  async socketsOfAll(pids: number[]): Promise<Set<number>> {
    const out = new Set<number>();
    for (const pid of pids) {
      this.signal.throwIfAborted();
      for (const inode of await this.socketsOf(pid)) out.add(inode);
    }
    return out;
  }
}
