/** CRI pod-sandbox and container configs (the JSON `crictl runp` / `crictl create` read). */

/** A pod as the kubelet would ask containerd for it. */
export interface PodConfigInput {
  name: string;
  namespace: string;
  uid: string;
  attempt?: number;
  hostNetwork: boolean;
  logDirectory: string;
  cgroupParent: string;
}

/**
 * The PodSandboxConfig: network 0 = POD (CNI), 2 = NODE (hostNetwork); pid 1 = CONTAINER. Labels
 * as the kubelet sets them, so `crictl ps` names the pod.
 * @example podConfig({ name: "web", namespace: "default", uid: "u1", hostNetwork: false, ... })
 */
export function podConfig(p: PodConfigInput): Record<string, unknown> {
  return {
    metadata: { name: p.name, namespace: p.namespace, uid: p.uid, attempt: p.attempt ?? 0 },
    hostname: p.hostNetwork ? undefined : p.name,
    log_directory: p.logDirectory,
    linux: {
      cgroup_parent: p.cgroupParent,
      security_context: {
        namespace_options: { network: p.hostNetwork ? 2 : 0, pid: 1, ipc: 0 },
      },
    },
    labels: {
      "io.kubernetes.pod.name": p.name,
      "io.kubernetes.pod.namespace": p.namespace,
      "io.kubernetes.pod.uid": p.uid,
    },
    annotations: {},
  };
}

/** A container of a pod. */
export interface ContainerConfigInput {
  pod: { name: string; namespace: string; uid: string };
  name: string;
  attempt: number;
  image: string;
  args?: string[];
  env: Record<string, string>;
  logPath: string;
  hostNetwork: boolean;
}

/**
 * The ContainerConfig, with the kubelet's `io.kubernetes.*` labels (else `crictl ps` shows the
 * pod as "unknown").
 * @example containerConfig({ pod, name: "app", attempt: 0, image: "docker.io/ccpeers/covserver:1", env: {}, logPath: "app_0.log", hostNetwork: false })
 */
export function containerConfig(c: ContainerConfigInput): Record<string, unknown> {
  return {
    metadata: { name: c.name, attempt: c.attempt },
    image: { image: c.image },
    args: c.args ?? [],
    envs: Object.entries(c.env).map(([key, value]) => ({ key, value })),
    log_path: c.logPath,
    linux: {
      resources: { memory_limit_in_bytes: 128 * 1024 * 1024 },
      // As the kubelet asks without shareProcessNamespace: a PID namespace of its own.
      security_context: {
        namespace_options: { network: c.hostNetwork ? 2 : 0, pid: 1, ipc: 0 },
      },
    },
    labels: {
      "io.kubernetes.pod.name": c.pod.name,
      "io.kubernetes.pod.namespace": c.pod.namespace,
      "io.kubernetes.pod.uid": c.pod.uid,
      "io.kubernetes.container.name": c.name,
    },
  };
}

/**
 * The first `key=N` of a CRI log file's stdout lines (`<time> stdout F <text>`), else null.
 * @example portInCriLog("2026-11-29T12:00:00Z stdout F coverage-port=53700\n", "coverage-port") // 53700
 */
export function portInCriLog(text: string, key: string): number | null {
  for (const line of text.split("\n")) {
    const m = /^\S+ stdout [FP] (.*)$/.exec(line);
    const kv = m && new RegExp(`^${key}=(\\d+)$`).exec(m[1].trim());
    if (kv) return Number(kv[1]);
  }
  return null;
}
