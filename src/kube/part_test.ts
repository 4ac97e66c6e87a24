import assert from "node:assert/strict";
import { join } from "node:path";
import type { Deps } from "../deps.ts";
import { loadConfig } from "../config.ts";
import { Health } from "../health.ts";
import { createLogger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { createSystem } from "../system.ts";
import { Backoff } from "../backoff.ts";
import { createKubePart, type KubeStatus } from "./part.ts";
import { json, scriptedApi } from "../../tests/doubles/scripted_api.ts";

function deps(root: string, flags: Record<string, string | boolean>, lines: string[]): Deps {
  return {
    config: loadConfig({ "host-root": root, "kube-allow-http": true, ...flags }, {}),
    log: createLogger({ write: (l) => lines.push(l) }),
    metrics: new Metrics(),
    health: new Health(),
    system: createSystem(root),
  };
}

const noHooks = {
  triggerScan: () => {},
  finalPull: () => Promise.resolve(),
  setNodeName: () => {},
};
const noSelf = { selfCmdline: () => Promise.resolve(new Uint8Array()) };

Deno.test("no kubeconfig within --kubeconfig-wait → host-only, ready; a late kubeconfig is still used", async () => {
  await using api = await scriptedApi(() =>
    json({ metadata: { resourceVersion: "1" }, items: [] })
  );
  const lines: string[] = [];
  const d = deps(api.dir, { "kubeconfig-wait": "0s", "node-name": "n1" }, lines);
  const delays: number[] = [];
  const named = Promise.withResolvers<string>();
  const late = join(api.dir, "var/lib/kubelet/kubeconfig");
  const part = createKubePart(d, { ...noHooks, setNodeName: (n) => named.resolve(n) }, {
    ...noSelf,
    sleep: async (ms) => {
      delays.push(ms);
      if (delays.length === 1) {
        // Host-only now, and the status says so while it keeps looking.
        const s = part.status!() as KubeStatus;
        assert.equal(s.mode, "host-only");
        assert.equal(s.watch, "off");
        assert.deepEqual(
          { ready: d.health.get("kube")?.ready, reason: d.health.get("kube")?.reason },
          { ready: true, reason: "host-only: no kubeconfig found (still looking)" },
        );
      }
      if (delays.length === 3) {
        await Deno.mkdir(join(late, ".."), { recursive: true });
        await Deno.copyFile(await api.kubeconfig("    token: t\n"), late);
      }
      return true;
    },
  });
  assert.equal((part.status!() as KubeStatus).mode, "waiting-for-kubeconfig");
  assert.equal(d.metrics.value("coverage_collector_kube_relists_total"), 0);
  assert.match(d.metrics.render(), /coverage_collector_kube_reconnects_total/);
  const ac = new AbortController();
  const running = part.run(ac.signal);
  assert.equal(await named.promise, "n1");
  ac.abort();
  await running;
  assert.deepEqual(delays, [30_000, 30_000, 30_000]);
  assert.equal((part.status!() as KubeStatus).kubeconfigSource, "default");
  assert.equal(lines.filter((l) => l.includes("running host-only")).length, 1);
});

Deno.test("an unusable kubeconfig is a health fault naming the field, retried", async () => {
  const root = await Deno.makeTempDir({ prefix: "kubepart-" });
  const lines: string[] = [];
  try {
    await Deno.mkdir(join(root, "var/lib/kubelet"), { recursive: true });
    await Deno.writeTextFile(join(root, "var/lib/kubelet/kubeconfig"), "current-context: x\n");
    const d = deps(root, {}, lines);
    const ac = new AbortController();
    const set = d.health.set.bind(d.health);
    d.health.set = (p, c) => {
      set(p, c);
      if (c.reason?.startsWith("kubeconfig unusable")) ac.abort();
    };
    const part = createKubePart(d, noHooks, { ...noSelf, backoff: () => new Backoff() });
    await part.run(ac.signal);
    assert.match(
      d.health.get("kube")!.reason!,
      /^kubeconfig unusable: kubeconfig \/var\/lib\/kubelet\/kubeconfig: current-context: no context/,
    );
    const s = part.status!() as KubeStatus;
    assert.equal(s.kubeconfigSource, "default");
    assert.equal(s.kubeconfigPath, join(root, "var/lib/kubelet/kubeconfig"));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("--kube-insecure warns at start; the node name falls back to the host's /etc/hostname", async () => {
  await using api = await scriptedApi((_req, url) =>
    url.pathname.includes("selfsubjectreviews")
      ? json({ status: { userInfo: { username: "admin" } } }, 201)
      : json({ metadata: { resourceVersion: "1" }, items: [] })
  );
  const lines: string[] = [];
  await Deno.mkdir(join(api.dir, "etc"));
  await Deno.writeTextFile(join(api.dir, "etc/hostname"), "node-from-etc\n");
  const d = deps(api.dir, {
    kubeconfig: await api.kubeconfig("    token: t\n"),
    "kube-insecure": true,
  }, lines);
  const named = Promise.withResolvers<string>();
  const part = createKubePart(d, { ...noHooks, setNodeName: (n) => named.resolve(n) }, noSelf);
  const ac = new AbortController();
  const running = part.run(ac.signal);
  assert.equal(await named.promise, "node-from-etc");
  ac.abort();
  await running;
  assert.ok(lines.some((l) => l.includes("level=warn") && l.includes("--kube-insecure")));
  assert.equal((part.status!() as KubeStatus).identitySource, "hostname");
});

Deno.test("mode() says where the kube side is, as /status does", async () => {
  const root = await Deno.makeTempDir({ prefix: "kubepart-" });
  try {
    const d = deps(root, { "kubeconfig-wait": "0s" }, []);
    const ac = new AbortController();
    const seen: string[] = [];
    const part = createKubePart(d, noHooks, {
      ...noSelf,
      sleep: () => {
        seen.push(part.mode(), (part.status!() as KubeStatus).mode);
        ac.abort();
        return Promise.resolve(false);
      },
    });
    seen.push(part.mode());
    await part.run(ac.signal);
    assert.deepEqual(seen, ["waiting-for-kubeconfig", "host-only", "host-only"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
