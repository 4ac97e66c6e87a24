/**
 * A real CRI-O node for tests (crio.ts): CRI-O v1.34 in mount, network and PID namespaces of its
 * own, driven by the real crictl over its socket in the run directory; the tier's pause and
 * covserver images; pods on a CNI bridge in 10.77.<block>.0/24 that exists only inside the node;
 * cgroups under `/ccpeers-<runId>`. PIDs that crictl reports are the node's (as on a real node);
 * `hostPidOf` maps one to this host's. `inNode` runs a command in the node (the collector runs
 * there, as on a node). Teardown leaves nothing (`leftovers()`), and a killed run is swept by
 * sys.ts's sweepStaleRuns like a containerd one.
 */

import { join } from "node:path";
import { buildGo, repoRoot } from "../gobuild.ts";
import { pathExists } from "../hostfs.ts";
import { run } from "../netns.ts";
import {
  capsOutside,
  crioConfig,
  crioLaunch,
  type CrioPaths,
  crioPaths,
  type CrioPrograms,
  POLICY_JSON,
  REGISTRIES_CONF,
  runcClamp,
  storageConf,
} from "./crio.ts";
import { HOST_PATHS, hostPathState, hostPidInNode, ppidOf } from "./crio_host.ts";
import { NodeForwards } from "./node_forwards.ts";
import { CrictlNode, type RealLeftovers } from "./crictl_node.ts";
import {
  killMentioning,
  newRunId,
  spawnRuntime,
  startOrClose,
  waitRuntimeReady,
} from "./node_proc.ts";
import { buildTierBinaries, PAUSE_IMAGE, writeTierImages } from "./images.ts";
import type { CriNode } from "./cri_node.ts";
import { leaseBlock, type PeerLease, pidsMentioning, sweepRun } from "./sys.ts";

/**
 * @example
 * await using node = await CrioNode.create({ crictl, crio });
 * const pod = await node.runPod({ name: "web", namespace: "default" });
 * const c = await node.startContainer(pod, { name: "app", coveragePort: 57400 });
 */
export class CrioNode extends CrictlNode implements AsyncDisposable, CriNode {
  readonly runtime = "crio";
  #proc: Deno.ChildProcess | undefined;
  #closed = false;
  #hostBefore: Map<string, string>;
  /** The host PID of the node's PID 1 (nodeinit). */
  initPid = 0;
  #fwd = new NodeForwards(() => this.initPid, () => this.paths.dir);

  private constructor(
    readonly runId: string,
    readonly paths: CrioPaths,
    readonly crictl: string,
    readonly programs: CrioPrograms,
    readonly lease: PeerLease,
  ) {
    super({ podCgroup: (uid) => `pod${uid}`, sharedPid: true });
    this.#hostBefore = new Map(HOST_PATHS.map((p) => [p, hostPathState(p)]));
  }

  /**
   * Makes the node, puts the images into its storage and starts CRI-O (ready in a few seconds).
   * @example const node = await CrioNode.create({ crictl, crio: { crio, pinns } });
   */
  static async create(
    o: {
      crictl: string;
      crio: { crio: string; pinns: string };
      skopeo: { bin: string; libDir: string };
    },
  ): Promise<CrioNode> {
    const runId = newRunId();
    const dir = await Deno.makeTempDir({ prefix: `ccpeers-${runId}-` });
    const lease = await leaseBlock(runId);
    const nodeinit = await buildGo({
      dir: join(repoRoot, "tests/fixtures/nodeinit"),
      name: "nodeinit",
      cover: false,
      static: true,
    }).catch(async (e) => {
      lease.release();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      throw e;
    });
    const programs: CrioPrograms = {
      crio: o.crio.crio,
      pinns: o.crio.pinns,
      conmon: "/usr/bin/conmon",
      runc: "/usr/sbin/runc",
      skopeo: o.skopeo.bin,
      skopeoLibDir: o.skopeo.libDir,
      nodeinit,
    };
    const node = new CrioNode(runId, crioPaths(dir), o.crictl, programs, lease);
    node.trackForUnload();
    return await startOrClose(node, () => node.#start());
  }

  async #start(): Promise<void> {
    const p = this.paths;
    for (
      const d of [p.storage, p.runroot, p.confDir, p.registriesDir, p.hooks, p.cniConf, p.cniIpam]
    ) await Deno.mkdir(d, { recursive: true });
    for (const d of [p.podLogs, p.run, p.lib, p.nsroot]) await Deno.mkdir(d, { recursive: true });
    await Deno.writeTextFile(p.crioConf, crioConfig(p, this.programs, PAUSE_IMAGE));
    await Deno.writeTextFile(p.storageConf, storageConf(p));
    await Deno.writeTextFile(p.registriesConf, REGISTRIES_CONF);
    await Deno.writeTextFile(p.policy, POLICY_JSON);
    const capBnd = (await Deno.readTextFile("/proc/self/status")).match(/^CapBnd:\s*(\S+)/m)?.[1];
    await Deno.writeTextFile(
      p.runcWrapper,
      runcClamp(this.programs.runc, capBnd ? capsOutside(capBnd) : []),
      { mode: 0o755 },
    );
    await this.writeCniConf(p.cniConf, p.cniIpam);
    const images = await writeTierImages(p.dir, await buildTierBinaries());
    this.#proc = await spawnRuntime(crioLaunch(p, this.programs, images), p.crioLog);
    await waitRuntimeReady({
      what: "crio",
      proc: this.#proc,
      log: p.crioLog,
      seconds: 120, // skopeo's copies come first (niced)
      ready: async () => {
        if (!pathExists(this.paths.socket)) return false;
        await this.crictlRun(["version"]);
        this.initPid = this.#findInit();
        return true;
      },
    });
    for (const i of images) await Deno.remove(i.tar);
  }

  /** The host PID of nodeinit: the child of unshare whose command line is nodeinit's. */
  #findInit(): number {
    const unshare = this.#proc!.pid;
    for (const pid of pidsMentioning(this.programs.nodeinit)) {
      if (ppidOf(pid) === unshare) return pid;
    }
    throw new Error(`crio node: no nodeinit under unshare ${unshare}`);
  }

  /**
   * `argv` run inside the node (its mount, network and PID namespaces), for `new Deno.Command`.
   * @example const [cmd, ...args] = node.inNode(["ip", "-o", "addr"]);
   */
  inNode(argv: string[]): string[] {
    return ["nsenter", "-t", String(this.initPid), "-m", "-n", "-p", "--", ...argv];
  }

  /**
   * GET `url` from inside the node (pod IPs are reachable only there): status and body.
   * @example const { status } = await node.get("http://10.77.3.2:8080/");
   */
  async get(url: string): Promise<{ status: number; body: string }> {
    const out = await run("nsenter", [
      "-t",
      String(this.initPid),
      "-n",
      "--",
      "curl",
      "-sS",
      "--max-time",
      "20",
      "-w",
      "\n%{http_code}",
      url,
    ]);
    const i = out.lastIndexOf("\n");
    return { status: Number(out.slice(i + 1)), body: out.slice(0, i) };
  }

  /**
   * Makes this host's loopback port `port` answer on the node's loopback too (the node reaches
   * e.g. the test's kube-apiserver at the same https://127.0.0.1:<port>); see NodeForwards.
   * @example await node.exposeHostPort(16443);
   */
  exposeHostPort(port: number): Promise<void> {
    return this.#fwd.exposeHostPort(port);
  }

  /**
   * A URL of this host's loopback reaching a loopback `url` of the node (e.g. a collector's
   * health server inside the node); see NodeForwards.
   * @example const health = await node.reachFromHost("http://127.0.0.1:40123");
   */
  reachFromHost(url: string): Promise<string> {
    return this.#fwd.reachFromHost(url);
  }

  /**
   * This host's PID of a process the node calls `nodePid` (its ancestors lead to nodeinit).
   * @example await Deno.readTextFile(`/proc/${node.hostPidOf(c.pid)}/cgroup`)
   */
  hostPidOf(nodePid: number): number {
    return hostPidInNode(this.initPid, nodePid);
  }

  /**
   * Removes every pod, stops CRI-O (nodeinit exits with it and the kernel kills what is left in
   * the node), then deletes the cgroups (CRI-O leaves the pod parents and some conmon ones), the
   * run directory and the lease. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.untrackForUnload();
    const errors: string[] = [];
    await this.#fwd.close();
    if (this.#proc) {
      await this.removeAllPods(errors);
      if (this.initPid) {
        try {
          Deno.kill(this.initPid, "SIGTERM");
        } catch { /* gone */ }
      }
      const t = setTimeout(() => {
        try {
          if (this.initPid) Deno.kill(this.initPid, "SIGKILL");
          this.#proc?.kill("SIGKILL");
        } catch { /* gone */ }
      }, 15_000);
      await this.#proc.status;
      clearTimeout(t);
    }
    killMentioning(this.paths.dir);
    await sweepRun(this.runId).catch((e) => errors.push(String(e)));
    await Deno.remove(this.paths.dir, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) errors.push(String(e));
    });
    this.lease.release();
    if (errors.length) throw new Error(`crio node teardown: ${errors.join("; ")}`);
  }

  /**
   * What this node would leave behind: processes naming its run dir, a link of its bridge's name
   * on the host (never made there), its cgroups, its run dir, and each host path of HOST_PATHS
   * that differs from before the node.
   */
  async leftovers(): Promise<RealLeftovers> {
    const changed = HOST_PATHS.filter((p) => hostPathState(p) !== this.#hostBefore.get(p));
    return await this.leftoversWith([
      ...(pathExists(this.paths.dir) ? [this.paths.dir] : []),
      ...changed,
    ]);
  }
}
