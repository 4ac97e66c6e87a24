/**
 * What the containerd node (realnode.ts) and the CRI-O node (crionode.ts) share: pods and
 * covserver containers driven through the real crictl (runp/create/start/stop/rmp), the names
 * derived from the run ID, the cgroup and bridge checks of `leftovers()`, and the unload hook
 * that kills what a run dir's processes left. Each node says what differs in its CrictlStyle.
 */

import { join } from "node:path";
import { pathExists } from "../hostfs.ts";
import { run } from "../netns.ts";
import { cniConflist } from "./containerd.ts";
import { crictlArgs, killMentioning } from "./node_proc.ts";
import { COVSERVER_IMAGE } from "./images.ts";
import { containerConfig, podConfig, portInCriLog } from "./specs.ts";
import { cgroupMounts, type PeerLease, pidsMentioning } from "./sys.ts";
import type {
  CriPodOptions,
  RealContainer,
  RealContainerSpec,
  RealLeftovers,
  RealPod,
} from "./real_types.ts";

export type { CriPodOptions, RealContainer, RealContainerSpec, RealLeftovers, RealPod };

/** What differs between the runtimes in driving pods. */
export interface CrictlStyle {
  /** Name of a pod's cgroup under the node's parent, by pod UID. */
  podCgroup: (uid: string) => string;
  /** Whether shareProcessNamespace pods are made (else runPod refuses them with this reason). */
  sharedPid: true | string;
}

/** The run dir, CRI socket and pod log root of a node. */
export interface CrictlPaths {
  dir: string;
  socket: string;
  podLogs: string;
}

const live = new Set<CrictlNode>();
let hooked = false;

export abstract class CrictlNode {
  readonly pods: RealPod[] = [];
  #sharedPid = new Set<string>();
  abstract readonly runId: string;
  abstract readonly paths: CrictlPaths;
  abstract readonly crictl: string;
  abstract readonly lease: PeerLease;

  constructor(readonly style: CrictlStyle) {}

  /** CIDR of this node's pod network. */
  get subnet(): string {
    return `10.77.${this.lease.block}.0/24`;
  }
  /** The bridge CNI creates. */
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

  /** Writes the node's CNI network (its bridge and subnet, IPAM state in `ipamDir`) to `confDir`. */
  protected async writeCniConf(confDir: string, ipamDir: string): Promise<void> {
    await Deno.writeTextFile(
      join(confDir, "10-ccpeers.conflist"),
      cniConflist({
        name: `ccpeers-${this.runId}`,
        bridge: this.bridge,
        subnet: this.subnet,
        ipamDir,
      }),
    );
  }

  /** Kills what this node's run dir's processes left when the test process unloads. */
  protected trackForUnload(): void {
    live.add(this);
    if (hooked) return;
    hooked = true;
    globalThis.addEventListener("unload", () => {
      for (const n of live) killMentioning(n.paths.dir);
    });
  }
  protected untrackForUnload(): void {
    live.delete(this);
  }

  /**
   * Runs the real crictl against this node; returns stdout.
   * @example const json = await node.crictlRun(["ps", "-o", "json"]);
   */
  crictlRun(args: string[]): Promise<string> {
    return run(this.crictl, crictlArgs(this.endpoint, args));
  }

  /** Pod sandbox with its own network (CNI) or hostNetwork, optionally one PID namespace. */
  async runPod(o: CriPodOptions): Promise<RealPod> {
    if (o.sharedPid && this.style.sharedPid !== true) throw new Error(this.style.sharedPid);
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
      cgroupParent: `${this.cgroupParent}/${this.style.podCgroup(uid)}`,
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

  abstract close(): Promise<void>;

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Removes every pod; what fails goes into `errors`. */
  protected async removeAllPods(errors: string[]): Promise<void> {
    for (const pod of [...this.pods]) {
      await this.removePod(pod).catch((e) => errors.push(String(e)));
    }
  }

  /** What this node leaves: processes naming its run dir, its bridge, cgroups, and `paths`. */
  protected async leftoversWith(paths: string[]): Promise<RealLeftovers> {
    return {
      processes: pidsMentioning(this.paths.dir),
      links: await this.bridgeLinks(),
      cgroups: this.cgroupDirs(),
      paths,
    };
  }

  /** The node's cgroup parent under every cgroup mount, where it exists. */
  protected cgroupDirs(): string[] {
    return cgroupMounts().map((m) => `${m}${this.cgroupParent}`).filter(pathExists);
  }

  /** Host links named like this node's bridge. */
  protected async bridgeLinks(): Promise<string[]> {
    return (await run("ip", ["-o", "link", "show"])).split("\n")
      .map((l) => l.split(": ")[1]?.split("@")[0] ?? "")
      .filter((n) => n === this.bridge);
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
