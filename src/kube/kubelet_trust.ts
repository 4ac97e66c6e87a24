/**
 * Which `kubelet` process to believe. Any program can call itself `kubelet` (`exec -a kubelet`)
 * and name a kubeconfig and an API server of its choice, and a real kubelet may run inside a
 * pod (kind, nested clusters). Only a process in the host's PID, network and mount namespaces
 * and outside every container cgroup is trusted; one in the `kubelet.service` cgroup first.
 */

import { containerIdOfCgroup } from "../procfs/cgroup.ts";

/** The namespaces compared with PID 1's: `/proc/<pid>/ns/<name>` link texts. */
export const HOST_NAMESPACES = ["pid", "net", "mnt"] as const;
export type Namespaces = Record<(typeof HOST_NAMESPACES)[number], string>;

/** What is known of one process that calls itself kubelet. */
export interface KubeletCandidate {
  pid: number;
  /** Its `--kubeconfig`, if any. */
  kubeconfig?: string;
  /** Its namespace links, or why they could not be read. */
  ns: Namespaces | { error: string };
  /** Its /proc/<pid>/cgroup text, or why it could not be read. */
  cgroup: string | { error: string };
}

/** The judgement on one candidate. */
export interface KubeletVerdict {
  pid: number;
  kubeconfig?: string;
  trusted: boolean;
  /** In the `kubelet.service` cgroup (the systemd unit of a real node). */
  preferred: boolean;
  /** Why, in words for the log. */
  reason: string;
}

/** Container cgroup path segments: CRI-O, containerd, Docker, Podman, the kubepods slices. */
const CONTAINER_SEGMENT =
  /^(?:kubepods\b.*|(?:crio|cri-containerd|docker|libpod|containerd)-.+\.scope|machine\.slice)$/;

/** The cgroup paths of /proc/<pid>/cgroup text (one per hierarchy). */
function cgroupPaths(text: string): string[] {
  return text.split("\n").map((l) => l.split(":").slice(2).join(":").trim()).filter(Boolean);
}

/**
 * The container cgroup segment of /proc/<pid>/cgroup text, else undefined.
 *
 * @example containerCgroup("0::/kubepods.slice/kubepods-pod1.slice/crio-ab.scope") // "kubepods.slice"
 */
export function containerCgroup(text: string): string | undefined {
  for (const path of cgroupPaths(text)) {
    const hit = path.split("/").find((s) => CONTAINER_SEGMENT.test(s));
    if (hit) return hit;
  }
  return containerIdOfCgroup(text) ?? undefined;
}

/**
 * Judges one candidate against PID 1's namespaces.
 *
 * @example judgeKubelet({ pid: 9, ns: hostNs, cgroup: "0::/system.slice/kubelet.service" }, hostNs)
 * // { pid: 9, trusted: true, preferred: true, reason: "host namespaces, kubelet.service cgroup" }
 */
export function judgeKubelet(c: KubeletCandidate, host: Namespaces | { error: string }) {
  const verdict = (trusted: boolean, preferred: boolean, reason: string): KubeletVerdict => ({
    pid: c.pid,
    ...(c.kubeconfig !== undefined ? { kubeconfig: c.kubeconfig } : {}),
    trusted,
    preferred,
    reason,
  });
  if ("error" in host) return verdict(false, false, `host namespaces unknown: ${host.error}`);
  if ("error" in c.ns) return verdict(false, false, `namespaces unreadable: ${c.ns.error}`);
  const ns = c.ns;
  const foreign = HOST_NAMESPACES.filter((n) => ns[n] !== host[n]);
  if (foreign.length > 0) {
    return verdict(false, false, `not in the host's ${foreign.join("/")} namespace`);
  }
  if (typeof c.cgroup !== "string") {
    return verdict(false, false, `cgroup unreadable: ${c.cgroup.error}`);
  }
  const container = containerCgroup(c.cgroup);
  if (container) return verdict(false, false, `in a container cgroup (${container})`);
  const unit = cgroupPaths(c.cgroup).some((p) => p.split("/").at(-1) === "kubelet.service");
  return verdict(
    true,
    unit,
    unit ? "host namespaces, kubelet.service cgroup" : "host namespaces, not in a container",
  );
}

/**
 * The verdict to follow: trusted ones only, `kubelet.service` first, then the lowest PID.
 *
 * @example chooseKubelet([{ pid: 5, trusted: false, … }, { pid: 9, trusted: true, … }])?.pid // 9
 */
export function chooseKubelet(verdicts: KubeletVerdict[]): KubeletVerdict | undefined {
  return verdicts.filter((v) => v.trusted).sort((a, b) =>
    Number(b.preferred) - Number(a.preferred) || a.pid - b.pid
  )[0];
}
