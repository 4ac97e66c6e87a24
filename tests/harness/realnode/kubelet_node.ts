/**
 * A node run by a real kubelet: the control plane (controlplane.ts) on the host's loopback, the
 * node's own PID/mount/network namespaces (kubenode_ns.ts) holding the CRI runtime and the
 * kubelet (kubelet.ts), the API joined into the node by a forwarder pair (forward.ts), and the
 * kubelet's client certificate behind `kubelet-client-current.pem`. Pods are created through the
 * API with `spec.nodeName` (no scheduler); the kubelet makes their sandboxes and containers.
 * Teardown ends the node's PID 1 (every process of the node with it), removes the pod cgroups
 * under `/ccpeers-<runId>`, and `leftovers()` says what the host would keep.
 */

import { join } from "node:path";
import { buildGo, repoRoot } from "../gobuild.ts";
import { pathExists } from "../hostfs.ts";
import { run } from "../netns.ts";
import { containerdPaths } from "./containerd.ts";
import { crictlArgs, startOrClose } from "./node_proc.ts";
import { ControlPlane } from "./controlplane.ts";
import { forward, type Forwarder } from "./forward.ts";
import { kubeletArgs, kubeletConfig, makeCgroupRoot } from "./kubelet.ts";
import { type HostSnapshot, hostSnapshot, NODE_IP, NodeNamespaces } from "./kubenode_ns.ts";
import { childOf, spawnLogged, startNodeContainerd, until } from "./kubelet_containerd.ts";
import { diff, othersOnly, removeCgroupTree } from "./kubelet_teardown.ts";
import { buildTierBinaries } from "./images.ts";
import { kubeletKubeconfig } from "./pki.ts";
import { cgroupMounts, leaseBlock, type PeerLease, pidsMentioning } from "./sys.ts";
import type { Runtime } from "./cri_node.ts";
import type { CrioNode } from "./crionode.ts";
import { startCrio } from "./crio_peers.ts";

/** The binaries a kubelet node needs. */
export interface KubeletNodePeers {
  crictl: string;
  etcd: string;
  kubeApiserver: string;
  kubelet: string;
}

/** What a kubelet node would leave behind; all empty after close(). */
export interface KubeletLeftovers {
  processes: number[];
  cgroups: string[];
  paths: string[];
  /** Host mounts, links or sysctls that differ from before the node. */
  hostChanged: string[];
}

/**
 * @example
 * const node = await KubeletNode.create(peers, "ccpeers-kubelet");
 * await node.cp.admin("POST", "/api/v1/namespaces/default/pods", pod);
 */
export class KubeletNode {
  #stop = new AbortController();
  #hostForward: Forwarder | undefined;
  #ns: NodeNamespaces | undefined;
  #kubelet: Deno.ChildProcess | undefined;
  #closed = false;
  #before: HostSnapshot | undefined;
  #certs = 0;
  #crio: CrioNode | undefined;

  private constructor(
    readonly runId: string,
    readonly dir: string,
    readonly lease: PeerLease,
    readonly nodeName: string,
    readonly peers: KubeletNodePeers,
    readonly cp: ControlPlane,
    /** containerd: this node's own; crio: tests/harness/realnode/crionode.ts's node, adopted. */
    readonly runtime: Runtime,
  ) {}

  /** The node's namespaces (for `nsenter ...node.ns.enter()`). */
  get ns(): NodeNamespaces {
    return this.#ns!;
  }
  /** The CRI-O node the kubelet runs on (undefined on containerd). */
  get crioNode(): CrioNode | undefined {
    return this.#crio;
  }
  /** The CRI endpoint of the node's runtime. */
  get endpoint(): string {
    return this.#crio?.endpoint ?? `unix://${containerdPaths(this.dir).socket}`;
  }
  /** The kubeconfig named on the kubelet's command line. */
  get kubeconfig(): string {
    return join(this.dir, "kubelet.conf");
  }
  /** The symlink the kubeconfig names as client certificate and key. */
  get currentPem(): string {
    return join(this.dir, "kubelet-pki", "kubelet-client-current.pem");
  }
  /** Every pod cgroup of the node lives under this (cgroupfs driver, QoS cgroups). */
  get cgroupRoot(): string {
    return this.#crio?.cgroupParent ?? `/ccpeers-${this.runId}`;
  }
  /** Host PID of the kubelet. */
  get kubeletPid(): number {
    return childOf(this.#kubelet!.pid);
  }

  /** Starts the control plane, the node, its runtime and the kubelet; resolves once Ready. */
  static async create(
    peers: KubeletNodePeers,
    nodeName: string,
    runtime: Runtime = "containerd",
  ): Promise<KubeletNode> {
    const runId = Array.from(crypto.getRandomValues(new Uint8Array(3)))
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    const dir = await Deno.makeTempDir({ prefix: `ccpeers-${runId}-` });
    const before = await hostSnapshot(dir, runId);
    const lease = await leaseBlock(runId);
    let cp: ControlPlane;
    try {
      cp = await ControlPlane.start({
        dir: join(dir, "cp"),
        peers: { etcd: peers.etcd, kubeApiserver: peers.kubeApiserver },
        nodes: [nodeName],
      });
    } catch (e) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      lease.release();
      throw e;
    }
    const node = new KubeletNode(runId, dir, lease, nodeName, peers, cp, runtime);
    node.#before = before;
    return await startOrClose(node, () => node.#start());
  }

  async #start(): Promise<void> {
    const { dir } = this;
    const port = Number(new URL(this.cp.url).port);
    await Deno.mkdir(join(dir, "kubelet-pki"), { recursive: true });
    await this.rotateCert();
    await Deno.writeTextFile(
      this.kubeconfig,
      kubeletKubeconfig(this.cp.url, this.cp.pki.caCrt, this.currentPem),
    );
    const sock = join(dir, "api.sock");
    this.#hostForward = forward({ unix: sock }, { tcp: port }, this.#stop.signal);
    const [reaper, { pause, cov }] = await Promise.all([
      buildGo({ dir: join(repoRoot, "tests/fixtures/reaper"), name: "reaper", cover: false }),
      buildTierBinaries(),
    ]);
    if (this.runtime === "crio") {
      this.#crio = await startCrio();
      this.#ns = await NodeNamespaces.adopt(dir, this.#crio.initPid);
    } else {
      this.#ns = await NodeNamespaces.create(dir, reaper);
    }
    const enter = this.#ns.enter();
    const fwdLog = join(dir, "forward.log");
    const fwd = await spawnLogged([
      ...enter,
      Deno.execPath(),
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      join(repoRoot, "tests/harness/realnode/forward.ts"),
      "tcp",
      String(port),
      "unix",
      sock,
    ], fwdLog);
    await until("API reachable inside the node", async () => {
      const code = await run("nsenter", [
        ...this.#ns!.enter({ pid: false }),
        "curl",
        "-sk",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        `${this.cp.url}/readyz`,
      ]);
      return code !== "000";
    }, { proc: fwd, log: fwdLog, ms: 30_000 });

    if (this.runtime === "containerd") {
      await startNodeContainerd({
        dir,
        enter,
        runId: this.runId,
        block: this.lease.block,
        pause,
        cov,
        crictl: (args) => this.crictl(args),
      });
    }
    await makeCgroupRoot(cgroupMounts(), this.cgroupRoot);
    await Deno.writeTextFile(
      join(dir, "kubelet-config.yaml"),
      kubeletConfig({
        caCrt: this.cp.pki.caCrt,
        podLogsDir: join(dir, "podlogs"),
        cgroupRoot: this.cgroupRoot,
        healthzPort: 10248,
      }),
    );
    const kLog = join(dir, "kubelet.log");
    this.#kubelet = await spawnLogged([
      ...enter,
      this.peers.kubelet,
      ...kubeletArgs({
        dir,
        kubeconfig: this.kubeconfig,
        endpoint: this.endpoint,
        node: this.nodeName,
        nodeIp: NODE_IP,
      }),
    ], kLog);
    await until(`node ${this.nodeName} Ready`, async () => {
      const r = await this.cp.admin("GET", `/api/v1/nodes/${this.nodeName}`);
      const conds = ((r.json?.status as Record<string, unknown>)?.conditions ?? []) as {
        type: string;
        status: string;
      }[];
      return conds.some((c) => c.type === "Ready" && c.status === "True");
    }, { proc: this.#kubelet, log: kLog, ms: 90_000 });
  }

  /**
   * Writes a new client certificate file and swaps the `kubelet-client-current.pem` link to it
   * (atomically, as the kubelet's certificate manager does). The first call makes the first.
   */
  async rotateCert(): Promise<string> {
    const pkiDir = join(this.dir, "kubelet-pki");
    const n = ++this.#certs;
    const file = join(pkiDir, `kubelet-client-2026-12-0${Math.min(n, 9)}-${n}.pem`);
    // The same identity, a fresh file: what matters to a reader is the replaced link target.
    await Deno.writeTextFile(
      file,
      await Deno.readTextFile(this.cp.pki.nodePem.get(this.nodeName)!),
      {
        mode: 0o600,
      },
    );
    const tmp = `${this.currentPem}.tmp`;
    await Deno.remove(tmp).catch(() => {});
    await Deno.symlink(file, tmp);
    await Deno.rename(tmp, this.currentPem);
    return file;
  }

  /** Cuts every API connection of the node (as an API load balancer restart does). */
  dropApiConnections(): void {
    this.#hostForward?.drop();
  }

  /** The real crictl against the node's runtime; resolves with stdout. */
  crictl(args: string[]): Promise<string> {
    if (this.#crio) return this.#crio.crictlRun(args);
    return run(this.peers.crictl, crictlArgs(this.endpoint, args));
  }

  /** A command run in the node's network namespace (e.g. curl to a pod IP); resolves with stdout. */
  inNodeNet(cmd: string, args: string[]): Promise<string> {
    return run("nsenter", ["-t", String(this.#ns!.holder), "-n", cmd, ...args]);
  }

  /** Sends `signal` to a PID of the node's PID namespace (what the runtime reports). */
  async killInNode(pid: number, signal = "KILL"): Promise<void> {
    await run("nsenter", [...this.#ns!.enter(), "kill", `-${signal}`, String(pid)]);
  }

  /** Ends every process of the node, removes its cgroups, the control plane and the run dir. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const errors: string[] = [];
    if (this.#crio) {
      // The kubelet first, or it makes again what CRI-O's teardown removes.
      try {
        if (this.#kubelet) Deno.kill(this.kubeletPid, "SIGKILL");
      } catch { /* gone */ }
      await this.#kubelet?.status;
      await this.#crio.close().catch((e) => errors.push(String(e)));
    }
    await this.#ns?.close();
    for (const pid of pidsMentioning(this.dir)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
    for (const cg of this.#cgroupDirs()) {
      await removeCgroupTree(cg).catch((e) => errors.push(String(e)));
    }
    await this.cp.close();
    this.#stop.abort();
    await this.#hostForward?.done.catch(() => {});
    await Deno.remove(this.dir, { recursive: true }).catch((e) => errors.push(String(e)));
    this.lease.release();
    if (errors.length) throw new Error(`kubelet node teardown: ${errors.join("; ")}`);
  }

  #cgroupDirs(): string[] {
    return cgroupMounts().map((m) => `${m}${this.cgroupRoot}`).filter(pathExists);
  }

  /** What the host keeps of this node (processes, cgroups, the run dir, changed host state). */
  async leftovers(): Promise<KubeletLeftovers> {
    const now = await hostSnapshot(this.dir, this.runId);
    const before = this.#before!;
    const hostChanged = (Object.keys(now) as (keyof HostSnapshot)[])
      .filter((k) => now[k] !== before[k]).map((k) => `${k}: ${diff(before[k], now[k])}`);
    const rt = this.#crio ? await this.#crio.leftovers() : undefined;
    return {
      processes: [...pidsMentioning(this.dir), ...(rt?.processes ?? [])],
      cgroups: [...this.#cgroupDirs(), ...(rt?.cgroups ?? [])],
      paths: [this.dir, ...(rt?.paths ?? []).filter((p) => !othersOnly(p))].filter(pathExists),
      hostChanged: [...hostChanged, ...(rt?.links ?? []).map((l) => `link ${l}`)],
    };
  }
}
