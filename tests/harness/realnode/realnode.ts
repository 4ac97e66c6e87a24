/**
 * A real node for tests: a private containerd (see containerd.ts) driven by the real crictl,
 * images made from our `-cover` fixture, pods with a CNI network (10.77.<block>.0/24 on bridge
 * `ccp-<runId>`) or hostNetwork, containers in cgroups under `/ccpeers-<runId>`, restarts, and a
 * teardown that leaves nothing (`leftovers()` says what would be left). Needs root, the apt peers
 * and crictl (tests/harness/peers.ts).
 */

import { join } from "node:path";
import { buildGo, repoRoot } from "../gobuild.ts";
import { pathExists, rmdirWhenDrained } from "../hostfs.ts";
import { run } from "../netns.ts";
import {
  cniConflist,
  containerdConfig,
  containerdLaunch,
  type ContainerdPaths,
  containerdPaths,
} from "./containerd.ts";
import { ociImageTar } from "./oci.ts";
import type { CriNode } from "./cri_node.ts";
import { containerConfig, podConfig, portInCriLog } from "./specs.ts";
import { cgroupMounts, leaseBlock, type PeerLease, pidsMentioning } from "./sys.ts";

export const PAUSE_IMAGE = "docker.io/ccpeers/pause:1";
export const COVSERVER_IMAGE = "docker.io/ccpeers/covserver:1";
/** The source labels of the covserver image (OpenShift build labels: src/cri/image_source.ts). */
export const COVSERVER_IMAGE_LABELS = {
  "io.openshift.build.source-location": "https://github.com/ccpeers/covserver",
  "io.openshift.build.commit.id": "5e0fa1c0ffee5e0fa1c0ffee5e0fa1c0ffee5e0f",
};

/** A running pod sandbox. */
export interface RealPod {
  id: string;
  name: string;
  namespace: string;
  uid: string;
  hostNetwork: boolean;
  /** "" for hostNetwork. */
  ip: string;
  logDir: string;
}

/** A running container of the covserver image. */
export interface RealContainer {
  id: string;
  pod: RealPod;
  name: string;
  attempt: number;
  /** Host PID of the container's process. */
  pid: number;
  coveragePort: number;
  appPort: number;
  /** Where its app server answers from the host. */
  appUrl: string;
}

/** What start a container with. */
export interface RealContainerSpec {
  name: string;
  /** Coverage port (first free of port..port+49 inside its network). */
  coveragePort: number;
  /** 0 = any. */
  appPort?: number;
  env?: Record<string, string>;
  attempt?: number;
}

/** What teardown would leave behind; all empty after close(). */
export interface RealLeftovers {
  processes: number[];
  links: string[];
  cgroups: string[];
  paths: string[];
}

const live = new Set<RealNode>();
let hooked = false;

/**
 * @example
 * await using node = await RealNode.create({ crictl });
 * const pod = await node.runPod({ name: "web", namespace: "default" });
 * const c = await node.startContainer(pod, { name: "app", coveragePort: 53700 });
 */
export class RealNode implements AsyncDisposable, CriNode {
  readonly runtime = "containerd";
  readonly pods: RealPod[] = [];
  #proc: Deno.ChildProcess | undefined;
  #closed = false;
  #hostHad: { runContainerd: boolean; varLibCni: boolean };

  private constructor(
    readonly runId: string,
    readonly paths: ContainerdPaths,
    readonly crictl: string,
    readonly lease: PeerLease,
  ) {
    this.#hostHad = {
      runContainerd: pathExists("/run/containerd"),
      varLibCni: pathExists("/var/lib/cni"),
    };
  }

  /** CIDR of this node's pod network. */
  get subnet(): string {
    return `10.77.${this.lease.block}.0/24`;
  }
  /** The bridge CNI creates on the host. */
  get bridge(): string {
    return `ccp-${this.runId}`;
  }
  /** The CRI endpoint (for `crictl --runtime-endpoint` and the collector's flag). */
  get endpoint(): string {
    return `unix://${this.paths.socket}`;
  }
  /** The cgroup parent (cgroupfs driver) of every pod. */
  get cgroupParent(): string {
    return `/ccpeers-${this.runId}`;
  }

  /**
   * Starts containerd (ready in ≈1 s) and imports the pause and covserver images.
   * @example const node = await RealNode.create({ crictl: await ensurePeer("crictl") });
   */
  static async create(o: { crictl: string }): Promise<RealNode> {
    const runId = Array.from(crypto.getRandomValues(new Uint8Array(3)))
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    const dir = await Deno.makeTempDir({ prefix: `ccpeers-${runId}-` });
    const lease = await leaseBlock(runId);
    const node = new RealNode(runId, containerdPaths(dir), o.crictl, lease);
    live.add(node);
    hookUnload();
    try {
      await node.#start();
    } catch (e) {
      await node.close().catch(() => {});
      throw e;
    }
    return node;
  }

  async #start(): Promise<void> {
    const p = this.paths;
    for (const d of [p.root, p.state, p.cniConf, p.cniIpam, p.podLogs, p.overlays]) {
      await Deno.mkdir(d, { recursive: true });
    }
    const config = join(p.dir, "containerd.toml");
    await Deno.writeTextFile(config, containerdConfig(p, PAUSE_IMAGE));
    await Deno.writeTextFile(
      join(p.cniConf, "10-ccpeers.conflist"),
      cniConflist({
        name: `ccpeers-${this.runId}`,
        bridge: this.bridge,
        subnet: this.subnet,
        ipamDir: p.cniIpam,
      }),
    );
    const [pause, cov] = await Promise.all([
      buildGo({
        dir: join(repoRoot, "tests/fixtures/pause"),
        name: "pause",
        cover: false,
        static: true,
      }),
      buildGo({
        dir: join(repoRoot, "tests/fixtures/covserver"),
        name: "covserver",
        cover: true,
        static: true,
      }),
    ]);
    const [cmd, ...args] = containerdLaunch(p, config);
    this.#proc = new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // containerd logs to stderr; keep it in the run dir for post-mortems.
    this.#proc.stderr.pipeTo(
      (await Deno.open(join(p.dir, "containerd.err"), {
        write: true,
        create: true,
      })).writable,
    ).catch(() => {});
    await this.#waitReady();
    for (
      const [ref, files, entry, labels] of [
        [PAUSE_IMAGE, { pause: await Deno.readFile(pause) }, ["/pause"], undefined],
        [
          COVSERVER_IMAGE,
          { covserver: await Deno.readFile(cov) },
          ["/covserver"],
          COVSERVER_IMAGE_LABELS,
        ],
      ] as const
    ) {
      const tarPath = join(p.dir, `${ref.split("/").at(-1)!.replace(":", "-")}.tar`);
      await Deno.writeFile(tarPath, ociImageTar({ ref, files, entrypoint: [...entry], labels }));
      await run("ctr", ["-a", p.socket, "-n", "k8s.io", "images", "import", tarPath]);
      await Deno.remove(tarPath);
    }
  }

  async #waitReady(): Promise<void> {
    const deadline = Date.now() + 30_000;
    let last = "";
    while (Date.now() < deadline) {
      const st = await Promise.race([
        this.#proc!.status,
        new Promise<null>((r) => setTimeout(() => r(null), 100)),
      ]);
      if (st) {
        throw new Error(
          `containerd exited (${st.code}) before it was ready: ${await this.#errTail()}`,
        );
      }
      try {
        await this.crictlRun(["version"]);
        return;
      } catch (e) {
        last = String(e);
      }
    }
    throw new Error(`containerd not ready after 30 s: ${last}; ${await this.#errTail()}`);
  }

  async #errTail(): Promise<string> {
    const t = await Deno.readTextFile(join(this.paths.dir, "containerd.err")).catch(() => "");
    return t.trim().split("\n").slice(-5).join(" | ");
  }

  /**
   * Runs the real crictl against this node; returns stdout.
   * @example const json = await node.crictlRun(["ps", "-o", "json"]);
   */
  crictlRun(args: string[]): Promise<string> {
    return run(this.crictl, [
      "--runtime-endpoint",
      this.endpoint,
      "--image-endpoint",
      this.endpoint,
      "--timeout",
      "30s",
      ...args,
    ]);
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

  /** containerd reports this host's PIDs. */
  hostPidOf(nodePid: number): number {
    return nodePid;
  }

  /** Pod sandbox with its own network (CNI) or hostNetwork. */
  async runPod(
    o: {
      name: string;
      namespace: string;
      uid?: string;
      hostNetwork?: boolean;
      sharedPid?: boolean;
    },
  ): Promise<RealPod> {
    if (o.sharedPid) throw new Error("containerd node: sharedPid pods are CRI-O cases here");
    const uid = o.uid ?? crypto.randomUUID();
    const hostNetwork = o.hostNetwork ?? false;
    const logDir = join(this.paths.podLogs, `${o.namespace}_${o.name}_${uid}`);
    await Deno.mkdir(logDir, { recursive: true });
    const cfg = podConfig({
      name: o.name,
      namespace: o.namespace,
      uid,
      hostNetwork,
      logDirectory: logDir,
      cgroupParent: `${this.cgroupParent}/pod-${uid}`,
    });
    const file = join(this.paths.dir, `pod-${uid}.json`);
    await Deno.writeTextFile(file, JSON.stringify(cfg));
    const id = (await this.crictlRun(["runp", file])).trim();
    const info = JSON.parse(await this.crictlRun(["inspectp", id]));
    const pod: RealPod = {
      id,
      name: o.name,
      namespace: o.namespace,
      uid,
      hostNetwork,
      ip: String(info?.status?.network?.ip ?? ""),
      logDir,
    };
    this.pods.push(pod);
    return pod;
  }

  /** Creates and starts a covserver container; resolves once its servers listen. */
  async startContainer(pod: RealPod, s: RealContainerSpec): Promise<RealContainer> {
    const attempt = s.attempt ?? 0;
    const logPath = `${s.name}_${attempt}.log`;
    const cfg = containerConfig({
      pod,
      name: s.name,
      attempt,
      image: COVSERVER_IMAGE,
      env: {
        COVERAGE_PORT: String(s.coveragePort),
        APP_PORT: String(s.appPort ?? 0),
        ...s.env,
      },
      logPath,
      hostNetwork: pod.hostNetwork,
    });
    const podFile = join(this.paths.dir, `pod-${pod.uid}.json`);
    const file = join(this.paths.dir, `ctr-${pod.uid}-${s.name}-${attempt}.json`);
    await Deno.writeTextFile(file, JSON.stringify(cfg));
    const id = (await this.crictlRun(["create", pod.id, file, podFile])).trim();
    await this.crictlRun(["start", id]);
    const inspect = JSON.parse(await this.crictlRun(["inspect", id]));
    const pid = Number(inspect?.info?.pid);
    const log = join(pod.logDir, logPath);
    const [coveragePort, appPort] = await waitLogPorts(log, `${pod.name}/${s.name}`);
    const host = pod.hostNetwork ? "127.0.0.1" : pod.ip;
    return {
      id,
      pod,
      name: s.name,
      attempt,
      pid,
      coveragePort,
      appPort,
      appUrl: `http://${host}:${appPort}`,
    };
  }

  /** Stops a container (SIGTERM, then SIGKILL after `timeoutS`). */
  async stopContainer(c: RealContainer, timeoutS = 5): Promise<void> {
    await this.crictlRun(["stop", "--timeout", String(timeoutS), c.id]);
  }

  /**
   * What the kubelet does on a restart: the old container exits, a new one (attempt + 1) starts
   * in the same pod, with a new ID and PID.
   */
  async restartContainer(c: RealContainer, s: RealContainerSpec): Promise<RealContainer> {
    await this.stopContainer(c);
    return await this.startContainer(c.pod, { ...s, attempt: c.attempt + 1 });
  }

  /** Stops and removes a pod with its containers. */
  async removePod(pod: RealPod): Promise<void> {
    await this.crictlRun(["stopp", pod.id]);
    await this.crictlRun(["rmp", "--force", pod.id]);
    this.pods.splice(this.pods.indexOf(pod), 1);
  }

  /**
   * Removes every pod, stops containerd, kills stray shims, deletes the bridge, the cgroups, the
   * run directory and the lease. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    live.delete(this);
    const errors: string[] = [];
    if (this.#proc) {
      for (const pod of [...this.pods]) {
        await this.removePod(pod).catch((e) => errors.push(String(e)));
      }
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
    for (const pid of pidsMentioning(this.paths.dir)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
    await run("ip", ["link", "del", this.bridge]).catch(() => {});
    for (const cg of this.#cgroupDirs()) {
      await removeCgroupTree(cg).catch((e) => errors.push(String(e)));
    }
    await Deno.remove(this.paths.dir, { recursive: true }).catch((e) => errors.push(String(e)));
    this.lease.release();
    if (errors.length) throw new Error(`real node teardown: ${errors.join("; ")}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #cgroupDirs(): string[] {
    return cgroupMounts().map((m) => `${m}${this.cgroupParent}`).filter(pathExists);
  }

  /**
   * What this node would leave behind: processes naming its run dir, its bridge, its cgroups,
   * its run dir, and /run/containerd or /var/lib/cni when the host had none before.
   */
  async leftovers(): Promise<RealLeftovers> {
    const links = (await run("ip", ["-o", "link", "show"])).split("\n")
      .map((l) => l.split(": ")[1]?.split("@")[0] ?? "")
      .filter((n) => n === this.bridge);
    const paths = [this.paths.dir];
    if (!this.#hostHad.runContainerd) paths.push("/run/containerd");
    if (!this.#hostHad.varLibCni) paths.push("/var/lib/cni");
    return {
      processes: pidsMentioning(this.paths.dir),
      links,
      cgroups: this.#cgroupDirs(),
      paths: paths.filter(pathExists),
    };
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

async function waitLogPorts(log: string, what: string): Promise<[number, number]> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const text = await Deno.readTextFile(log).catch(() => "");
    const cov = portInCriLog(text, "coverage-port");
    const app = portInCriLog(text, "app-port");
    if (cov !== null && app !== null) return [cov, app];
    await new Promise((r) => setTimeout(r, 50)); // the log file has no change event we can await
  }
  throw new Error(`${what}: no coverage-port/app-port line in ${log} after 30 s`);
}

function hookUnload(): void {
  if (hooked) return;
  hooked = true;
  globalThis.addEventListener("unload", () => {
    for (const n of live) {
      for (const pid of pidsMentioning(n.paths.dir)) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* gone */ }
      }
    }
  });
}
