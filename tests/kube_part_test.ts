/** The kube part against the fake API server (tests/fixtures/fakekube): identity, list+watch, faults. */

import assert from "node:assert/strict";
import type { Deps } from "../src/deps.ts";
import { loadConfig } from "../src/config.ts";
import { Health } from "../src/health.ts";
import { createLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { createSystem } from "../src/system.ts";
import { Backoff } from "../src/backoff.ts";
import { createKubePart, type KubeStatus } from "../src/kube/part.ts";
import { hasGo } from "./harness/gobuild.ts";
import { type FakeKube, startFakeKube } from "./harness/kubeapi.ts";

const ignore = !(await hasGo());
const t = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name: `kube part: ${name}`, ignore, fn }); // ignored: needs Go to build the fake

type Call =
  | { hook: "scan"; reason: string }
  | { hook: "final"; uid: string; reason: string }
  | { hook: "node"; name: string };

/** Runs the kube part against `kube`; every hook call is recorded and can be awaited. */
function runPart(kube: FakeKube, flags: Record<string, string> = {}) {
  const calls: Call[] = [];
  const waiters: Array<() => void> = [];
  const lines: string[] = [];
  const config = loadConfig({ kubeconfig: kube.kubeconfigPath, ...flags }, {});
  const deps: Deps = {
    config,
    log: createLogger({ level: "debug", write: (l) => lines.push(l) }),
    metrics: new Metrics(),
    health: new Health(),
    system: createSystem("/"),
  };
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  const record = (c: Call) => {
    calls.push(c);
    wake();
  };
  const set = deps.health.set.bind(deps.health);
  deps.health.set = (part, c) => {
    set(part, c);
    wake();
  };
  const part = createKubePart(deps, {
    triggerScan: (reason) => record({ hook: "scan", reason }),
    finalPull: (uid, reason) => Promise.resolve(record({ hook: "final", uid, reason })),
    setNodeName: (name) => record({ hook: "node", name }),
  }, {
    backoff: () => new Backoff({ initialMs: 20, maxMs: 200 }),
    selfCmdline: () => Promise.resolve(new Uint8Array()),
    watcher: { backoff: new Backoff({ initialMs: 20, maxMs: 200 }) },
  });
  const ac = new AbortController();
  const running = part.run(ac.signal);
  /** Resolves once `pred` holds for the calls so far (30 s cap, with what was seen on failure). */
  const until = async (what: string, pred: (calls: Call[]) => boolean) => {
    const deadline = AbortSignal.timeout(30_000);
    while (!pred(calls)) {
      if (deadline.aborted) {
        throw new Error(
          `timed out waiting for ${what}; calls: ${JSON.stringify(calls)}\n` +
            `status: ${JSON.stringify(part.status!())}\nlog:\n${lines.join("\n")}`,
        );
      }
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        deadline.addEventListener("abort", () => resolve(), { once: true });
      });
    }
  };
  /** Waits for the `n`th scan whose reason includes `text`. */
  const scanned = (text: string, n = 1) =>
    until(
      `${text} (#${n})`,
      (cs) => cs.filter((c) => c.hook === "scan" && c.reason.includes(text)).length >= n,
    );
  return {
    calls,
    deps,
    lines,
    until,
    scanned,
    status: () => part.status!() as KubeStatus,
    async stop() {
      ac.abort();
      await running;
    },
  };
}

t(
  "kubelet-style kubeconfig (same-file SEC1 pem behind a symlink): SSR v1 names the node",
  async () => {
    await using kube = await startFakeKube({ nodeName: "node-a", requireClientCert: true });
    const p = runPart(kube);
    try {
      await p.until("node name", (cs) => cs.some((c) => c.hook === "node"));
      assert.deepEqual(p.calls.find((c) => c.hook === "node"), { hook: "node", name: "node-a" });
      await p.scanned("pod list");
      const s = p.status();
      assert.equal(s.identitySource, "selfsubjectreview-v1");
      assert.equal(s.kubeconfigSource, "setting");
      assert.equal(s.mode, "full");
      assert.equal(p.deps.health.get("kube")?.ready, true);
      const reqs = await kube.requests();
      const ssr = reqs.find((r) => r.path.includes("selfsubjectreviews"))!;
      assert.equal(ssr.auth, "cert");
      assert.equal(ssr.user, "system:node:node-a");
      const list = reqs.find((r) => r.path === "/api/v1/pods")!;
      assert.match(list.query, /fieldSelector=spec\.nodeName%3Dnode-a/);
    } finally {
      await p.stop();
    }
  },
);

t("SSR v1 404 → v1beta1; token, tokenFile, inline and relative kubeconfigs work", async () => {
  await using kube = await startFakeKube({ nodeName: "node-b" });
  await kube.setSsrV1(false);
  for (
    const path of [
      kube.kubeconfigInlinePath,
      kube.tokenKubeconfigPath,
      kube.tokenFileKubeconfigPath,
      kube.kubeconfigRelativePath,
    ]
  ) {
    const p = runPart(kube, { kubeconfig: path });
    try {
      await p.scanned("pod list");
      assert.equal(p.status().nodeName, "node-b", path);
      assert.equal(p.status().identitySource, "selfsubjectreview-v1beta1", path);
    } finally {
      await p.stop();
    }
  }
});

t("503 at start is retried until the API server answers", async () => {
  await using kube = await startFakeKube({ nodeName: "node-a" });
  await kube.fail503(3);
  const p = runPart(kube);
  try {
    await p.scanned("pod list");
    assert.equal(p.status().nodeName, "node-a");
    const reqs = await kube.requests();
    assert.equal(reqs.filter((r) => r.status === 503).length, 3);
    assert.ok(p.lines.some((l) => l.includes("retrying")));
  } finally {
    await p.stop();
  }
});

t("list then watch: events in order, deletion → one final pull with the uid", async () => {
  await using kube = await startFakeKube({ nodeName: "node-a" });
  const early = await kube.addPod({ namespace: "ns1", name: "early" });
  await kube.addPod({ namespace: "ns1", name: "elsewhere", nodeName: "node-z" });
  const dying = await kube.addPod({ namespace: "ns1", name: "dying" });
  await kube.markDeleting("ns1", "dying", 30);
  const p = runPart(kube);
  try {
    await p.scanned("pod list (2 pods)");
    await kube.waitWatches(1);
    const web = await kube.addPod({ namespace: "ns1", name: "web" });
    await kube.markDeleting("ns1", "web", 30);
    await kube.deletePod("ns1", "web");
    await p.scanned("pod deleted ns1/web");
    const scans = p.calls.filter((c) => c.hook === "scan").map((c) => c.reason);
    assert.deepEqual(scans.slice(-3), [
      "pod added ns1/web",
      "pod modified ns1/web",
      "pod deleted ns1/web",
    ]);
    const finals = p.calls.filter((c) => c.hook === "final");
    assert.deepEqual(finals, [
      { hook: "final", uid: dying.metadata.uid, reason: "deleting at list" },
      { hook: "final", uid: web.metadata.uid, reason: "pod deleting" },
    ]);
    const iFinal = p.calls.findIndex((c) => c.hook === "final" && c.uid === web.metadata.uid);
    const iModified = p.calls.findIndex((c) => c.hook === "scan" && c.reason.includes("modified"));
    assert.ok(iFinal < iModified, "final pull is asked before the scan of the same event");
    assert.equal(p.status().eventsSeen, 3);
    assert.equal(
      p.deps.metrics.value("coverage_collector_kube_events_total", { type: "ADDED" }),
      1,
    );
    assert.equal(p.status().podsKnown, 2);
    assert.ok(!p.calls.some((c) => c.hook === "final" && c.uid === early.metadata.uid));
    const watch = (await kube.requests()).find((r) => r.query.includes("watch=true"))!;
    assert.match(watch.query, /allowWatchBookmarks=true/);
    assert.match(watch.query, /resourceVersion=\d+/);
    assert.match(watch.query, /timeoutSeconds=\d+/);
  } finally {
    await p.stop();
  }
});

t("a dropped stream is resumed from its resourceVersion without losing an event", async () => {
  await using kube = await startFakeKube({ nodeName: "node-a" });
  const p = runPart(kube);
  try {
    await p.scanned("pod list");
    await kube.waitWatches(1);
    assert.equal(await kube.dropStreams(), 1);
    await kube.addPod({ namespace: "ns2", name: "during-gap" });
    await p.scanned("pod added ns2/during-gap");
    const s = p.status();
    assert.ok(s.reconnects >= 1, JSON.stringify(s));
    assert.equal(s.relists, 0);
    const watches = (await kube.requests()).filter((r) => r.query.includes("watch=true"));
    assert.ok(watches.length >= 2);
  } finally {
    await p.stop();
  }
});

t("410 Gone on the watch → list again; pods deleted in the gap get their final pull", async () => {
  await using kube = await startFakeKube({ nodeName: "node-a" });
  const old = await kube.addPod({ namespace: "ns3", name: "old" });
  const p = runPart(kube);
  try {
    await p.scanned("pod list (1 pods)");
    await kube.waitWatches(1);
    // Hold the reconnect off with 503s while the pod set changes and history is compacted.
    await kube.fail503(1_000_000);
    await kube.dropStreams();
    await kube.deletePod("ns3", "old");
    const gap = await kube.addPod({ namespace: "ns3", name: "gap" });
    await kube.compact();
    await kube.fail503(0);
    await p.scanned("pod list (1 pods)", 2);
    assert.equal(p.status().relists, 1);
    assert.equal(p.deps.metrics.value("coverage_collector_kube_relists_total"), 1);
    assert.deepEqual(p.calls.filter((c) => c.hook === "final"), [
      { hook: "final", uid: old.metadata.uid, reason: "gone at relist" },
    ]);
    assert.ok(p.lines.some((l) => l.includes("listing again")));
    await kube.addPod({ namespace: "ns3", name: "after" });
    await p.scanned("pod added ns3/after");
    assert.ok(!p.calls.some((c) => c.hook === "final" && c.uid === gap.metadata.uid));
  } finally {
    await p.stop();
  }
});

t("403 on the pod list is reported in health with the API's message", async () => {
  await using kube = await startFakeKube({ nodeName: "node-a" });
  const p = runPart(kube, { "node-name": "node-z" });
  try {
    await p.until("403", () => p.status().watch === "forbidden");
    const h = p.deps.health.get("kube")!;
    assert.equal(h.ready, false);
    assert.match(h.reason!, /^node identity cannot list pods: .*spec\.nodeName/);
    assert.equal(p.status().identitySource, "setting");
  } finally {
    await p.stop();
  }
});

t("certificate rotation mid-run: the next connection uses the new pem", async () => {
  await using kube = await startFakeKube({ nodeName: "node-a", requireClientCert: true });
  const p = runPart(kube);
  try {
    await p.scanned("pod list");
    await kube.waitWatches(1);
    await kube.rotateCert();
    await kube.dropStreams();
    await kube.addPod({ namespace: "ns4", name: "after-rotation" });
    await p.scanned("pod added ns4/after-rotation");
    assert.equal(p.status().certificateReloads, 1);
    assert.ok(p.lines.some((l) => l.includes("kube credentials changed")));
  } finally {
    await p.stop();
  }
});
