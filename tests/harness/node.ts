/**
 * A simulated Kubernetes node, in-process, for tests that need real processes, network
 * namespaces and `crictl`: pods get a netns with a veth and an IP in 10.244.0.0/16 (reachable
 * from the host), containers run in a new PID namespace and a `crio-<id>.scope` cgroup, and a
 * fake crictl (tests/fixtures/fakecrictl) reports them with their real host PIDs and IPs.
 * Needs root, `ip`, `unshare`, `setsid` and Go. Every name starts with `ccsim-<runId>`.
 */

import { CrictlState } from "./crictl_state.ts";
import type { CrictlFault, CrictlFaultMode } from "./crictl_state.ts";
import { createPodNet, leaseSubnet, leftovers, run, sweepStale } from "./netns.ts";
import type { Leftovers, SubnetLease } from "./netns.ts";
import { type PodHost, SimPod } from "./pod.ts";
import type { SimRunning } from "./pod.ts";
import { cgroupRoots, removeCgroup, SimProcess } from "./simproc.ts";

export type { CrictlFault, CrictlFaultMode } from "./crictl_state.ts";
export type { Leftovers } from "./netns.ts";
export { type ContainerSpec, SimContainer, SimPod, type SimRunning } from "./pod.ts";

/** Options of SimNode.create. */
export interface SimNodeOptions {
  /** For messages only. */
  name?: string;
}

/** A pod to add. */
export interface PodSpec {
  name: string;
  namespace: string;
  /** No network namespace, IP "" (crictl network NODE). */
  hostNetwork?: boolean;
}

/** A process outside any container (host network, host PID namespace, no crictl entry). */
export interface HostProcessSpec {
  command: string;
  args?: string[];
  env?: Record<string, string>;
}

const live = new Set<SimNode>();
let unloadHooked = false;

/** Whether this machine can run a SimNode (root, ip, unshare, setsid); Go is checked by callers. */
export async function canSimulateNode(): Promise<boolean> {
  if (Deno.uid() !== 0) return false;
  try {
    await run("ip", ["netns", "list"]);
    await run("unshare", ["--version"]);
    await run("setsid", ["--version"]);
    return cgroupRoots().length > 0;
  } catch {
    return false;
  }
}

/**
 * The simulated node. Always `close()` it (try/finally), or `await using node = ...`.
 * @example
 * const node = await SimNode.create();
 * try {
 *   const pod = await node.addPod({ name: "p", namespace: "ns" });
 *   const c = await pod.addContainer({ name: "app", command: await covserverBinary() });
 *   await c.waitLine(/coverage-port=(\d+)/);
 * } finally {
 *   await node.close();
 * }
 */
export class SimNode implements PodHost, AsyncDisposable {
  readonly pods = new Set<SimPod>();
  readonly hostProcesses = new Set<SimProcess>();
  #nextPod = 0;
  #closed = false;

  private constructor(
    readonly name: string,
    readonly runId: string,
    readonly dir: string,
    readonly state: CrictlState,
    readonly leases: SubnetLease[],
    readonly cgroupDirs: string[],
  ) {}

  /**
   * Makes a node: a run id, a temp dir, the fake crictl, a /24 in 10.244.0.0/16, a cgroup dir.
   * @example
   * const node = await SimNode.create({ name: "worker-0" });
   */
  static async create(opts: SimNodeOptions = {}): Promise<SimNode> {
    const runId = Array.from(crypto.getRandomValues(new Uint8Array(3)))
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    const dir = await Deno.makeTempDir({ prefix: `ccsim-${runId}-` });
    let lease: SubnetLease | undefined;
    try {
      const state = await CrictlState.create(dir);
      lease = await leaseSubnet(runId, cgroupRoots());
      const cgroupDirs = cgroupRoots().map((root) => `${root}/ccsim-${runId}`);
      for (const d of cgroupDirs) Deno.mkdirSync(d);
      const name = opts.name ?? `ccsim-${runId}`;
      const node = new SimNode(name, runId, dir, state, [lease], cgroupDirs);
      live.add(node);
      hookUnload();
      return node;
    } catch (e) {
      lease?.release();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw e;
    }
  }

  /** The program to give the collector as `--crictl` (a wrapper around the fake). */
  get crictlPath(): string {
    return this.state.path;
  }

  /** How many times crictl has been run so far. */
  async crictlCalls(): Promise<number> {
    return (await this.state.calls()).length;
  }

  /** The argv of every crictl call so far, one string per call (`ps -o json`, ...). */
  crictlCallLines(): Promise<string[]> {
    return this.state.calls();
  }

  /**
   * Makes crictl misbehave from the next call on; null restores it.
   * @example
   * node.setCrictlFault("hang"); node.setCrictlFault({ mode: "exit1", commands: ["inspect"] });
   */
  setCrictlFault(fault: CrictlFault | CrictlFaultMode | null): void {
    this.state.update((d) => {
      if (fault === null) delete d.fault;
      else d.fault = typeof fault === "string" ? { mode: fault } : fault;
    });
  }

  /** Only this `--runtime-endpoint` works (others fail like an absent socket); null: any. */
  setCrictlEndpoint(endpoint: string | null): void {
    this.state.update((d) => {
      if (endpoint === null) delete d.endpoint;
      else d.endpoint = endpoint;
    });
  }

  log(msg: string): void {
    if (Deno.env.get("CCSIM_DEBUG")) console.error(`[ccsim ${this.name}] ${msg}`);
  }

  /**
   * Adds a pod: with its own netns and IP, or (hostNetwork) none.
   * @example
   * const pod = await node.addPod({ name: "web-1", namespace: "demo" });
   * console.log(pod.ip); // 10.244.x.y
   */
  async addPod(spec: PodSpec): Promise<SimPod> {
    if (this.#closed) throw new Error(`SimNode ${this.name} is closed`);
    const net = spec.hostNetwork
      ? null
      : await createPodNet(this.runId, await this.#block(this.#nextPod), this.#nextPod++);
    const pod = new SimPod(this, spec.name, spec.namespace, net);
    this.pods.add(pod);
    return pod;
  }

  /** The /24 of pod n: 64 pods per /24, another one leased when needed. */
  async #block(n: number): Promise<number> {
    const i = Math.floor(n / 64);
    while (this.leases.length <= i) this.leases.push(await leaseSubnet(this.runId, cgroupRoots()));
    return this.leases[i].block;
  }

  /**
   * Starts a process in the host namespaces (no container, not in crictl).
   * @example
   * const p = await node.addHostProcess({ command: bin, env: { COVERAGE_PORT: "53750" } });
   */
  addHostProcess(spec: HostProcessSpec): Promise<SimRunning> {
    if (this.#closed) return Promise.reject(new Error(`SimNode ${this.name} is closed`));
    const proc = new SimProcess({
      argv: [spec.command, ...(spec.args ?? [])],
      env: spec.env,
      label: `host process ${spec.command}`,
    });
    this.hostProcesses.add(proc);
    return Promise.resolve({
      hostPid: proc.pid,
      stdoutLines: proc.stdoutLines,
      stderrLines: proc.stderrLines,
      exited: proc.exited,
      waitLine: (re, timeoutMs) => proc.waitLine(re, timeoutMs),
      kill: (signal = "SIGTERM") => {
        try {
          Deno.kill(proc.pid, signal);
        } catch { /* already gone */ }
      },
    });
  }

  /** What this node left behind (should be all empty after close). */
  leftovers(): Promise<Leftovers> {
    return leftovers(this.runId, cgroupRoots());
  }

  /** Everything any SimNode (of any process) left behind: `ccsim-*` netns, links, cgroups. */
  static leftovers(): Promise<Leftovers> {
    return leftovers(undefined, cgroupRoots());
  }

  /**
   * Cleans what runs of dead processes left (create() does this too); returns their run ids.
   * @example
   * await SimNode.sweep();
   */
  static sweep(): Promise<string[]> {
    return sweepStale(cgroupRoots());
  }

  /** Kills every process, deletes netns, veths, cgroups, temp files; safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const errors: unknown[] = [];
    const settle = async (p: Promise<void>) => {
      try {
        await p;
      } catch (e) {
        errors.push(e);
      }
    };
    await Promise.all([
      ...[...this.pods].map((p) => settle(p.delete({ graceMs: 0 }))),
      ...[...this.hostProcesses].map((p) => settle(p.close())),
    ]);
    for (const d of this.cgroupDirs) await settle(removeCgroup(d));
    for (const l of this.leases) l.release();
    await settle(Deno.remove(this.dir, { recursive: true }));
    live.delete(this);
    if (errors.length) {
      throw new AggregateError(
        errors,
        `SimNode ${this.name}: cleanup failed: ${errors.join("; ")}`,
      );
    }
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Best-effort synchronous cleanup when the process exits with the node still open. */
  closeSync(): void {
    for (const pod of this.pods) for (const c of pod.containers) c.killNow();
    for (const p of this.hostProcesses) p.killGroup("SIGKILL");
    for (const pod of this.pods) {
      if (!pod.net) continue;
      new Deno.Command("ip", { args: ["link", "del", pod.net.hostIf], stderr: "null" })
        .outputSync();
      new Deno.Command("ip", { args: ["netns", "del", pod.net.netns], stderr: "null" })
        .outputSync();
    }
    for (const l of this.leases) l.release();
  }
}

function hookUnload(): void {
  if (unloadHooked) return;
  unloadHooked = true;
  globalThis.addEventListener("unload", () => {
    for (const node of live) node.closeSync();
  });
}
