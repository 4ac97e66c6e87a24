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
import { cniConflist } from "./containerd.ts";
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
import { ociImageTar } from "./oci.ts";
import {
  COVSERVER_IMAGE,
  COVSERVER_IMAGE_LABELS,
  PAUSE_IMAGE,
  type RealContainer,
  type RealContainerSpec,
  type RealLeftovers,
  type RealPod,
} from "./realnode.ts";
import type { CriNode, CriPodOptions } from "./cri_node.ts";
import { containerConfig, podConfig, portInCriLog } from "./specs.ts";
import { cgroupMounts, leaseBlock, type PeerLease, pidsMentioning, sweepRun } from "./sys.ts";

const live = new Set<CrioNode>();
let hooked = false;

/**
 * @example
 * await using node = await CrioNode.create({ crictl, crio });
 * const pod = await node.runPod({ name: "web", namespace: "default" });
 * const c = await node.startContainer(pod, { name: "app", coveragePort: 57400 });
 */
export class CrioNode implements AsyncDisposable, CriNode {
  readonly runtime = "crio";
  readonly pods: RealPod[] = [];
  #proc: Deno.ChildProcess | undefined;
  #closed = false;
  #hostBefore: Map<string, string>;
  #sharedPid = new Set<string>();
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
    this.#hostBefore = new Map(HOST_PATHS.map((p) => [p, hostPathState(p)]));
  }

  /** CIDR of this node's pod network (inside the node only). */
  get subnet(): string {
    return `10.77.${this.lease.block}.0/24`;
  }
  /** The bridge CNI creates, inside the node's network namespace. */
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
    const runId = Array.from(crypto.getRandomValues(new Uint8Array(3)))
      .map((b) => b.toString(16).padStart(2, "0")).join("");
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
    const images = [];
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
      const tar = join(p.dir, `${ref.split("/").at(-1)!.replace(":", "-")}.tar`);
      await Deno.writeFile(tar, ociImageTar({ ref, files, entrypoint: [...entry], labels }));
      images.push({ tar, ref });
    }
    const [cmd, ...args] = crioLaunch(p, this.programs, images);
    this.#proc = new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#proc.stderr.pipeTo(
      (await Deno.open(p.crioLog, { write: true, create: true })).writable,
    ).catch(() => {});
    await this.#waitReady();
    for (const i of images) await Deno.remove(i.tar);
  }

  async #waitReady(): Promise<void> {
    const deadline = Date.now() + 120_000; // skopeo's copies come first (niced)
    let last = "";
    while (Date.now() < deadline) {
      const st = await Promise.race([
        this.#proc!.status,
        new Promise<null>((r) => setTimeout(() => r(null), 100)),
      ]);
      if (st) {
        throw new Error(`crio exited (${st.code}) before it was ready: ${await this.#errTail()}`);
      }
      if (!pathExists(this.paths.socket)) continue;
      try {
        await this.crictlRun(["version"]);
        this.initPid = this.#findInit();
        return;
      } catch (e) {
        last = String(e);
      }
    }
    throw new Error(`crio not ready after 120 s: ${last}; ${await this.#errTail()}`);
  }

  /** The host PID of nodeinit: the child of unshare whose command line is nodeinit's. */
  #findInit(): number {
    const unshare = this.#proc!.pid;
    for (const pid of pidsMentioning(this.programs.nodeinit)) {
      if (ppidOf(pid) === unshare) return pid;
    }
    throw new Error(`crio node: no nodeinit under unshare ${unshare}`);
  }

  async #errTail(): Promise<string> {
    const t = await Deno.readTextFile(this.paths.crioLog).catch(() => "");
    return t.trim().split("\n").slice(-5).join(" | ");
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

  /** Pod sandbox with its own network (CNI) or hostNetwork, optionally one PID namespace. */
  async runPod(o: CriPodOptions): Promise<RealPod> {
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
      cgroupParent: `${this.cgroupParent}/pod${uid}`,
    });
    if (o.sharedPid) setPidMode(cfg, 0);
    const file = join(this.paths.dir, `pod-${uid}.json`);
    await Deno.writeTextFile(file, JSON.stringify(cfg));
    const id = (await this.crictlRun(["runp", file])).trim();
    if (o.sharedPid) this.#sharedPid.add(id);
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
      env: { COVERAGE_PORT: String(s.coveragePort), APP_PORT: String(s.appPort ?? 0), ...s.env },
      logPath,
      hostNetwork: pod.hostNetwork,
    });
    if (this.#sharedPid.has(pod.id)) setPidMode(cfg, 0);
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

  /** A kubelet restart: the old container exits, attempt + 1 starts in the same pod. */
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
   * Removes every pod, stops CRI-O (nodeinit exits with it and the kernel kills what is left in
   * the node), then deletes the cgroups (CRI-O leaves the pod parents and some conmon ones), the
   * run directory and the lease. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    live.delete(this);
    const errors: string[] = [];
    await this.#fwd.close();
    if (this.#proc) {
      for (const pod of [...this.pods]) {
        await this.removePod(pod).catch((e) => errors.push(String(e)));
      }
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
    for (const pid of pidsMentioning(this.paths.dir)) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* gone */ }
    }
    await sweepRun(this.runId).catch((e) => errors.push(String(e)));
    await Deno.remove(this.paths.dir, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) errors.push(String(e));
    });
    this.lease.release();
    if (errors.length) throw new Error(`crio node teardown: ${errors.join("; ")}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #cgroupDirs(): string[] {
    return cgroupMounts().map((m) => `${m}${this.cgroupParent}`).filter(pathExists);
  }

  /**
   * What this node would leave behind: processes naming its run dir, a link of its bridge's name
   * on the host (never made there), its cgroups, its run dir, and each host path of HOST_PATHS
   * that differs from before the node.
   */
  async leftovers(): Promise<RealLeftovers> {
    const links = (await run("ip", ["-o", "link", "show"])).split("\n")
      .map((l) => l.split(": ")[1]?.split("@")[0] ?? "")
      .filter((n) => n === this.bridge);
    const changed = HOST_PATHS.filter((p) => hostPathState(p) !== this.#hostBefore.get(p));
    return {
      processes: pidsMentioning(this.paths.dir),
      links,
      cgroups: this.#cgroupDirs(),
      paths: [...(pathExists(this.paths.dir) ? [this.paths.dir] : []), ...changed],
    };
  }
}

function setPidMode(cfg: Record<string, unknown>, pid: number): void {
  const linux = cfg.linux as { security_context: { namespace_options: { pid: number } } };
  linux.security_context.namespace_options.pid = pid;
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
