/**
 * A real kubelet v1.37.2 for the kubelet tier, run inside the node's namespaces
 * (kubenode_ns.ts) against a CRI runtime of the same node and the real kube-apiserver, with a node
 * client certificate behind a `kubelet-client-current.pem` symlink (as the kubelet keeps its own).
 * Every setting that differs from the kubelet's defaults, and why (real-peers-kubelet.md §3):
 * - `failCgroupV1: false`: this VM is cgroup v1; else "kubelet is configured to not run on a host
 *   using cgroup v1".
 * - `protectKernelDefaults: true` (with the node's fake sysctl files): the default would write the
 *   host's global vm/kernel sysctls.
 * - `oomScoreAdj: 0`: no CAP_SYS_RESOURCE for the default -999.
 * - `--node-ip` on the node's veth: the kubelet needs a non-loopback node IP.
 * - `cgroupDriver: cgroupfs`, `cgroupsPerQOS` under `cgroupRoot: /ccpeers-<runId>` (made first in
 *   every hierarchy: "cgroup [...] has some missing paths"), so one sweep finds every pod cgroup.
 * - no eviction, image GC at 100 %, no swap check, x509-only authentication with AlwaysAllow
 *   (only the apiserver's kubelet client reaches port 10250), no read-only port, no certificate
 *   rotation by the kubelet (the test rotates it), dirs under the run dir.
 */

import { join } from "node:path";

/** What the kubelet config is made from. */
export interface KubeletConfigInput {
  caCrt: string;
  podLogsDir: string;
  cgroupRoot: string;
  healthzPort: number;
}

/**
 * The KubeletConfiguration (YAML is a JSON superset; the kubelet reads JSON).
 * @example kubeletConfig({ caCrt, podLogsDir, cgroupRoot: "/ccpeers-a1b2c3", healthzPort: 10248 })
 */
export function kubeletConfig(c: KubeletConfigInput): string {
  return JSON.stringify(
    {
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      kind: "KubeletConfiguration",
      failCgroupV1: false,
      failSwapOn: false,
      cgroupDriver: "cgroupfs",
      cgroupsPerQOS: true,
      cgroupRoot: c.cgroupRoot,
      enforceNodeAllocatable: ["pods"],
      evictionHard: {},
      evictionSoft: {},
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      protectKernelDefaults: true,
      oomScoreAdj: 0,
      authentication: {
        anonymous: { enabled: false },
        webhook: { enabled: false },
        x509: { clientCAFile: c.caCrt },
      },
      authorization: { mode: "AlwaysAllow" },
      readOnlyPort: 0,
      healthzBindAddress: "127.0.0.1",
      healthzPort: c.healthzPort,
      podLogsDir: c.podLogsDir,
      clusterDomain: "cluster.local",
      resolvConf: "/etc/resolv.conf",
      rotateCertificates: false,
      serverTLSBootstrap: false,
      registerNode: true,
      syncFrequency: "5s",
      fileCheckFrequency: "5s",
      nodeStatusUpdateFrequency: "5s",
    },
    null,
    2,
  );
}

/**
 * The kubelet's arguments after its binary (its `--kubeconfig` is what the collector finds on
 * /proc/<pid>/cmdline).
 * @example kubeletArgs({ dir, kubeconfig, endpoint: "unix:///x.sock", node: "n", nodeIp: "10.99.0.1" })
 */
export function kubeletArgs(
  o: { dir: string; kubeconfig: string; endpoint: string; node: string; nodeIp: string },
): string[] {
  return [
    `--config=${join(o.dir, "kubelet-config.yaml")}`,
    `--kubeconfig=${o.kubeconfig}`,
    `--container-runtime-endpoint=${o.endpoint}`,
    `--hostname-override=${o.node}`,
    `--node-ip=${o.nodeIp}`,
    `--root-dir=${join(o.dir, "kubelet-root")}`,
    "-v=2",
  ];
}

/**
 * Makes `root` in every cgroup v1 hierarchy the kubelet checks (cpuset with its parent's CPUs and
 * memory nodes, else no task may join it); the cgroup2 mount too when there is one.
 * @example await makeCgroupRoot(cgroupMounts(), "/ccpeers-a1b2c3")
 */
export async function makeCgroupRoot(mounts: string[], root: string): Promise<void> {
  for (const m of mounts) {
    const dir = join(m, root);
    await Deno.mkdir(dir, { recursive: true });
    if (m.endsWith("/cpuset")) {
      for (const f of ["cpuset.cpus", "cpuset.mems"]) {
        await Deno.writeTextFile(join(dir, f), await Deno.readTextFile(join(m, f)));
      }
    }
  }
}
