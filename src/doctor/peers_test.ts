/** The real doctor peers against the fake API server and the S3 gateway of tests/harness. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../config.ts";
import { createLogger } from "../log.ts";
import { createSystem } from "../system.ts";
import { hasGo } from "../../tests/harness/gobuild.ts";
import { startFakeKube } from "../../tests/harness/kubeapi.ts";
import { canRunS3, startS3, writeRegistryAuth } from "../../tests/harness/s3.ts";
import { kubeChecks, storageChecks } from "./remote.ts";
import { kubePeer, storagePeer } from "./peers.ts";

const log = createLogger({ level: "error", format: "logfmt", timestamps: false });
const summary = (cs: { status: string; name: string; detail: string }[]) =>
  cs.map((c) => `${c.status} ${c.name}`);

Deno.test({
  name: "kube probes: the node's kubeconfig reaches the API, learns the node, lists its pods",
  ignore: !(await hasGo()),
  async fn() {
    await using kube = await startFakeKube({ nodeName: "worker-7" });
    await kube.addPod({ namespace: "ns1", name: "p1", nodeName: "worker-7" });
    const config = loadConfig({ kubeconfig: kube.kubeconfigPath }, {});
    const probes = kubePeer({ system: createSystem("/"), config, log });
    try {
      const r = await kubeChecks(probes, AbortSignal.timeout(20_000));
      assert.deepEqual(summary(r), [
        "OK kubeconfig",
        "OK API server",
        "OK node identity",
        "OK pod list",
      ], JSON.stringify(r));
      assert.match(r[1].detail, /^https:\/\/127\.0\.0\.1:\d+ answered \(/);
      assert.match(r[2].detail, /^worker-7 \(from /);
      assert.equal(r[3].detail, "1 pods on worker-7");
    } finally {
      probes.close();
    }
  },
});

Deno.test({
  name: "storage probes: credentials from the auth file, listing, PUT and DELETE leave nothing",
  ignore: !(await canRunS3()),
  async fn() {
    const s3 = await startS3();
    const root = await Deno.makeTempDir({ prefix: "cc-doctor-s3-" });
    try {
      await writeRegistryAuth(join(root, "var/lib/kubelet/config.json"), {
        ...s3,
        s3BasePath: "ci/cluster-x",
      });
      const config = loadConfig({
        "host-root": root,
        "s3-endpoint": s3.endpoint,
        "s3-path-style": true,
      }, {});
      const probes = storagePeer({ system: createSystem(root), config });
      const r = await storageChecks(config, probes, {
        writeTest: true,
        signal: AbortSignal.timeout(20_000),
      });
      assert.deepEqual(summary(r), ["OK S3 credentials", "OK S3 reach", "OK S3 write"]);
      assert.match(r[0].detail, new RegExp(`^s3://${s3.bucket}/ci/cluster-x \\(from `));
      assert.match(
        r[2].detail,
        /^PUT and DELETE http:\/\/127\.0\.0\.1:\d+\/.*\/ci\/cluster-x\/_doctor\//,
      );
      assert.deepEqual(await s3.objects(), []);
    } finally {
      await s3.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "kube probes: a client certificate the server does not trust fails the API check",
  ignore: !(await hasGo()),
  async fn() {
    await using kube = await startFakeKube();
    const config = loadConfig({ kubeconfig: kube.untrustedKubeconfigPath }, {});
    const probes = kubePeer({ system: createSystem("/"), config, log });
    try {
      const r = await kubeChecks(probes, AbortSignal.timeout(20_000));
      assert.deepEqual(summary(r).slice(0, 2), ["OK kubeconfig", "FAIL API server"]);
      assert.match(r[1].detail, /127\.0\.0\.1/);
    } finally {
      probes.close();
    }
  },
});
