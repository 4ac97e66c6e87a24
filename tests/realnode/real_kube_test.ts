/**
 * The daemon and `doctor` with a real control plane (etcd + kube-apiserver, Node authorizer,
 * NodeRestriction) and a real node (containerd or CRI-O, one body; the real crictl): the node name from SelfSubjectReview
 * with a kubelet-style kubeconfig, list+watch of the node's pods, attribution of every server,
 * and a deletion through the API whose final pull stores code run 1 s before the kill.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startCovserver } from "../harness/covserver.ts";
import type { RealContainer } from "../harness/realnode/realnode.ts";
import { assertRoutes, eventually } from "../e2e/e2e_util.ts";
import { KubeDaemonStatusSchema, logField, podLogLine } from "../e2e/kube_util.ts";
import { doctor, line } from "../e2e/doctor_run.ts";
import type { CollectorProcess } from "../harness/collector.ts";
import { hitRoute, REAL_PORT, realFlags, storedWhere } from "./real_run.ts";
import { clusterTestOnEach, NODE, OTHER, withRealCluster } from "./real_cluster.ts";

const LIMIT = 30_000;

/** Waits for a log line matching `re` with `pod=<pod>`. */
function podLine(c: CollectorProcess, re: RegExp, pod: string): Promise<string> {
  return eventually(`log line ${re} for pod ${pod}`, () => {
    return Promise.resolve(podLogLine(c.lines, re, pod));
  }, LIMIT).catch((e) => assert.fail(`${e}\n${c.lines.slice(-30).join("\n")}`));
}

await clusterTestOnEach(
  "run against a real kube-apiserver and a real node: SSR node name, list+watch, every server " +
    "attributed, deletion through the API stores code run 1 s before the kill; doctor OK",
  (rt) =>
    withRealCluster("kube", async (r) => {
      const { cp, node, out } = r;
      const spec = (name: string, binary: string) => ({
        name,
        coveragePort: REAL_PORT,
        env: { FIXTURE_BINARY_NAME: binary },
      });
      const web = await r.startPod({ name: "web", namespace: "real-k" }, [
        spec("app", "k-web"),
        spec("sidecar", "k-side"),
      ]);
      const agent = await r.startPod({ name: "agent", namespace: "real-k", hostNetwork: true }, [
        spec("agent", "k-hostnet"),
      ]);
      // A pod of another node: not this kubelet's business.
      await cp.createPod({ name: "elsewhere", namespace: "real-k", nodeName: OTHER });
      await using host = await startCovserver({
        name: "k-host",
        coveragePort: REAL_PORT,
        // On CRI-O a host process is one of the node's.
        wrap: rt === "crio"
          ? (a) => node.inNode(["setpriv", "--pdeathsig", "SIGKILL", "--", ...a])
          : undefined,
      });
      const [app, side] = web.containers;
      await hitRoute(app, "alpha", 1, node);
      await hitRoute(side, "beta", 1, node);
      await hitRoute(agent.containers[0], "gamma", 1, node);

      const c = await r.collector("run", [
        "--kubeconfig",
        r.kubeconfig,
        "--scan-interval",
        "1h",
        "--pull-schedule",
        "30s",
      ]);
      const health = await c.healthUrl();
      const status = await eventually("kube part in mode full", async () => {
        const s = KubeDaemonStatusSchema.parse(await (await fetch(`${health}/status`)).json());
        // "full" may show before the first list is counted (podsKnown 0 seen on both runtimes).
        return s.kube.mode === "full" && s.kube.podsKnown >= 2 ? s : undefined;
      }, LIMIT).catch((e) => assert.fail(`${e}\n${c.lines.slice(-30).join("\n")}`));
      assert.equal(status.kube.nodeName, NODE);
      assert.match(status.kube.identitySource ?? "", /selfsubjectreview/);
      assert.equal(status.kube.podsKnown, 2, "only this node's pods are listed");

      const byContainer = async (ct: RealContainer, binary: string, ran: string[]) => {
        const { prefix, info } = await storedWhere(out, "containerId", ct.id, c);
        assert.equal(info.binary, binary, prefix);
        assert.equal(info.podUid, ct.pod.uid, prefix);
        assert.equal(info.hostPid, ct.pid, prefix);
        assert.equal(info.nodeName, NODE, prefix);
        assert.match(prefix, new RegExp(`^realnode/real-k/${ct.pod.name}/${ct.name}/`));
        await assertRoutes(join(out, prefix), ran, prefix);
        return prefix;
      };
      const appPrefix = await byContainer(app, "k-web", ["alpha"]);
      await byContainer(side, "k-side", ["beta"]);
      await byContainer(agent.containers[0], "k-hostnet", ["gamma"]);
      const hostStored = await storedWhere(out, "hostPid", host.pid, c);
      assert.equal(hostStored.info.owner, "host");

      // A pod added later is found through its watch event (no periodic scan in this run).
      const late = await r.startPod({ name: "late", namespace: "real-k" }, [spec("app", "k-late")]);
      await byContainer(late.containers[0], "k-late", []);

      // Deletion through the API: gamma runs, the deletion is announced, 1 s later the
      // containers are killed (a margin for a loaded machine: 200 ms failed under a load of 30).
      // Only the final pull the deletion triggers can store gamma.
      const lateCt = late.containers[0];
      const latePrefix = (await storedWhere(out, "containerId", lateCt.id, c)).prefix;
      await hitRoute(app, "gamma", 1, node);
      await hitRoute(lateCt, "gamma", 1, node); // the control: killed below without an announcement
      const announced = performance.now();
      await cp.deletePod(web.api, 30);
      const gap = 1000 - (performance.now() - announced);
      if (gap > 0) await new Promise((res) => setTimeout(res, gap));
      const killedAt = Date.now();
      await node.crictlRun(["stop", "--timeout", "0", app.id, side.id, lateCt.id]);
      const going = await podLine(c, /msg="pod going away: final pull"/, "web");
      assert.equal(logField(going, "reason"), "pod deleting", going);
      const finalLine = await podLine(c, /msg="final pull"/, "web");
      assert.equal(logField(finalLine, "stored"), "true", finalLine);
      assert.ok(Date.parse(logField(finalLine, "ts") ?? "") <= killedAt, finalLine);
      await assertRoutes(join(out, appPrefix), ["alpha", "gamma"], `${appPrefix} after deletion`);
      // Without the announcement nothing stored gamma: the schedule did not pull in between.
      await assertRoutes(join(out, latePrefix), [], `${latePrefix} (killed unannounced)`);
      await cp.finishDelete(web.api);
      await node.removePod(web.pod);

      // doctor with the same kubeconfig: every check it makes here is OK.
      const run = await doctor([
        ...realFlags(node, join(r.dir, "doctor-state")),
        "--kubeconfig",
        r.kubeconfig,
        "--sink",
        "dir",
        "--output-dir",
        join(r.dir, "doctor-out"),
      ]);
      assert.equal(run.code, 0, run.text);
      assert.deepEqual(run.lines.filter((l) => l.status === "FAIL"), [], run.text);
      for (const name of ["crictl", "kubeconfig", "API server", "node identity", "pod list"]) {
        assert.equal(line(run, name).status, "OK", run.text);
      }
      assert.match(line(run, "node identity").detail, new RegExp(NODE), run.text);
      assert.match(line(run, "API server").detail, /answered \(Kubernetes v1\.37\.2\)$/, run.text);
      assert.match(line(run, "crictl").detail, /, 1 running containers$/, run.text);
    }, rt),
);
