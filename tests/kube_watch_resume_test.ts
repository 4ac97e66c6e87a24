/**
 * The pod watch resumes from its resourceVersion: a pod deleted while the stream is down is still
 * seen as DELETED (against the fake API server). A watch started without the version would replay
 * the pods that exist as ADDED and never mention the deleted one.
 */

import assert from "node:assert/strict";
import { Backoff } from "../src/backoff.ts";
import { Health } from "../src/health.ts";
import { silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { KubeClient } from "../src/kube/client.ts";
import { parseKubeconfig } from "../src/kube/kubeconfig.ts";
import { type PodEventType, PodWatcher } from "../src/kube/pods.ts";
import { hasGo } from "./harness/gobuild.ts";
import { type FakeKube, startFakeKube } from "./harness/kubeapi.ts";

const ignore = !(await hasGo()); // needs Go to build the fake

/** Resolves once the fake has answered a watch request with 503 (polled: the fake has no push). */
async function watchRefused(kube: FakeKube): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const reqs = await kube.requests();
    if (reqs.some((r) => r.query.includes("watch=true") && r.status === 503)) return;
    if (Date.now() > deadline) {
      throw new Error(`no watch answered 503 within 30 s: ${JSON.stringify(reqs.slice(-5))}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test({
  name: "pod watch: a pod deleted while the stream is down is seen as DELETED on resume",
  ignore,
  async fn() {
    await using kube = await startFakeKube({ nodeName: "node-a" });
    await kube.addPod({ namespace: "ns1", name: "victim" });
    const stays = await kube.addPod({ namespace: "ns1", name: "stays" });
    const path = kube.kubeconfigPath;
    const client = await KubeClient.create(
      parseKubeconfig(await Deno.readTextFile(path), { path }),
      "/",
      { log: silentLogger },
    );
    const seen: string[] = [];
    const waiters = new Map<string, () => void>();
    const saw = (what: string) =>
      new Promise<void>((resolve) => {
        if (seen.includes(what)) resolve();
        else waiters.set(what, resolve);
      });
    const note = (what: string) => {
      seen.push(what);
      waiters.get(what)?.();
    };
    const w = new PodWatcher(client, "node-a", {
      log: silentLogger,
      metrics: new Metrics(),
      health: new Health(),
    }, {
      synced: (pods) => note(`sync ${pods.map((p) => p.metadata.name).sort().join(",")}`),
      event: (type: PodEventType, p) => note(`${type} ${p.metadata.name}`),
    }, { backoff: new Backoff({ initialMs: 20, maxMs: 200 }) });
    const ac = new AbortController();
    const running = w.run(ac.signal);
    try {
      await saw("sync stays,victim");
      await kube.waitWatches(1);
      // The stream goes down and stays down (every reconnect answered 503) while the pod goes.
      await kube.fail503(1_000_000);
      assert.equal(await kube.dropStreams(), 1);
      await watchRefused(kube);
      await kube.deletePod("ns1", "victim");
      await kube.fail503(0);
      // A pod added after the gap: once its event is here, the resumed stream delivered the gap.
      await kube.addPod({ namespace: "ns1", name: "after" });
      await saw("ADDED after");
    } finally {
      ac.abort();
      await running;
      client.close();
    }
    assert.deepEqual(seen, ["sync stays,victim", "DELETED victim", "ADDED after"]);
    const s = w.status();
    assert.equal(s.relists, 0, "resumed, not listed again");
    assert.ok(s.reconnects >= 2, `reconnects: ${s.reconnects}`);
    const watches = (await kube.requests()).filter((r) => r.query.includes("watch=true"));
    const versions = watches.map((r) => new URLSearchParams(r.query).get("resourceVersion"));
    assert.ok(
      versions.every((v) => v === stays.metadata.resourceVersion),
      `every watch resumes from the list's version ${stays.metadata.resourceVersion}: ${versions}`,
    );
  },
});
