/** What discovery finds and the engine collects: containers, candidate endpoints, targets. */

import { z } from "zod";

/** A running container as CRI and /proc describe it (kept while its ID is in `crictl ps`). */
export const ContainerInfo = z.object({
  id: z.string(),
  sandboxId: z.string(),
  /** Container name (label io.kubernetes.container.name, else metadata.name). */
  name: z.string(),
  podName: z.string(),
  namespace: z.string(),
  podUid: z.string(),
  /** Host PID of the container's init process (`crictl inspect` info.pid). */
  pid: z.number().int().positive(),
  imageRef: z.string(),
  /** NODE = hostNetwork (also when the pod IP is empty); POD = own network namespace. */
  network: z.enum(["POD", "NODE"]),
  /** The pod IP to dial for POD networking; "" for NODE. May be IPv6. */
  podIp: z.string(),
  /** Every IP of the pod per CRI (podIp and its additional IPs, dual stack); [] for NODE.
   * Absent: podIp only. A listener bound to another address is never dialled. */
  podIps: z.array(z.string()).optional(),
  /** First port of the container's coverage range (COVERAGE_PORT or the default). */
  coveragePort: z.number().int(),
});
export type ContainerInfo = z.infer<typeof ContainerInfo>;

/** Who owns a server: a container, or the host (no container). */
export type Owner =
  | { kind: "container"; container: ContainerInfo }
  | { kind: "host" };

/** A listening socket in range that may be a coverage server. */
export interface Candidate {
  owner: Owner;
  /** Address to dial: pod IP for POD networking, a loopback address otherwise. Never "". */
  host: string;
  port: number;
  /** Socket inode of the listener. */
  inode: number;
  /** Host PIDs of the owner's process tree (container init and descendants, or the host process
   * holding the socket and its descendants): the processes the server's reported PID must be one of. */
  pids: number[];
}

/** The identity headers of a coverage server (X-Art-Coverage-*). */
export const Identity = z.object({
  binary: z.string(),
  /** PID as the server sees itself (inside its PID namespace). */
  pid: z.number().int().nonnegative(),
  /** Every other X-Art-Coverage-* header: name lower-cased, `-` → `_`, prefix dropped. */
  extra: z.record(z.string(), z.string()),
});
export type Identity = z.infer<typeof Identity>;

/** A confirmed coverage server, filed under its owner. */
export interface Target {
  /** Stable key: owner + port + host PID of the server process. */
  key: string;
  owner: Owner;
  host: string;
  port: number;
  identity: Identity;
  /** Host PID of the process that serves (the one whose last NSpid is identity.pid). */
  hostPid: number;
  /** Start time of hostPid (/proc/<pid>/stat field 22): tells a reused PID from the server. */
  hostStartTime?: string;
  /** When the collector first saw it (names the discovery-time path segment). */
  discoveredAt: Date;
  /**
   * Set when the process was stored before a restart (src/collect/prefix_memory.ts): discoveredAt is the
   * remembered time, `metaHash` what its prefix holds, and `freshAt` the time to use instead when
   * the server's meta hash turns out to differ (another build: another prefix).
   */
  remembered?: { metaHash: string; freshAt: Date };
}

/** A short text naming a target for logs: `ns/pod/container:port` or `_host_:port`. */
export function targetLabel(t: { owner: Owner; port: number }): string {
  return t.owner.kind === "host"
    ? `_host_:${t.port}`
    : `${t.owner.container.namespace}/${t.owner.container.podName}/${t.owner.container.name}:${t.port}`;
}

/** Log fields naming a target (namespace, pod, container, port). */
export function targetFields(
  t: { owner: Owner; port: number; host?: string },
): Record<string, unknown> {
  return t.owner.kind === "host" ? { owner: "_host_", port: t.port } : {
    namespace: t.owner.container.namespace,
    pod: t.owner.container.podName,
    container: t.owner.container.name,
    port: t.port,
  };
}

/**
 * `host:port` for a URL or a log line: IPv6 addresses in brackets.
 *
 * @example hostPort("fd00::17", 53700) // "[fd00::17]:53700"
 */
export function hostPort(host: string, port: number): string {
  return host.includes(":") && !host.startsWith("[") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Who runs a pod (derived by kube/workload.ts from the pod watch; written into info.json). */
export interface Workload {
  /** The pod's controller per its ownerReferences (absent for a bare pod). */
  controller?: { kind: string; name: string };
  /** The workload: a ReplicaSet's Deployment, else the controller, else `Pod` and its name. */
  kind: string;
  name: string;
}
