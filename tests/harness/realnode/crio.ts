/**
 * A private CRI-O for one test run (from the facts of the team's CRI-O recipe): every path
 * under the run directory, a node of its own — mount, network and PID namespaces made by
 * `unshare` — in which /run, /var/lib and /var/log are empty folders of the run directory, the
 * tier's OCI tars put into its storage by skopeo (no registry), and CRI-O started under nodeinit
 * (PID 1 there, reaping each container's double-forked conmon). Nothing here touches the host's
 * /run, /var/lib, /etc/containers or /etc/cni: every file CRI-O or skopeo would read there is
 * named by a flag, an environment variable or this config.
 */

import { join } from "node:path";

/** Paths of one run's CRI-O. */
export interface CrioPaths {
  dir: string;
  socket: string;
  storage: string;
  runroot: string;
  confDir: string;
  crioConf: string;
  storageConf: string;
  registriesConf: string;
  registriesDir: string;
  policy: string;
  hooks: string;
  cniConf: string;
  cniIpam: string;
  podLogs: string;
  run: string;
  lib: string;
  /** Empty folders bound over /run, /var/lib and /var/log inside the node. */
  nsroot: string;
  /** The runc wrapper that clamps a negative oomScoreAdj (see runcClamp). */
  runcWrapper: string;
  crioLog: string;
}

/**
 * The paths of a CRI-O living in `dir`.
 * @example crioPaths("/tmp/ccpeers-a1b2c3-x").socket // "/tmp/ccpeers-a1b2c3-x/crio.sock"
 */
export function crioPaths(dir: string): CrioPaths {
  return {
    dir,
    socket: join(dir, "crio.sock"),
    storage: join(dir, "storage"),
    runroot: join(dir, "runroot"),
    confDir: join(dir, "crio.conf.d"),
    crioConf: join(dir, "crio.conf"),
    storageConf: join(dir, "storage.conf"),
    registriesConf: join(dir, "registries.conf"),
    registriesDir: join(dir, "registries.conf.d"),
    policy: join(dir, "policy.json"),
    hooks: join(dir, "hooks.d"),
    cniConf: join(dir, "cni", "net.d"),
    cniIpam: join(dir, "cni", "ipam"),
    podLogs: join(dir, "podlogs"),
    run: join(dir, "run"),
    lib: join(dir, "lib"),
    nsroot: join(dir, "nsroot"),
    runcWrapper: join(dir, "runc-oomclamp"),
    crioLog: join(dir, "crio.log"),
  };
}

/** The programs a CRI-O node runs. */
export interface CrioPrograms {
  crio: string;
  pinns: string;
  conmon: string;
  runc: string;
  skopeo: string;
  skopeoLibDir: string;
  nodeinit: string;
}

/**
 * crio.conf: cgroupfs, conmon in the pod's cgroup, one runtime "runc" behind the oom clamp,
 * no seccomp/SELinux/AppArmor, no metrics, no NRI, the streaming server on 127.0.0.1 of the
 * node's own network namespace.
 * @example crioConfig(crioPaths(dir), programs, "docker.io/ccpeers/pause:1")
 */
export function crioConfig(p: CrioPaths, b: CrioPrograms, pauseImage: string): string {
  const q = JSON.stringify;
  return `[crio]
root = ${q(p.storage)}
runroot = ${q(p.runroot)}
storage_driver = "overlay"
log_dir = ${q(p.podLogs)}
version_file = ${q(join(p.run, "crio", "version"))}
version_file_persist = ${q(join(p.lib, "crio", "version"))}
clean_shutdown_file = ${q(join(p.lib, "crio", "clean.shutdown"))}

[crio.api]
listen = ${q(p.socket)}
stream_address = "127.0.0.1"
stream_port = "0"

[crio.runtime]
default_runtime = "runc"
cgroup_manager = "cgroupfs"
conmon = ${q(b.conmon)}
conmon_cgroup = "pod"
conmon_env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
pinns_path = ${q(b.pinns)}
namespaces_dir = ${q(join(p.run, "ns"))}
container_exits_dir = ${q(join(p.run, "crio", "exits"))}
container_attach_socket_dir = ${q(join(p.run, "crio"))}
hooks_dir = [${q(p.hooks)}]
default_mounts_file = ""
selinux = false
seccomp_profile = ""
apparmor_profile = ""
log_to_journald = false
enable_criu_support = false

[crio.runtime.runtimes.runc]
runtime_path = ${q(p.runcWrapper)}
runtime_type = "oci"
runtime_root = ${q(join(p.run, "runc"))}
monitor_path = ${q(b.conmon)}
monitor_cgroup = "pod"

[crio.image]
default_transport = "docker://"
pause_image = ${q(pauseImage)}
pause_command = "/pause"
signature_policy = ${q(p.policy)}
signature_policy_dir = ${q(join(p.dir, "policies"))}
decryption_keys_path = ${q(join(p.dir, "keys"))}
global_auth_file = ""

[crio.network]
network_dir = ${q(p.cniConf)}
plugin_dirs = ["/usr/lib/cni"]

[crio.metrics]
enable_metrics = false

[crio.nri]
enable_nri = false
`;
}

/** containers-storage's config: `graphroot`, not `root` (CRI-O 1.34 refuses `root`). */
export function storageConf(p: CrioPaths): string {
  return `[storage]\ndriver = "overlay"\ngraphroot = ${JSON.stringify(p.storage)}\nrunroot = ${
    JSON.stringify(p.runroot)
  }\n`;
}

/** No registry is ever asked: no search registries, short names refused. */
export const REGISTRIES_CONF = 'unqualified-search-registries = []\nshort-name-mode = "disabled"\n';

/** Any image is accepted (they are all made by the test). */
export const POLICY_JSON = '{"default":[{"type":"insecureAcceptAnything"}]}\n';

/** Linux capability names by bit number (capability.h, 0 … 40). */
const CAP_NAMES = [
  "CHOWN",
  "DAC_OVERRIDE",
  "DAC_READ_SEARCH",
  "FOWNER",
  "FSETID",
  "KILL",
  "SETGID",
  "SETUID",
  "SETPCAP",
  "LINUX_IMMUTABLE",
  "NET_BIND_SERVICE",
  "NET_BROADCAST",
  "NET_ADMIN",
  "NET_RAW",
  "IPC_LOCK",
  "IPC_OWNER",
  "SYS_MODULE",
  "SYS_RAWIO",
  "SYS_CHROOT",
  "SYS_PTRACE",
  "SYS_PACCT",
  "SYS_ADMIN",
  "SYS_BOOT",
  "SYS_NICE",
  "SYS_RESOURCE",
  "SYS_TIME",
  "SYS_TTY_CONFIG",
  "MKNOD",
  "LEASE",
  "AUDIT_WRITE",
  "AUDIT_CONTROL",
  "SETFCAP",
  "MAC_OVERRIDE",
  "MAC_ADMIN",
  "SYSLOG",
  "WAKE_ALARM",
  "BLOCK_SUSPEND",
  "AUDIT_READ",
  "PERFMON",
  "BPF",
  "CHECKPOINT_RESTORE",
];

/**
 * The capabilities (`CAP_…`) a bounding set (the hex of /proc/self/status `CapBnd:`) lacks:
 * a privileged container asks for all of them, and runc fails with EPERM on any this root lacks.
 * @example capsOutside("000001fffeffffff") // ["CAP_SYS_RESOURCE"]
 */
export function capsOutside(capBndHex: string): string[] {
  const held = BigInt(`0x${capBndHex.trim()}`);
  return CAP_NAMES.filter((_, bit) => (held & (1n << BigInt(bit))) === 0n).map((n) => `CAP_${n}`);
}

/**
 * A runc wrapper: root here lacks CAP_SYS_RESOURCE, so a negative oomScoreAdj (CRI-O hard-codes
 * -998 for the infra container; the kubelet asks -997 for Guaranteed pods) fails with EPERM.
 * It sets such values to 0 in the bundle's config.json, and takes the capabilities in `drop`
 * (see capsOutside) out of its capability lists (a privileged container asks for all), then
 * execs runc.
 * @example runcClamp("/usr/sbin/runc", ["CAP_SYS_RESOURCE"])
 */
export function runcClamp(runc: string, drop: string[] = []): string {
  const caps = drop.filter((c) => /^CAP_[A-Z_]+$/.test(c))
    .map((c) => ` -e 's/"${c}"[[:space:]]*,?[[:space:]]*//g'`).join("");
  const capSed = caps
    ? `
  sed -z -i -E${caps} -e 's/,([[:space:]]*)\\]/\\1]/g' "$bundle/config.json"`
    : "";
  return `#!/bin/sh
bundle=""; prev=""
for a in "$@"; do
  case "$prev" in --bundle|-b) bundle="$a";; esac
  case "$a" in --bundle=*) bundle="\${a#--bundle=}";; esac
  prev="$a"
done
if [ -n "$bundle" ] && [ -f "$bundle/config.json" ]; then
  sed -i -E 's/"oomScoreAdj": *-[0-9]+/"oomScoreAdj":0/' "$bundle/config.json"${capSed}
fi
exec ${runc} "$@"
`;
}

/** An image to put into the node's storage: an OCI archive and the reference it gets. */
export interface CrioImage {
  tar: string;
  ref: string;
}

/**
 * The command line that makes the node and starts CRI-O in it: `unshare` (mount, network, PID;
 * a fresh /proc), the empty /run, /var/lib and /var/log, loopback up, the images copied in, then
 * nodeinit → crio.
 * @example crioLaunch(crioPaths(dir), programs, [{ tar, ref: "docker.io/ccpeers/pause:1" }])
 */
export function crioLaunch(p: CrioPaths, b: CrioPrograms, images: CrioImage[]): string[] {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const binds = [["run", "/run"], ["varlib", "/var/lib"], ["varlog", "/var/log"]].map(([d, t]) =>
    `mkdir -p ${q(join(p.nsroot, d))} && mount --bind ${q(join(p.nsroot, d))} ${t}`
  );
  const env = `CONTAINERS_STORAGE_CONF=${q(p.storageConf)} CONTAINERS_REGISTRIES_CONF=${
    q(p.registriesConf)
  }`;
  const copies = images.map((i) =>
    `${env} LD_LIBRARY_PATH=${q(b.skopeoLibDir)} nice -n 19 ${q(b.skopeo)} --policy ${
      q(p.policy)
    } copy -q oci-archive:${q(i.tar)} ${
      q(`containers-storage:[overlay@${p.storage}+${p.runroot}]${i.ref}`)
    }`
  );
  const crio = [
    b.crio,
    "--config",
    p.crioConf,
    "--config-dir",
    p.confDir,
    "--registries-conf",
    p.registriesConf,
    "--registries-conf-dir",
    p.registriesDir,
    "--log-level",
    "info",
  ].map(q).join(" ");
  const script = [
    "set -e",
    "mount --make-rprivate /",
    ...binds,
    "ip link set lo up",
    ...copies,
    `exec env ${env} ${q(b.nodeinit)} ${crio}`,
  ].join("\n");
  return [
    "unshare",
    "--mount",
    "--net",
    "--pid",
    "--fork",
    "--mount-proc",
    "--propagation",
    "private",
    "sh",
    "-c",
    script,
  ];
}
