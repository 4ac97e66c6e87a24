/**
 * A real node for tests: a private containerd (see containerd.ts) driven by the real crictl,
 * images made from our `-cover` fixture, pods with a CNI network (10.77.<block>.0/24 on bridge
 * `ccp-<runId>`) or hostNetwork, containers in cgroups under `/ccpeers-<runId>`, restarts, and a
 * teardown that leaves nothing (`leftovers()` says what would be left). Needs root, the apt peers
 * and crictl (tests/harness/peers.ts).
 */

import { join } from "node:path";
import { pathExists, rmdirWhenDrained } from "../hostfs.ts";
import { run } from "../netns.ts";
import {
  containerdConfig,
  containerdLaunch,
  type ContainerdPaths,
  containerdPaths,
} from "./containerd.ts";
import { CrictlNode, type RealLeftovers } from "./crictl_node.ts";
import {
  killMentioning,
  newRunId,
  spawnRuntime,
  startOrClose,
  waitRuntimeReady,
} from "./node_proc.ts";
import { buildTierBinaries, importTierImages, PAUSE_IMAGE } from "./images.ts";
import type { CriNode } from "./cri_node.ts";
import { leaseBlock, type PeerLease } from "./sys.ts";

export { COVSERVER_IMAGE, COVSERVER_IMAGE_LABELS, PAUSE_IMAGE } from "./images.ts";
export type { RealContainer, RealContainerSpec, RealLeftovers, RealPod } from "./real_types.ts";

/**
 * @example
 * await using node = await RealNode.create({ crictl });
 * const pod = await node.runPod({ name: "web", namespace: "default" });
 * const c = await node.startContainer(pod, { name: "app", coveragePort: 53700 });
 */
export class RealNode extends CrictlNode implements AsyncDisposable, CriNode {
  readonly runtime = "containerd";
  #proc: Deno.ChildProcess | undefined;
  #closed = false;
  #hostHad: { runContainerd: boolean; varLibCni: boolean };

  private constructor(
    readonly runId: string,
    readonly paths: ContainerdPaths,
    readonly crictl: string,
    readonly lease: PeerLease,
  ) {
    super({
      podCgroup: (uid) => `pod-${uid}`,
      sharedPid: "containerd node: sharedPid pods are CRI-O cases here",
    });
    this.#hostHad = {
      runContainerd: pathExists("/run/containerd"),
      varLibCni: pathExists("/var/lib/cni"),
    };
  }

  /**
   * Starts containerd (ready in ≈1 s) and imports the pause and covserver images.
   * @example const node = await RealNode.create({ crictl: await ensurePeer("crictl") });
   */
  static async create(o: { crictl: string }): Promise<RealNode> {
    const runId = newRunId();
    const dir = await Deno.makeTempDir({ prefix: `ccpeers-${runId}-` });
    const lease = await leaseBlock(runId);
    const node = new RealNode(runId, containerdPaths(dir), o.crictl, lease);
    node.trackForUnload();
    return await startOrClose(node, () => node.#start());
  }

  async #start(): Promise<void> {
    const p = this.paths;
    for (const d of [p.root, p.state, p.cniConf, p.cniIpam, p.podLogs, p.overlays]) {
      await Deno.mkdir(d, { recursive: true });
    }
    const config = join(p.dir, "containerd.toml");
    await Deno.writeTextFile(config, containerdConfig(p, PAUSE_IMAGE));
    await this.writeCniConf(p.cniConf, p.cniIpam);
    const bins = await buildTierBinaries();
    const log = join(p.dir, "containerd.err");
    this.#proc = await spawnRuntime(containerdLaunch(p, config), log);
    await waitRuntimeReady({
      what: "containerd",
      proc: this.#proc,
      log,
      seconds: 30,
      ready: async () => {
        await this.crictlRun(["version"]);
        return true;
      },
    });
    await importTierImages(p.socket, p.dir, bins);
  }

  /** The node runs on this host's namespaces: `argv` as is. */
  inNode(argv: string[]): string[] {
    return argv;
  }

  /** GET `url` from here (the pod bridge is on this host). */
  async get(url: string): Promise<{ status: number; body: string }> {
    const res = await fetch(url);
    return { status: res.status, body: await res.text() };
  }

  /** The node's loopback is this host's. */
  exposeHostPort(_port: number): Promise<void> {
    return Promise.resolve();
  }

  /** The node's loopback is this host's: `url` as is. */
  reachFromHost(url: string): Promise<string> {
    return Promise.resolve(url);
  }

  /** containerd reports this host's PIDs. */
  hostPidOf(nodePid: number): number {
    return nodePid;
  }

  /**
   * Removes every pod, stops containerd, kills stray shims, deletes the bridge, the cgroups, the
   * run directory and the lease. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.untrackForUnload();
    const errors: string[] = [];
    if (this.#proc) {
      await this.removeAllPods(errors);
      try {
        this.#proc.kill("SIGTERM");
      } catch { /* gone */ }
      const t = setTimeout(() => {
        try {
          this.#proc?.kill("SIGKILL");
        } catch { /* gone */ }
      }, 10_000);
      await this.#proc.status;
      clearTimeout(t);
    }
    killMentioning(this.paths.dir);
    await run("ip", ["link", "del", this.bridge]).catch(() => {});
    for (const cg of this.cgroupDirs()) {
      await removeCgroupTree(cg).catch((e) => errors.push(String(e)));
    }
    await Deno.remove(this.paths.dir, { recursive: true }).catch((e) => errors.push(String(e)));
    this.lease.release();
    if (errors.length) throw new Error(`real node teardown: ${errors.join("; ")}`);
  }

  /**
   * What this node would leave behind: processes naming its run dir, its bridge, its cgroups,
   * its run dir, and /run/containerd or /var/lib/cni when the host had none before.
   */
  async leftovers(): Promise<RealLeftovers> {
    const paths = [this.paths.dir];
    if (!this.#hostHad.runContainerd) paths.push("/run/containerd");
    if (!this.#hostHad.varLibCni) paths.push("/var/lib/cni");
    return await this.leftoversWith(paths.filter(pathExists));
  }
}

async function removeCgroupTree(dir: string): Promise<void> {
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) await removeCgroupTree(join(dir, e.name));
  }
  const procs = await Deno.readTextFile(join(dir, "cgroup.procs")).catch(() => "");
  for (const pid of procs.split("\n").filter((p) => p !== "")) {
    try {
      Deno.kill(Number(pid), "SIGKILL"); // what the runtime left running
    } catch { /* gone */ }
  }
  if (!(await rmdirWhenDrained(dir))) throw new Error(`rmdir ${dir}: still busy after 2 s`);
}
