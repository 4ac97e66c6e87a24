/**
 * Pods and containers of the simulated node (tests/harness/node.ts). A container is a process
 * tree in a new PID namespace (its init is PID 1 inside), in the pod's network namespace, in a
 * cgroup ending in `crio-<id>.scope`, listed by the node's fake crictl.
 */

import type { CrictlState } from "./crictl_state.ts";
import { randomHex } from "./crictl_state.ts";
import { deletePodNet, type PodNet, SimCommandError } from "./netns.ts";
import { childPid, removeCgroup, SimProcess } from "./simproc.ts";

/** What to run in a container. */
export interface ContainerSpec {
  name: string;
  command: string;
  args?: string[];
  env?: Record<string, string>;
  /** Default: a made-up `quay.io/ccsim/<name>@sha256:...`. */
  imageRef?: string;
  /** Restart count (a restarted container is a new container with attempt + 1). */
  attempt?: number;
}

/** What a pod's containers need from their node. */
export interface PodHost {
  readonly state: CrictlState;
  /** The node's cgroup directories (`<hierarchy>/ccsim-<run>`), one per writable hierarchy. */
  readonly cgroupDirs: string[];
  readonly log: (msg: string) => void;
  /** The node's live pods; a deleted pod removes itself. */
  readonly pods: Set<SimPod>;
}

/** A process started by the harness: pid as the host sees it, output, signals. */
export interface SimRunning {
  readonly hostPid: number;
  readonly stdoutLines: string[];
  readonly stderrLines: string[];
  readonly exited: Promise<Deno.CommandStatus>;
  waitLine(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  kill(signal?: Deno.Signal): void;
}

/** A pod sandbox: its own netns (pod network) or none (hostNetwork). */
export class SimPod {
  readonly containers = new Set<SimContainer>();
  readonly uid = crypto.randomUUID();
  readonly sandboxId = randomHex(32);
  #deleted = false;

  constructor(
    readonly host: PodHost,
    readonly name: string,
    readonly namespace: string,
    readonly net: PodNet | null,
  ) {
    host.state.update((d) =>
      d.pods.push({
        id: this.sandboxId,
        name,
        namespace,
        uid: this.uid,
        ip: this.ip,
        hostNetwork: this.hostNetwork,
        createdAt: Date.now() * 1e6,
      })
    );
  }

  /** The pod IP; "" for hostNetwork (as crictl reports it). */
  get ip(): string {
    return this.net?.podIp ?? "";
  }
  get netns(): string | undefined {
    return this.net?.netns;
  }
  get hostNetwork(): boolean {
    return this.net === null;
  }

  /**
   * Starts a container: `unshare --pid --fork --kill-child --mount-proc` in the pod's netns.
   * @example
   * const c = await pod.addContainer({ name: "app", command: bin, env: { COVERAGE_PORT: "53700" } });
   * await c.waitLine(/coverage-port=(\d+)/);
   */
  async addContainer(spec: ContainerSpec): Promise<SimContainer> {
    if (this.#deleted) throw new Error(`pod ${this.namespace}/${this.name} was deleted`);
    const c = new SimContainer(this, spec);
    this.containers.add(c);
    try {
      await c.start();
    } catch (e) {
      await c.stop({ graceMs: 0 });
      throw e;
    }
    return c;
  }

  /**
   * Stops every container (SIGTERM, then SIGKILL after graceMs), removes the pod and its netns.
   * @example
   * await pod.delete({ graceMs: 0 });
   */
  async delete(opts: { graceMs?: number } = {}): Promise<void> {
    this.#deleted = true;
    await Promise.all([...this.containers].map((c) => c.stop(opts)));
    this.host.state.update((d) => (d.pods = d.pods.filter((p) => p.id !== this.sandboxId)));
    if (this.net) await deletePodNet(this.net);
    this.host.pods.delete(this);
  }
}

/** One container: `hostPid` is its init (PID 1 inside), what crictl inspect reports. */
export class SimContainer implements SimRunning {
  readonly id = randomHex(32);
  readonly name: string;
  #proc: SimProcess | null = null;
  #hostPid = 0;
  #removed = false;

  constructor(readonly pod: SimPod, readonly spec: ContainerSpec) {
    this.name = spec.name;
  }

  /** The container's cgroup directories (`<hierarchy>/ccsim-<run>/crio-<id>.scope`). */
  get cgroupPaths(): string[] {
    return this.pod.host.cgroupDirs.map((d) => `${d}/crio-${this.id}.scope`);
  }
  get hostPid(): number {
    return this.#hostPid;
  }
  get stdoutLines(): string[] {
    return this.#proc?.stdoutLines ?? [];
  }
  get stderrLines(): string[] {
    return this.#proc?.stderrLines ?? [];
  }
  get exited(): Promise<Deno.CommandStatus> {
    if (!this.#proc) throw new Error(`container ${this.name} never started`);
    return this.#proc.exited;
  }

  /** Spawns the process tree, finds the init's host PID, lists the container in crictl. */
  async start(): Promise<void> {
    const { spec, pod } = this;
    const cgs = this.cgroupPaths;
    for (const cg of cgs) Deno.mkdirSync(cg);
    const netns = pod.netns ? ["ip", "netns", "exec", pod.netns] : [];
    const inner = [
      ...netns,
      ...["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "--"],
      spec.command,
      ...(spec.args ?? []),
    ];
    // The shell joins the cgroups before it execs (so every process of the tree is in them).
    const join = 'IFS=:; for f in $0; do echo $$ > "$f" || exit 97; done; exec "$@"';
    const procs = cgs.map((cg) => `${cg}/cgroup.procs`).join(":");
    const argv = cgs.length ? ["sh", "-c", join, procs, ...inner] : inner;
    const label = `container ${pod.namespace}/${pod.name}/${spec.name} (${spec.command})`;
    this.#proc = new SimProcess({ argv, env: spec.env, label });
    const proc = this.#proc;
    try {
      this.#hostPid = await childPid(proc.pid, proc.exited);
    } catch (e) {
      await proc.close();
      const err = proc.stderrLines.slice(-5).join(" | ") || "(empty)";
      throw new SimCommandError(label, `did not start (${(e as Error).message}); stderr: ${err}`);
    }
    const image = spec.imageRef ?? `quay.io/ccsim/${spec.name}@sha256:${randomHex(32)}`;
    pod.host.state.update((d) =>
      d.containers.push({
        id: this.id,
        podId: pod.sandboxId,
        name: spec.name,
        attempt: spec.attempt ?? 0,
        image,
        imageRef: image,
        pid: this.#hostPid,
        createdAt: Date.now() * 1e6,
        args: [spec.command, ...(spec.args ?? [])],
      })
    );
    // A container whose process ended shows as exited (gone from `crictl ps`, still inspectable).
    this.#proc.exited.then(() => this.#setState("CONTAINER_EXITED"));
  }

  #setState(state: "CONTAINER_EXITED"): void {
    if (this.#removed) return;
    this.pod.host.state.update((d) => {
      for (const c of d.containers) if (c.id === this.id) c.state = state;
    });
  }

  waitLine(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray> {
    if (!this.#proc) return Promise.reject(new Error(`container ${this.name} never started`));
    return this.#proc.waitLine(re, timeoutMs);
  }

  /** Sends `signal` to the container's init (host PID); PID 1 dies → the namespace dies. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.#hostPid <= 0) return;
    try {
      Deno.kill(this.#hostPid, signal);
    } catch { /* already gone */ }
  }

  /**
   * SIGTERM to the init, SIGKILL to the tree after `graceMs`, then removes it from crictl.
   * @example
   * await container.stop({ graceMs: 2000 });
   */
  async stop(opts: { graceMs?: number; signal?: Deno.Signal } = {}): Promise<void> {
    const proc = this.#proc;
    if (proc) {
      const grace = opts.graceMs ?? 5000;
      if (grace > 0) {
        this.kill(opts.signal ?? "SIGTERM");
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          proc.exited,
          new Promise((r) => (timer = setTimeout(r, grace))),
        ]);
        clearTimeout(timer);
      }
      await proc.close();
    }
    this.#removed = true;
    this.pod.containers.delete(this);
    this.pod.host.state.update((
      d,
    ) => (d.containers = d.containers.filter((c) => c.id !== this.id)));
    for (const cg of this.cgroupPaths) await removeCgroup(cg);
  }

  /** Kills the tree synchronously (unload hook); no state update. */
  killNow(): void {
    this.#proc?.killGroup("SIGKILL");
    this.kill("SIGKILL");
  }
}
