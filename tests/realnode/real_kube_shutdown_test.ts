/**
 * SIGTERM to the daemon with the pod watch open against a real kube-apiserver (mTLS with the
 * node's kubelet-style credentials, HTTP/2): the final pull of the running server is stored and
 * the process exits 0 without waiting for its (long) shutdown deadline; the same when no server
 * is left (its pod deleted through the API before). tests/e2e/kube_shutdown_test.ts does the same
 * against the fake API server.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { assertRoutes, eventually } from "../e2e/e2e_util.ts";
import { KubeDaemonStatusSchema, logField, podLogLine } from "../e2e/kube_util.ts";
import { churn, GC_OFTEN, LONG_SHUTDOWN, stopCleanly } from "../e2e/clean_stop.ts";
import type { CollectorProcess } from "../harness/collector.ts";
import { hitRoute, REAL_PORT, storedWhere } from "./real_run.ts";
import { type ClusterRun, clusterTestOnEach, withRealCluster } from "./real_cluster.ts";

/** Upper bound of every wait (never a synchronisation sleep). */
const LIMIT = 30_000;
const FLAGS = ["--scan-interval", "1h", "--shutdown-timeout", LONG_SHUTDOWN];

/**
 * Starts the collector against the cluster (collecting garbage often, see GC_OFTEN); resolves
 * once its pod watch is connected.
 */
async function watchingCollector(r: ClusterRun, extra: string[] = []): Promise<CollectorProcess> {
  const c = await r.collector("run", ["--kubeconfig", r.kubeconfig, ...FLAGS, ...extra], GC_OFTEN);
  const health = await c.healthUrl();
  await eventually("pod watch connected", async () => {
    const s = KubeDaemonStatusSchema.parse(await (await fetch(`${health}/status`)).json());
    return (s.kube as { watch?: string }).watch === "connected" ? s : undefined;
  }, LIMIT).catch((e) => assert.fail(`${e}\n${c.lines.slice(-30).join("\n")}`));
  return c;
}

/** Full collections in the collector while its watch is open, as hours on a node would bring. */
async function ageWatch(c: CollectorProcess): Promise<void> {
  await churn(await c.healthUrl());
}

const spec = (binary: string) => ({
  name: "app",
  coveragePort: REAL_PORT,
  env: { FIXTURE_BINARY_NAME: binary },
});

await clusterTestOnEach(
  "run against a real kube-apiserver: SIGTERM with the watch open stores the final pull and " +
    "exits 0 without waiting for the shutdown deadline",
  (rt) =>
    withRealCluster("kube-stop", async (r) => {
      const pod = await r.startPod({ name: "web", namespace: "real-s" }, [spec("s-web")]);
      const [ct] = pod.containers;
      await hitRoute(ct, "alpha", 1, r.node);
      // No scheduled pull within the test: only the final pull at SIGTERM can store gamma.
      const c = await watchingCollector(r, ["--pull-schedule", "1h"]);
      const { prefix } = await storedWhere(r.out, "containerId", ct.id, c);
      await hitRoute(ct, "gamma", 1, r.node); // only the final pull at SIGTERM can store this
      await ageWatch(c);
      await stopCleanly(c, "real kube-apiserver, one server");
      const final = podLogLine(c.lines, /msg="final pull"/, "web");
      assert.ok(final, `no final pull line:\n${c.lines.join("\n")}`);
      assert.equal(logField(final, "reason"), "shutdown", final);
      assert.equal(logField(final, "stored"), "true", final);
      await assertRoutes(join(r.out, prefix), ["alpha", "gamma"], `${prefix} after SIGTERM`);
      await r.node.crictlRun(["stop", "--timeout", "0", ct.id]);
      await r.node.removePod(pod.pod);
    }, rt),
);

await clusterTestOnEach(
  "run against a real kube-apiserver: SIGTERM with the watch open and no server left exits 0 " +
    "without waiting for the shutdown deadline",
  (rt) =>
    withRealCluster("kube-stop-empty", async (r) => {
      const pod = await r.startPod({ name: "gone", namespace: "real-s" }, [spec("s-gone")]);
      const [ct] = pod.containers;
      // The default pull schedule (every second at first): the collector finds its server gone.
      const c = await watchingCollector(r);
      await storedWhere(r.out, "containerId", ct.id, c);
      // The pod goes the kubelet's way: deletion announced, containers stopped, object removed.
      await r.cp.deletePod(pod.api, 30);
      await podLine(c, /msg="final pull"/, "gone");
      await r.node.crictlRun(["stop", "--timeout", "0", ct.id]);
      await r.cp.finishDelete(pod.api);
      await r.node.removePod(pod.pod);
      await podLine(c, /msg="collector ended"/, "gone");
      await ageWatch(c);
      await stopCleanly(c, "real kube-apiserver, no server left");
    }, rt),
);

/** Waits for a log line matching `re` whose `pod` field is `pod`. */
function podLine(c: CollectorProcess, re: RegExp, pod: string): Promise<string> {
  return eventually(`log line ${re} for pod ${pod}`, () => {
    return Promise.resolve(podLogLine(c.lines, re, pod));
  }, LIMIT).catch((e) => assert.fail(`${e}\n${c.lines.slice(-30).join("\n")}`));
}
