/** The DaemonSet controller's stand-in: the Pod made from the shipped manifest's template. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { repoRoot } from "../gobuild.ts";
import { manifestObjects, podFromDaemonSet } from "./daemonset.ts";

Deno.test("podFromDaemonSet: the shipped template with nodeName, image and owner only", async () => {
  const objs = manifestObjects(
    await Deno.readTextFile(join(repoRoot, "scripts/deploy/daemonset.yaml")),
  );
  assert.deepEqual(objs.map((o) => o.kind), [
    "Namespace",
    "ServiceAccount",
    "RoleBinding",
    "DaemonSet",
  ]);
  const ds = structuredClone(objs[3]);
  (ds.metadata as Record<string, unknown>).uid = "u-1";
  const pod = podFromDaemonSet(ds, "node-a", "docker.io/x/y:1");
  const template = (ds.spec as Record<string, unknown>).template as Record<string, unknown>;
  const spec = structuredClone(template.spec) as Record<string, unknown>;
  const [c] = spec.containers as Record<string, unknown>[];
  assert.deepEqual(pod.spec, {
    ...spec,
    nodeName: "node-a",
    containers: [{ ...c, image: "docker.io/x/y:1" }],
  });
  assert.deepEqual(pod.metadata, {
    ...(template.metadata as Record<string, unknown>),
    name: "coverage-collector-node-a",
    namespace: "coverage-collector",
    ownerReferences: [{
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      name: "coverage-collector",
      uid: "u-1",
      controller: true,
      blockOwnerDeletion: true,
    }],
  });
  // The template itself is left as it was.
  assert.equal(c.image, "quay.io/YOUR_ORG/coverage-collector:0.1.0");
});
