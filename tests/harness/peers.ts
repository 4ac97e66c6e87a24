/**
 * Real peers for the real-node tier: crictl, etcd and kube-apiserver built from the Go module proxy
 * into a cache outside the clone, keyed by name and version
 * (`<cacheDir()>/peers/<name>-<version>/<name>`, see cache.ts),
 * and Debian's containerd, runc and CNI plugins installed with apt-get when root and missing.
 * A peer that cannot be had is a one-line reason, never a crash.
 */

import { join } from "node:path";
import { ensureAptPackages } from "./apt.ts";
import { cacheDir } from "./cache.ts";

/** A peer program built from the Go module proxy. */
export type BuiltPeer = "crictl" | "etcd" | "kube-apiserver" | "crio" | "kubelet";

/** Pinned versions (the ones verified on our machines). */
export const PEER_VERSIONS: Readonly<Record<BuiltPeer, string>> = {
  crictl: "v1.37.0",
  etcd: "v3.7.3",
  "kube-apiserver": "v1.37.2",
  // v1.35.0 is refused by the module proxy (403); v1.34.0 is the one verified here.
  crio: "v1.34.0",
  kubelet: "v1.37.2", // the same as kube-apiserver: one module download, one shared build cache
};

/** Why each build is slow, for the one line printed when it starts. */
const COST: Record<BuiltPeer, string> = {
  crictl: "≈2-6 min cold",
  etcd: "≈2 min cold",
  "kube-apiserver": "≈12-20 min cold, 2.5 GB RSS at link",
  crio: "≈6 min cold, with pinns",
  kubelet: "≈2 min after kube-apiserver, ≈10-15 min fully cold, 2.1 GB RSS at link",
};

/**
 * CRI-O's build tags: no gpgme (openpgp instead) and no btrfs headers on our machines; the rest
 * of the reference's set are no-ops in its containers/image and storage versions.
 */
export const CRIO_TAGS = "containers_image_openpgp exclude_graphdriver_btrfs";

/** Debian packages of the node runtime, and a program each one provides. */
export const APT_PEERS: ReadonlyArray<{ pkg: string; program: string }> = [
  { pkg: "containerd", program: "/usr/bin/containerd" },
  { pkg: "runc", program: "/usr/sbin/runc" },
  { pkg: "containernetworking-plugins", program: "/usr/lib/cni/bridge" },
];

/** Debian packages only the CRI-O node needs: CRI-O's per-container monitor (CRI-O is built). */
export const CRIO_APT_PEERS: ReadonlyArray<{ pkg: string; program: string }> = [
  { pkg: "conmon", program: "/usr/bin/conmon" },
];

const decoder = new TextDecoder();

/**
 * Where a built peer lives once built (it may not exist yet).
 * @example peerPath("etcd") // ".../peers/etcd-v3.7.3/etcd"
 */
export function peerPath(name: BuiltPeer): string {
  return join(cacheDir(), "peers", `${name}-${PEER_VERSIONS[name]}`, name);
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

async function go(args: string[], cwd: string, env: Record<string, string> = {}): Promise<void> {
  const out = await new Deno.Command("nice", {
    args: ["-n", "19", "go", ...args],
    cwd,
    env: { GOTOOLCHAIN: "local", GOFLAGS: "-buildvcs=false", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const err = decoder.decode(out.stderr).trim().split("\n").slice(-5).join(" | ");
    throw new Error(`go ${args.join(" ")} (in ${cwd}) failed: ${err || `exit ${out.code}`}`);
  }
}

async function goOutput(args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command("go", {
    args,
    cwd,
    env: { GOTOOLCHAIN: "local" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`go ${args.join(" ")} failed: ${decoder.decode(out.stderr).trim()}`);
  }
  return decoder.decode(out.stdout);
}

const ETCD_MAIN = `package main

import (
\t"os"

\t"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
`;

/**
 * kube-apiserver's staging modules (k8s.io/api, ...) are `replace`d by ./staging in its go.mod;
 * a wrapper module replaces each with its published v0.<minor>.<patch> instead.
 */
export function wrapperGoMod(module: string, kubernetesGoMod: string, version: string): string {
  const staging = `v0${version.slice(2)}`; // v1.37.2 -> v0.37.2
  const block = /^replace \(\n([\s\S]*?)^\)/m.exec(kubernetesGoMod)?.[1] ?? "";
  const lines = block.split("\n").filter((l) => l.includes("=>")).map((l) =>
    l.trim().split(/\s+/)[0]
  )
    .map((m) => `\t${m} => ${m} ${staging}`);
  if (lines.length === 0) throw new Error("kubernetes go.mod has no replace block");
  return `module ${module}\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes ${version}\n\nreplace (\n${
    lines.join("\n")
  }\n)\n`;
}

async function buildInto(name: BuiltPeer, outDir: string, work: string): Promise<void> {
  const v = PEER_VERSIONS[name];
  const bin = join(outDir, name);
  if (name === "crictl") {
    await go(
      [
        "install",
        "-trimpath",
        "-ldflags",
        `-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=${v}`,
        `sigs.k8s.io/cri-tools/cmd/crictl@${v}`,
      ],
      work,
      { GOBIN: outDir },
    );
    return;
  }
  if (name === "crio") {
    await buildCrio(outDir, work);
    return;
  }
  if (name === "etcd") {
    await Deno.writeTextFile(join(work, "main.go"), ETCD_MAIN);
    await Deno.writeTextFile(join(work, "go.mod"), "module ccpeers/etcd\n\ngo 1.26.0\n");
    await go(["get", `go.etcd.io/etcd/server/v3@${v}`], work);
    await go(["mod", "tidy"], work);
    await go(["build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "."], work);
    return;
  }
  const info = JSON.parse(
    await goOutput(["mod", "download", "-json", `k8s.io/kubernetes@${v}`], work),
  );
  const mod = await Deno.readTextFile(String(info.GoMod));
  await Deno.writeTextFile(join(work, "go.mod"), wrapperGoMod(`ccpeers/${name}`, mod, v));
  await go(["get", `k8s.io/kubernetes/cmd/${name}@${v}`], work);
  const [major, minor] = v.slice(1).split(".");
  const ld = `-s -w -X k8s.io/component-base/version.gitVersion=${v} ` +
    `-X k8s.io/component-base/version.gitMajor=${major} -X k8s.io/component-base/version.gitMinor=${minor}`;
  await go(
    ["build", "-trimpath", "-ldflags", ld, "-o", bin, `k8s.io/kubernetes/cmd/${name}`],
    work,
  );
}

/**
 * CRI-O from its module zip (no vendor/: the dependencies come from the module proxy), and
 * pinns, its static C helper for pinned namespaces, built with its own Makefile; both land in
 * `outDir`.
 */
async function buildCrio(outDir: string, work: string): Promise<void> {
  const v = PEER_VERSIONS.crio;
  const info = JSON.parse(
    await goOutput(["mod", "download", "-json", `github.com/cri-o/cri-o@${v}`], work),
  );
  const src = join(work, "cri-o");
  await sh("cp", ["-r", String(info.Dir), src], work);
  await sh("chmod", ["-R", "u+w", src], work);
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  await go(
    [
      "build",
      "-trimpath",
      "-ldflags",
      `-s -w -X github.com/cri-o/cri-o/internal/version.buildDate=${date}`,
      "-tags",
      CRIO_TAGS,
      "-o",
      join(outDir, "crio"),
      "./cmd/crio",
    ],
    src,
    { GOFLAGS: "-mod=mod -buildvcs=false" },
  );
  await sh("nice", ["-n", "19", "make"], join(src, "pinns"));
  await sh("cp", [join(src, "bin", "pinns"), join(outDir, "pinns")], work);
}

async function sh(cmd: string, args: string[], cwd: string): Promise<void> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (!out.success) {
    const err = decoder.decode(out.stderr).trim().split("\n").slice(-5).join(" | ");
    throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) failed: ${err || `exit ${out.code}`}`);
  }
}

function pidAlive(pid: number): boolean {
  return isFile(`/proc/${pid}/stat`);
}

/** One builder per peer across processes: a lock file holding the builder's PID. */
async function withLock<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      const f = await Deno.open(lock, { write: true, createNew: true });
      await f.write(new TextEncoder().encode(`${Deno.pid}\n`));
      f.close();
      break;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
      const pid = Number((await Deno.readTextFile(lock).catch(() => "")).trim());
      if (!pid || !pidAlive(pid)) {
        await Deno.remove(lock).catch(() => {});
        continue;
      }
      await new Promise((r) => setTimeout(r, 2000)); // another process builds it; wait for it
    }
  }
  try {
    return await fn();
  } finally {
    await Deno.remove(lock).catch(() => {});
  }
}

const inflight = new Map<BuiltPeer, Promise<string>>();

/**
 * The path of a built peer, building it first (niced, one line on stderr) when not cached.
 * Throws with the reason when Go or the module proxy fails.
 * @example const crictl = await ensurePeer("crictl");
 */
export function ensurePeer(
  name: BuiltPeer,
  log: (line: string) => void = (l) => console.error(l),
): Promise<string> {
  const bin = peerPath(name);
  if (isFile(bin)) return Promise.resolve(bin);
  let p = inflight.get(name);
  if (!p) {
    p = buildPeer(name, bin, log);
    inflight.set(name, p);
    p.finally(() => inflight.delete(name)).catch(() => {});
  }
  return p;
}

async function buildPeer(name: BuiltPeer, bin: string, log: (l: string) => void): Promise<string> {
  const dir = join(cacheDir(), "peers");
  await Deno.mkdir(dir, { recursive: true });
  const base = `${name}-${PEER_VERSIONS[name]}`;
  return await withLock(join(dir, `${base}.lock`), async () => {
    if (isFile(bin)) return bin;
    log(
      `peers: building ${name} ${PEER_VERSIONS[name]} from the Go module proxy for the real-peer ` +
        `tests (${COST[name]}, niced); cached afterwards in ${join(dir, base)}`,
    );
    const started = Date.now();
    const work = await Deno.makeTempDir({ dir, prefix: `${base}.work-` });
    const out = await Deno.makeTempDir({ dir, prefix: `${base}.tmp-` });
    try {
      await buildInto(name, out, work);
      await Deno.remove(join(dir, base), { recursive: true }).catch(() => {});
      await Deno.rename(out, join(dir, base));
    } finally {
      await Deno.remove(work, { recursive: true }).catch(() => {});
      await Deno.remove(out, { recursive: true }).catch(() => {});
    }
    log(
      `peers: ${name} ${PEER_VERSIONS[name]} built in ${
        Math.round((Date.now() - started) / 1000)
      } s`,
    );
    return bin;
  });
}

/**
 * Installs containerd, runc and the CNI plugins with apt-get when some are missing and this is
 * root with apt-get; returns null when all are there, else a one-line reason.
 * @example const why = await ensureAptPeers(); if (why) console.log(`skipped: ${why}`);
 */
export function ensureAptPeers(
  log: (line: string) => void = (l) => console.error(l),
): Promise<string | null> {
  return ensureAptPackages(APT_PEERS, "the real-node tests", log);
}

/**
 * Installs conmon (CRI-O's monitor) like ensureAptPeers; null when there, else the reason.
 * @example const why = await ensureCrioAptPeers();
 */
export function ensureCrioAptPeers(
  log: (line: string) => void = (l) => console.error(l),
): Promise<string | null> {
  return ensureAptPackages(CRIO_APT_PEERS, "the CRI-O node of the real-node tests", log);
}

/**
 * Whether Go is on PATH (the peers are built with it).
 * @example if (!(await hasGoToolchain())) console.log("no go");
 */
export async function hasGoToolchain(): Promise<boolean> {
  try {
    return (await new Deno.Command("go", { args: ["version"], stdout: "null", stderr: "null" })
      .output()).success;
  } catch {
    return false;
  }
}

/** The real peers a test tier needs, or the reason it must skip. */
export type PeerSet<K extends BuiltPeer> = { ok: true; paths: Record<K, string> } | {
  ok: false;
  reason: string;
};

/**
 * Every named peer (built when missing) plus the apt peers, or the first reason one is missing.
 * @example const p = await realPeers(["crictl"]); if (!p.ok) console.log(p.reason);
 */
export async function realPeers<K extends BuiltPeer>(names: K[]): Promise<PeerSet<K>> {
  if (Deno.uid() !== 0) return { ok: false, reason: "real peers need root" };
  const apt = await ensureAptPeers();
  if (apt) return { ok: false, reason: apt };
  const paths = {} as Record<K, string>;
  for (const n of names) {
    if (!isFile(peerPath(n)) && !(await hasGoToolchain())) {
      return { ok: false, reason: `${n} is not cached and go is not on PATH to build it` };
    }
    try {
      paths[n] = await ensurePeer(n);
    } catch (e) {
      return { ok: false, reason: `${n} ${PEER_VERSIONS[n]} could not be built: ${String(e)}` };
    }
  }
  return { ok: true, paths };
}
