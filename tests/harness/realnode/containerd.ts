/**
 * A private containerd for one test run: its own root, state, sockets, runc root and CNI config
 * under the run directory, a bridge of its own in 10.77.0.0/16, and a private mount namespace in
 * which /run and /var/lib are overlays whose writes land in the run directory — so the shim
 * sockets (`/run/containerd/s`, hard-coded in containerd 1.6) and libcni's cache (`/var/lib/cni`)
 * never touch the host.
 */

import { join } from "node:path";

/** Paths of one run's containerd. */
export interface ContainerdPaths {
  dir: string;
  root: string;
  state: string;
  socket: string;
  runcRoot: string;
  cniConf: string;
  cniIpam: string;
  podLogs: string;
  overlays: string;
}

/**
 * The paths of a containerd living in `dir`.
 * @example containerdPaths("/tmp/ccpeers-a1b2c3").socket // "/tmp/ccpeers-a1b2c3/containerd.sock"
 */
export function containerdPaths(dir: string): ContainerdPaths {
  return {
    dir,
    root: join(dir, "ctrd", "root"),
    state: join(dir, "ctrd", "state"),
    socket: join(dir, "containerd.sock"),
    runcRoot: join(dir, "ctrd", "runc"),
    cniConf: join(dir, "cni", "net.d"),
    cniIpam: join(dir, "cni", "ipam"),
    podLogs: join(dir, "podlogs"),
    overlays: join(dir, "ov"),
  };
}

/**
 * containerd 1.6 config (version 2). `restrict_oom_score_adj` is required where root lacks
 * CAP_SYS_RESOURCE (runc otherwise fails: `can't get final child's PID from pipe: EOF`).
 * @example containerdConfig(containerdPaths(dir), "docker.io/ccpeers/pause:1")
 */
export function containerdConfig(p: ContainerdPaths, sandboxImage: string): string {
  const q = JSON.stringify;
  return `version = 2
root = ${q(p.root)}
state = ${q(p.state)}
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.internal.v1.opt", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = ${q(p.socket)}

[ttrpc]
  address = ${q(`${p.socket}.ttrpc`)}

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = ${q(sandboxImage)}
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_selinux = false
    disable_apparmor = true
    restrict_oom_score_adj = true
    max_concurrent_downloads = 1
    netns_mounts_under_state_dir = true
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = false
          BinaryName = "/usr/sbin/runc"
          Root = ${q(p.runcRoot)}
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = ${q(p.cniConf)}
      max_conf_num = 1
`;
}

/**
 * A CNI bridge network that touches no iptables (`ipMasq: false`): bridge `bridge`, gateway .1
 * of `subnet` (a /24).
 * @example cniConflist({ name: "ccpeers-a1b2c3", bridge: "ccp-a1b2c3", subnet: "10.77.5.0/24", ipamDir })
 */
export function cniConflist(
  o: { name: string; bridge: string; subnet: string; ipamDir: string },
): string {
  const gateway = o.subnet.replace(/\.0\/24$/, ".1");
  return JSON.stringify(
    {
      cniVersion: "0.4.0",
      name: o.name,
      plugins: [{
        type: "bridge",
        bridge: o.bridge,
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        ipam: {
          type: "host-local",
          dataDir: o.ipamDir,
          ranges: [[{ subnet: o.subnet, gateway }]],
          routes: [{ dst: "0.0.0.0/0" }],
        },
      }],
    },
    null,
    2,
  );
}

/**
 * The shell line run under `unshare -m`: overlays on /run and /var/lib (writes go to the run
 * directory), then containerd.
 * @example containerdLaunch(containerdPaths(dir), `${dir}/config.toml`)
 */
export function containerdLaunch(p: ContainerdPaths, config: string): string[] {
  const mounts = ["/run", "/var/lib"].map((target) => {
    const base = join(p.overlays, target.slice(1).replace("/", "-"));
    return `mkdir -p ${base}/up ${base}/work && mount -t overlay overlay ` +
      `-o lowerdir=${target},upperdir=${base}/up,workdir=${base}/work ${target}`;
  });
  return [
    "unshare",
    "-m",
    "--propagation",
    "private",
    "sh",
    "-c",
    `set -e; ${mounts.join(" && ")}; exec containerd --config ${config}`,
  ];
}
