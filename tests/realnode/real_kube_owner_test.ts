/**
 * Who ran it, from the API: pods created through a real kube-apiserver with the ownerReference
 * and `pod-template-hash` label a Deployment's ReplicaSet gives its pods (no controller manager
 * runs: the test sets them as it would). The collector's info.json names the Deployment, the
 * ReplicaSet and the image's source labels (real crictl + containerd `inspecti`), and
 * `report --group-by owner` merges the Deployment's two pods.
 */

import assert from "node:assert/strict";
import { eventually } from "../e2e/e2e_util.ts";
import { runReport } from "../harness/run_report.ts";
import { COVSERVER_IMAGE_LABELS } from "../harness/realnode/realnode.ts";
import { REAL_PORT, storedWhere } from "./real_run.ts";
import { clusterTestOnEach, NODE, withRealCluster } from "./real_cluster.ts";

const NS = "real-o";
const HASH = "5c8f7b9d4";
const RS = `web-${HASH}`;

await clusterTestOnEach(
  "info.json of a pod owned through a ReplicaSet <dep>-<hash> with pod-template-hash names the " +
    "Deployment (real kube-apiserver); report --group-by owner merges its pods",
  (rt) =>
    withRealCluster("owner", async (r) => {
      const spec = (binary: string) => [{
        name: "app",
        coveragePort: REAL_PORT,
        env: { FIXTURE_BINARY_NAME: binary },
      }];
      const owned = { labels: { app: "web", "pod-template-hash": HASH } };
      const ownerReferences = [{
        apiVersion: "apps/v1",
        kind: "ReplicaSet",
        name: RS,
        uid: crypto.randomUUID(),
        controller: true,
      }];
      const a = await r.startPod(
        { name: `${RS}-aaaaa`, namespace: NS, ...owned, ownerReferences },
        spec("o-web"),
      );
      const b = await r.startPod(
        { name: `${RS}-bbbbb`, namespace: NS, ...owned, ownerReferences },
        spec("o-web"),
      );
      const bare = await r.startPod({ name: "debug", namespace: NS }, spec("o-web"));

      const c = await r.collector("run", [
        "--kubeconfig",
        r.kubeconfig,
        "--scan-interval",
        "1h",
        "--pull-schedule",
        "30s",
      ]);
      // The first store may come before the pod watch named the workload or crictl the image's
      // labels; the collector writes info.json once more when they arrive: wait for that write.
      const settled = async (id: string) => {
        let last = await storedWhere(r.out, "containerId", id, c);
        await eventually(`info.json of ${id} with its workload and source`, async () => {
          last = await storedWhere(r.out, "containerId", id, c);
          const i = last.info;
          return i.workloadKind !== undefined && (i.workloadKind === "Pod" || i.source_url)
            ? true
            : undefined;
        }).catch(() => {/* the assertions below say what is missing */});
        return last;
      };
      for (const p of [a, b]) {
        const { prefix, info } = await settled(p.containers[0].id);
        assert.deepEqual(
          [info.workloadKind, info.workloadName, info.controllerKind, info.controllerName],
          ["Deployment", "web", "ReplicaSet", RS],
          prefix,
        );
        assert.equal(info.podUid, p.api.uid, prefix);
        assert.equal(info.nodeName, NODE, prefix);
        assert.equal(info.owner, "container", prefix);
        assert.deepEqual([info.source_url, info.source_commit, info.sourceFrom], [
          COVSERVER_IMAGE_LABELS["io.openshift.build.source-location"],
          COVSERVER_IMAGE_LABELS["io.openshift.build.commit.id"],
          "image-labels",
        ], prefix);
      }
      const { prefix, info } = await settled(bare.containers[0].id);
      assert.deepEqual([info.workloadKind, info.workloadName], ["Pod", "debug"], prefix);
      assert.equal("controllerKind" in info, false, prefix);

      const rep = await runReport([r.out, "--format", "json", "--group-by", "owner"]);
      assert.equal(rep.code, 0, rep.err);
      const groups = (JSON.parse(rep.out).binaries as { group: string; pods: number }[])
        .map((g) => [g.group, g.pods]);
      assert.deepEqual(groups, [[`${NS}/Deployment/web`, 2], [`${NS}/Pod/debug`, 1]]);
    }, rt),
);
