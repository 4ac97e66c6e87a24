/**
 * The daemon against a real kube-apiserver through a TCP fault injector: the pod watch is cut and
 * every reconnect refused while a pod is deleted through the API (announced with a grace period,
 * then removed by its node) with its containers still running; once connections pass again the
 * watch resumes from its resourceVersion, sees the deletion and the final pull stores code run
 * just before it. A watch resumed without the version would only replay the pods that still
 * exist: the deleted one is not among them, and no final pull would come.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { CollectorProcess } from "../harness/collector.ts";
import { kubeletKubeconfig } from "../harness/realnode/pki.ts";
import type { RealContainer } from "../harness/realnode/realnode.ts";
import { TcpCutProxy } from "../harness/tcp_cut_proxy.ts";
import { assertRoutes, eventually } from "../e2e/e2e_util.ts";
import { KubeDaemonStatusSchema, logField, podLogLine } from "../e2e/kube_util.ts";
import { hitRoute, REAL_PORT, storedWhere } from "./real_run.ts";
import { clusterTestOnEach, NODE, withRealCluster } from "./real_cluster.ts";

/** Upper bound of every wait (never a synchronisation sleep). */
const LIMIT = 30_000;

/** The stored prefix (relative to out) of container `ct`, once its counters are stored. */
async function storedOf(out: string, ct: RealContainer, c: CollectorProcess): Promise<string> {
  const what = `stored counters of ${ct.pod.name}/${ct.name}`;
  return (await storedWhere(out, "containerId", ct.id, c, what, LIMIT)).prefix;
}

await clusterTestOnEach(
  "run against a real kube-apiserver: a pod deleted while the watch connection is cut and " +
    "refused gets its final pull when the watch resumes from its resourceVersion",
  (rt) =>
    withRealCluster("kube-resume", async (r) => {
      const { cp, node, out } = r;
      const spec = (binary: string) => ({
        name: "app",
        coveragePort: REAL_PORT,
        env: { FIXTURE_BINARY_NAME: binary },
      });
      const victim = await r.startPod({ name: "victim", namespace: "real-r" }, [spec("r-vic")]);
      const [ct] = victim.containers;
      await hitRoute(ct, "alpha", 1, r.node);

      // The collector reaches the API server only through the proxy; the admin does not.
      await using proxy = TcpCutProxy.start({
        hostname: "127.0.0.1",
        port: Number(new URL(cp.url).port),
      });
      await node.exposeHostPort(proxy.port); // on CRI-O the collector dials it from the node
      const kubeconfig = join(r.dir, "kubeconfig-via-proxy");
      await Deno.writeTextFile(
        kubeconfig,
        kubeletKubeconfig(
          `https://127.0.0.1:${proxy.port}`,
          cp.pki.caCrt,
          cp.pki.nodePem.get(NODE)!,
        ),
      );
      const c = await r.collector("run", [
        "--kubeconfig",
        kubeconfig,
        // No periodic scan and no scheduled pull within the test: only the final pull can store
        // what runs after the first pull.
        "--scan-interval",
        "1h",
        "--pull-schedule",
        "1h",
      ]);
      const fail = (e: unknown): never => assert.fail(`${e}\n${c.lines.slice(-30).join("\n")}`);
      const health = await c.healthUrl();
      const status = async () =>
        KubeDaemonStatusSchema.parse(await (await fetch(`${health}/status`)).json());
      const connected = await eventually("pod watch connected", async () => {
        const s = await status();
        return s.kube.watch === "connected" ? s : undefined;
      }, LIMIT).catch(fail);
      assert.equal(connected.kube.podsKnown, 1, JSON.stringify(connected.kube));
      const prefix = await storedOf(out, ct, c);
      await assertRoutes(join(out, prefix), ["alpha"], `${prefix} before the deletion`);

      // The watch goes down and every reconnect is refused until the deletion is done.
      proxy.refuse(true);
      assert.ok(proxy.cut() >= 1, "the watch connection was open and is cut");
      await proxy.refusedAtLeast(1, AbortSignal.timeout(LIMIT)).catch(fail);
      await hitRoute(ct, "gamma", 1, r.node); // only the deletion's final pull can store this
      // Announced with a grace period (containers still running), then removed by its node, both
      // in the gap: a watch without the version would not even see a deleting pod to replay.
      await cp.deletePod(victim.api, 30);
      await cp.finishDelete(victim.api);
      const gone = await cp.admin(
        "GET",
        `/api/v1/namespaces/real-r/pods?fieldSelector=` +
          encodeURIComponent(`metadata.name=victim`),
      );
      assert.deepEqual((gone.json?.items as unknown[]).length, 0, "the pod is gone from the API");
      const refusedInGap = proxy.refused;
      proxy.refuse(false);

      // A pod added after the gap is found through its watch event: the watch is back, and
      // every event of the gap came before this one.
      const after = await r.startPod({ name: "after-gap", namespace: "real-r" }, [spec("r-aft")]);
      await storedOf(out, after.containers[0], c);
      const going = podLogLine(c.lines, /msg="pod going away: final pull"/, "victim");
      assert.ok(going, `no final pull asked for the deleted pod:\n${c.lines.join("\n")}`);
      assert.equal(logField(going, "reason"), "pod deleting", going);
      const final = await eventually(
        "the final pull's line",
        () => Promise.resolve(podLogLine(c.lines, /msg="final pull"/, "victim")),
        LIMIT,
      ).catch(fail);
      assert.equal(logField(final, "stored"), "true", final);
      await assertRoutes(join(out, prefix), ["alpha", "gamma"], `${prefix} after the deletion`);
      const s = await status();
      assert.equal(s.kube.relists, 0, `resumed, not listed again: ${JSON.stringify(s.kube)}`);
      assert.ok(s.kube.reconnects >= 1, JSON.stringify(s.kube));
      assert.equal(s.kube.podsKnown, 1, `the deleted pod is forgotten: ${JSON.stringify(s.kube)}`);
      assert.ok(refusedInGap >= 1);
      await node.crictlRun(["stop", "--timeout", "0", ct.id]);
      await node.removePod(victim.pod);
    }, rt),
);
