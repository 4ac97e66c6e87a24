/** The pure parts of the real-node harness: tar, OCI layout, configs, CRI log lines, go.mod. */

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { tar } from "./tar.ts";
import { ociImageTar } from "./oci.ts";
import { cniConflist, containerdConfig, containerdLaunch, containerdPaths } from "./containerd.ts";
import { containerConfig, podConfig, portInCriLog } from "./specs.ts";
import { capsOutside, runcClamp } from "./crio.ts";
import { peerPath, wrapperGoMod } from "../peers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function untar(data: Uint8Array): Promise<{ dir: string; listing: string }> {
  const dir = await Deno.makeTempDir({ prefix: "cc-tar-" });
  await Deno.writeFile(join(dir, "x.tar"), data);
  const out = await new Deno.Command("tar", {
    args: ["-xvf", "x.tar", "-C", dir],
    cwd: dir,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, dec.decode(out.stderr));
  return { dir, listing: dec.decode(out.stdout) };
}

Deno.test("tar writes directories and files GNU tar reads back, with their bytes and modes", async () => {
  const { dir, listing } = await untar(tar([
    { path: "etc" },
    { path: "bin" },
    { path: "bin/run", data: enc.encode("#!/bin/sh\n"), mode: 0o755 },
    { path: "big", data: new Uint8Array(1500).fill(7) },
  ]));
  try {
    assert.deepEqual(listing.trim().split("\n"), ["etc/", "bin/", "bin/run", "big"]);
    assert.equal(await Deno.readTextFile(join(dir, "bin/run")), "#!/bin/sh\n");
    assert.equal((await Deno.stat(join(dir, "bin/run"))).mode! & 0o777, 0o755);
    assert.deepEqual(await Deno.readFile(join(dir, "big")), new Uint8Array(1500).fill(7));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tar puts a path past 100 bytes into the ustar prefix; GNU tar reads it whole", async () => {
  const long = `${"d".repeat(60)}/${"e".repeat(60)}/${"f".repeat(70)}.js`;
  const { dir, listing } = await untar(tar([{ path: long, data: enc.encode("x") }]));
  try {
    assert.deepEqual(listing.trim().split("\n"), [long]);
    assert.equal(await Deno.readTextFile(join(dir, long)), "x");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ociImageTar: nested files get their folders in the layer, WorkingDir in the config", async () => {
  const { dir } = await untar(ociImageTar({
    ref: "docker.io/ccpeers/y:1",
    files: { "a/b/c": enc.encode("c"), "a/d": enc.encode("d") },
    entrypoint: ["/a/b/c"],
    workingDir: "/a",
  }));
  try {
    const index = JSON.parse(await Deno.readTextFile(join(dir, "index.json")));
    const read = (digest: string) =>
      Deno.readFile(join(dir, "blobs/sha256", digest.slice("sha256:".length)));
    const manifest = JSON.parse(dec.decode(await read(index.manifests[0].digest)));
    const config = JSON.parse(dec.decode(await read(manifest.config.digest)));
    assert.equal(config.config.WorkingDir, "/a");
    const layer = await untar(await read(manifest.layers[0].digest));
    try {
      const names = layer.listing.trim().split("\n");
      assert.ok(names.indexOf("a/") < names.indexOf("a/b/"), names.join(" "));
      assert.ok(names.indexOf("a/b/") < names.indexOf("a/b/c"), names.join(" "));
      assert.equal(names.filter((n) => n === "a/").length, 1, names.join(" "));
    } finally {
      await Deno.remove(layer.dir, { recursive: true });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ociImageTar: index → manifest → config and layer, digests and diff_ids agree", async () => {
  const bin = enc.encode("binary bytes");
  const { dir } = await untar(
    ociImageTar({ ref: "docker.io/ccpeers/x:1", files: { x: bin }, entrypoint: ["/x"] }),
  );
  try {
    const blob = async (digest: string) => {
      const data = await Deno.readFile(join(dir, "blobs/sha256", digest.slice("sha256:".length)));
      assert.equal(`sha256:${createHash("sha256").update(data).digest("hex")}`, digest);
      return data;
    };
    const index = JSON.parse(await Deno.readTextFile(join(dir, "index.json")));
    assert.equal(
      index.manifests[0].annotations["io.containerd.image.name"],
      "docker.io/ccpeers/x:1",
    );
    assert.equal(index.manifests[0].annotations["org.opencontainers.image.ref.name"], "1");
    const manifest = JSON.parse(dec.decode(await blob(index.manifests[0].digest)));
    const config = JSON.parse(dec.decode(await blob(manifest.config.digest)));
    assert.deepEqual(config.config.Entrypoint, ["/x"]);
    assert.deepEqual(config.rootfs.diff_ids, [manifest.layers[0].digest]);
    const layer = await untar(await blob(manifest.layers[0].digest));
    try {
      assert.deepEqual(await Deno.readFile(join(layer.dir, "x")), bin);
      assert.ok((await Deno.stat(join(layer.dir, "tmp"))).isDirectory);
    } finally {
      await Deno.remove(layer.dir, { recursive: true });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runcClamp: the real sh and sed drop the caps this root lacks and clamp oomScoreAdj", async () => {
  assert.deepEqual(capsOutside("000001fffeffffff"), ["CAP_SYS_RESOURCE"]);
  assert.deepEqual(capsOutside("1ffffffffff"), []);
  const dir = await Deno.makeTempDir({ prefix: "cc-clamp-" });
  try {
    const all = ["CAP_CHOWN", "CAP_SYS_RESOURCE", "CAP_KILL", "CAP_SYS_TIME"];
    const caps = { bounding: all, effective: all, permitted: ["CAP_KILL", "CAP_SYS_RESOURCE"] };
    // Both layouts a runtime writes: indented and compact.
    for (
      const text of [
        JSON.stringify({ process: { capabilities: caps, oomScoreAdj: -998 } }, null, 2),
        JSON.stringify({ process: { capabilities: caps, oomScoreAdj: -998 } }),
      ]
    ) {
      await Deno.writeTextFile(join(dir, "config.json"), text);
      await Deno.writeTextFile(
        join(dir, "w"),
        runcClamp("true", ["CAP_SYS_RESOURCE", "CAP_SYS_TIME"]),
      );
      const st = await new Deno.Command("sh", {
        args: [join(dir, "w"), "create", "--bundle", dir, "x"],
      }).output();
      assert.ok(st.success, new TextDecoder().decode(st.stderr));
      const got = JSON.parse(await Deno.readTextFile(join(dir, "config.json")));
      assert.deepEqual(got.process.capabilities, {
        bounding: ["CAP_CHOWN", "CAP_KILL"],
        effective: ["CAP_CHOWN", "CAP_KILL"],
        permitted: ["CAP_KILL"],
      });
      assert.equal(got.process.oomScoreAdj, 0);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("containerd config keeps everything in the run dir and restricts oom_score_adj", () => {
  const p = containerdPaths("/tmp/ccpeers-abc");
  const toml = containerdConfig(p, "docker.io/ccpeers/pause:1");
  for (
    const want of [
      'root = "/tmp/ccpeers-abc/ctrd/root"',
      'address = "/tmp/ccpeers-abc/containerd.sock"',
      "restrict_oom_score_adj = true",
      "netns_mounts_under_state_dir = true",
      'Root = "/tmp/ccpeers-abc/ctrd/runc"',
      'conf_dir = "/tmp/ccpeers-abc/cni/net.d"',
    ]
  ) assert.ok(toml.includes(want), want);
  const launch = containerdLaunch(p, "/tmp/ccpeers-abc/containerd.toml");
  assert.deepEqual(launch.slice(0, 4), ["unshare", "-m", "--propagation", "private"]);
  assert.match(
    launch[6],
    /upperdir=\/tmp\/ccpeers-abc\/ov\/var-lib\/up,\S+ \/var\/lib; exec containerd /,
  );
  const cni = JSON.parse(
    cniConflist({ name: "n", bridge: "ccp-abc", subnet: "10.77.9.0/24", ipamDir: "/d" }),
  );
  assert.equal(cni.plugins[0].ipMasq, false);
  assert.deepEqual(cni.plugins[0].ipam.ranges, [[{
    subnet: "10.77.9.0/24",
    gateway: "10.77.9.1",
  }]]);
});

Deno.test("pod and container configs carry the kubelet's labels and namespace modes", () => {
  const pod = { name: "web", namespace: "ns", uid: "u1" };
  const host = podConfig({ ...pod, hostNetwork: true, logDirectory: "/l", cgroupParent: "/c/p" });
  assert.deepEqual(host.linux, {
    cgroup_parent: "/c/p",
    security_context: { namespace_options: { network: 2, pid: 1, ipc: 0 } },
  });
  const c = containerConfig({
    pod,
    name: "app",
    attempt: 1,
    image: "i",
    env: { A: "1" },
    logPath: "app_1.log",
    hostNetwork: false,
  });
  assert.deepEqual(c.labels, {
    "io.kubernetes.pod.name": "web",
    "io.kubernetes.pod.namespace": "ns",
    "io.kubernetes.pod.uid": "u1",
    "io.kubernetes.container.name": "app",
  });
  assert.deepEqual(c.envs, [{ key: "A", value: "1" }]);
});

Deno.test("portInCriLog reads stdout lines of the CRI log format only", () => {
  const log = "2026-11-29T12:00:00.1Z stderr F coverage-port=1\n" +
    "2026-11-29T12:00:00.2Z stdout F coverage-port=53700\n" +
    "2026-11-29T12:00:00.3Z stdout F app-port=18080\n";
  assert.equal(portInCriLog(log, "coverage-port"), 53700);
  assert.equal(portInCriLog(log, "app-port"), 18080);
  assert.equal(portInCriLog("garbage\n", "app-port"), null);
});

Deno.test("wrapperGoMod replaces every staging module by its published version", () => {
  const mod = "module k8s.io/kubernetes\n\ngo 1.26.0\n\nrequire (\n\tk8s.io/api v0.0.0\n)\n\n" +
    "replace (\n\tk8s.io/api => ./staging/src/k8s.io/api\n\tk8s.io/apimachinery => ./staging/src/k8s.io/apimachinery\n)\n";
  assert.equal(
    wrapperGoMod("ccpeers/kas", mod, "v1.37.2"),
    "module ccpeers/kas\n\ngo 1.26.0\n\nrequire k8s.io/kubernetes v1.37.2\n\nreplace (\n" +
      "\tk8s.io/api => k8s.io/api v0.37.2\n\tk8s.io/apimachinery => k8s.io/apimachinery v0.37.2\n)\n",
  );
  assert.throws(() => wrapperGoMod("m", "module x\n", "v1.37.2"), /no replace block/);
});

Deno.test("peer binaries are cached by name and version under COVERAGE_COLLECTOR_CACHE", () => {
  const old = Deno.env.get("COVERAGE_COLLECTOR_CACHE");
  Deno.env.set("COVERAGE_COLLECTOR_CACHE", "/var/cache/cc");
  try {
    assert.equal(peerPath("etcd"), "/var/cache/cc/peers/etcd-v3.7.3/etcd");
    assert.equal(
      peerPath("kube-apiserver"),
      "/var/cache/cc/peers/kube-apiserver-v1.37.2/kube-apiserver",
    );
  } finally {
    if (old === undefined) Deno.env.delete("COVERAGE_COLLECTOR_CACHE");
    else Deno.env.set("COVERAGE_COLLECTOR_CACHE", old);
  }
});
