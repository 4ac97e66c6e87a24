import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../config.ts";
import { createLogger } from "../log.ts";
import { createSystem } from "../system.ts";
import {
  argv0Name,
  findKubeconfig,
  kubeconfigFromCmdline,
  waitForKubeconfig,
} from "./kubeconfig_source.ts";

import { SAMPLES as samples } from "../../tests/testdata/samples.ts";
const enc = (s: string) => new TextEncoder().encode(s);
const noSelf = () => Promise.resolve(enc("/bin/collector\0run\0"));

Deno.test("kubeconfigFromCmdline reads the kubelet sample and skips --bootstrap-kubeconfig", () => {
  const bytes = Deno.readFileSync(new URL("kubelet-cmdline.bin", samples));
  assert.equal(kubeconfigFromCmdline(bytes), "/var/lib/kubelet/kubeconfig");
  assert.equal(argv0Name(bytes), "kubelet");
});

Deno.test("kubeconfigFromCmdline takes both --flag=value and --flag value, last wins", () => {
  assert.equal(kubeconfigFromCmdline(enc("x\0--kubeconfig\0/a\0-v\0")), "/a");
  assert.equal(kubeconfigFromCmdline(enc("x\0-kubeconfig=/a\0--kubeconfig=/b\0")), "/b");
  assert.equal(kubeconfigFromCmdline(enc("x\0--kubeconfig\0")), undefined);
  assert.equal(kubeconfigFromCmdline(enc("x\0--kubeconfig=\0")), undefined);
  assert.equal(kubeconfigFromCmdline(enc("--kubeconfig=/argv0\0")), undefined);
  assert.equal(kubeconfigFromCmdline(enc("x\0--kubeconfig-dir=/a\0")), undefined);
});

async function hostTree(files: Record<string, string | Uint8Array>): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "kubesrc-" });
  for (const [p, content] of Object.entries(files)) {
    await Deno.mkdir(join(root, p, ".."), { recursive: true });
    if (typeof content === "string") await Deno.writeTextFile(join(root, p), content);
    else await Deno.writeFile(join(root, p), content);
  }
  return root;
}

Deno.test("the running kubelet's --kubeconfig wins over the default, under the host root", async () => {
  const root = await hostTree({
    "proc/1/cmdline": enc("/sbin/init\0"),
    "proc/77/cmdline": enc("/usr/bin/kubelet\0--kubeconfig\0/etc/k/kubelet.conf\0"),
    "proc/77/cgroup": "0::/system.slice/kubelet.service\n",
    "proc/self/cmdline": enc("not a pid dir\0"),
    "etc/k/kubelet.conf": "x",
    "var/lib/kubelet/kubeconfig": "x",
  });
  for (const pid of ["1", "77"]) {
    await Deno.mkdir(join(root, "proc", pid, "ns"));
    for (const [n, id] of [["pid", 1], ["net", 2], ["mnt", 3]] as const) {
      await Deno.symlink(`${n}:[402653183${id}]`, join(root, "proc", pid, "ns", n));
    }
  }
  try {
    const found = await findKubeconfig(createSystem(root), loadConfig({}, {}), {
      selfCmdline: noSelf,
    });
    assert.deepEqual(found, { source: "kubelet-cmdline", path: "/etc/k/kubelet.conf", root });
    await Deno.remove(join(root, "proc/77"), { recursive: true });
    const fallback = await findKubeconfig(createSystem(root), loadConfig({}, {}), {
      selfCmdline: noSelf,
    });
    assert.deepEqual(fallback, { source: "default", path: "/var/lib/kubelet/kubeconfig", root });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("own --kubeconfig (not under host root) and the setting come first", async () => {
  const root = await hostTree({ "var/lib/kubelet/kubeconfig": "x", "mine/kc": "x" });
  try {
    const own = join(root, "mine/kc");
    const self = () => Promise.resolve(enc(`deno\0run\0main.ts\0--kubeconfig=${own}\0`));
    const sys = createSystem(root);
    assert.deepEqual(await findKubeconfig(sys, loadConfig({}, {}), { selfCmdline: self }), {
      source: "self-cmdline",
      path: own,
      root: "/",
    });
    const viaSetting = await findKubeconfig(sys, loadConfig({ kubeconfig: "/mine/kc" }, {}), {
      selfCmdline: self,
    });
    assert.deepEqual(viaSetting, { source: "setting", path: "/mine/kc", root });
    const missing = await findKubeconfig(sys, loadConfig({ kubeconfig: "/nope" }, {}), {
      selfCmdline: noSelf,
    });
    assert.equal(missing, undefined, "an explicit path that is missing is not replaced");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("waitForKubeconfig polls until the file appears", async () => {
  const root = await hostTree({ "proc/1/cmdline": enc("init\0") });
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) });
  try {
    const deps = { system: createSystem(root), config: loadConfig({}, {}), log };
    const waiting = waitForKubeconfig(deps, {
      signal: new AbortController().signal,
      waitMs: 60_000,
      pollMs: 10,
      selfCmdline: noSelf,
    });
    await Deno.mkdir(join(root, "var/lib/kubelet"), { recursive: true });
    await Deno.writeTextFile(join(root, "var/lib/kubelet/kubeconfig"), "x");
    assert.equal((await waiting)?.source, "default");
    assert.ok(lines.some((l) => l.includes("kubeconfig found") && l.includes("source=default")));

    const ac = new AbortController();
    ac.abort();
    const aborted = await waitForKubeconfig({
      ...deps,
      config: loadConfig({ kubeconfig: "/x" }, {}),
    }, {
      signal: ac.signal,
      waitMs: 60_000,
    });
    assert.equal(aborted, undefined);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("past the wait it goes host-only once and keeps looking, slowly, until found", async () => {
  const root = await hostTree({ "proc/1/cmdline": enc("init\0") });
  const lines: string[] = [];
  const log = createLogger({ write: (l) => lines.push(l) });
  let clock = 0;
  const delays: number[] = [];
  let hostOnly = 0;
  try {
    const system = { ...createSystem(root), now: () => clock };
    const found = await waitForKubeconfig({ system, config: loadConfig({}, {}), log }, {
      signal: new AbortController().signal,
      waitMs: 5_000,
      pollMs: 2_000,
      slowPollMs: 30_000,
      selfCmdline: noSelf,
      onHostOnly: () => hostOnly++,
      sleep: async (ms) => {
        delays.push(ms);
        clock += ms;
        // The kubelet's certificate is approved an hour after boot.
        if (clock >= 3_600_000) {
          await Deno.mkdir(join(root, "var/lib/kubelet"), { recursive: true });
          await Deno.writeTextFile(join(root, "var/lib/kubelet/kubeconfig"), "x");
        }
        return true;
      },
    });
    assert.equal(found?.source, "default");
    assert.equal(hostOnly, 1);
    // 2 s, 2 s, 1 s to the end of the wait, then every 30 s for the rest of the hour.
    assert.deepEqual(delays.slice(0, 4), [2_000, 2_000, 1_000, 30_000]);
    assert.ok(delays.slice(3).every((d) => d === 30_000));
    assert.equal(clock, 3_605_000);
    assert.equal(lines.filter((l) => l.includes("running host-only")).length, 1);
    assert.ok(lines.some((l) => l.includes("kubeconfig found") && l.includes("waitedMs=3605000")));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
