import assert from "node:assert/strict";
import { workloadOf } from "./workload.ts";
import { parseWatchEvent } from "./watch_stream.ts";

const ref = (kind: string, name: string, controller: boolean | undefined = true) => ({
  apiVersion: "apps/v1",
  kind,
  name,
  uid: "u-1",
  controller,
  blockOwnerDeletion: true,
});

Deno.test("a ReplicaSet <deployment>-<hash> with the pod's pod-template-hash is its Deployment", () => {
  assert.deepEqual(
    workloadOf({
      name: "web-7d4b9c6f5-x2x9q",
      ownerReferences: [ref("ReplicaSet", "web-7d4b9c6f5")],
      labels: { app: "web", "pod-template-hash": "7d4b9c6f5" },
    }),
    {
      controller: { kind: "ReplicaSet", name: "web-7d4b9c6f5" },
      kind: "Deployment",
      name: "web",
    },
  );
});

Deno.test("a ReplicaSet whose name does not end in the hash label stays a ReplicaSet", () => {
  for (const labels of [{ "pod-template-hash": "abc12" }, {}, { "pod-template-hash": "" }]) {
    assert.deepEqual(
      workloadOf({
        name: "web-x",
        ownerReferences: [ref("ReplicaSet", "web-7d4b9c6f5")],
        labels,
      }),
      {
        controller: { kind: "ReplicaSet", name: "web-7d4b9c6f5" },
        kind: "ReplicaSet",
        name: "web-7d4b9c6f5",
      },
      JSON.stringify(labels),
    );
  }
  // The hash alone (no "<deployment>-" before it) names no Deployment.
  assert.equal(
    workloadOf({
      name: "p",
      ownerReferences: [ref("ReplicaSet", "abc")],
      labels: { "pod-template-hash": "abc" },
    }).kind,
    "ReplicaSet",
  );
});

Deno.test("StatefulSet, DaemonSet and Job controllers are the workload themselves", () => {
  for (const kind of ["StatefulSet", "DaemonSet", "Job"]) {
    assert.deepEqual(
      workloadOf({ name: "db-0", ownerReferences: [ref(kind, "db")], labels: {} }),
      { controller: { kind, name: "db" }, kind, name: "db" },
    );
  }
});

Deno.test("a bare pod, or one whose owners are not controllers, is its own workload", () => {
  assert.deepEqual(workloadOf({ name: "debug" }), { kind: "Pod", name: "debug" });
  assert.deepEqual(
    workloadOf({
      name: "p",
      ownerReferences: [ref("ConfigMap", "cm", false), { kind: "X", name: "y" }],
    }),
    { kind: "Pod", name: "p" },
  );
});

Deno.test("hostile ownerReferences are dropped one by one, never the pod", () => {
  const good = ref("StatefulSet", "db");
  for (
    const bad of [
      null,
      "x",
      { kind: "Stateful Set", name: "db", controller: true },
      { kind: "StatefulSet", name: "a/b", controller: true },
      { kind: "StatefulSet", name: "a\nb", controller: true },
      { kind: "StatefulSet", name: "A_b", controller: true },
      { kind: "StatefulSet", name: "x".repeat(254), controller: true },
      { kind: "K".repeat(64), name: "db", controller: true },
    ]
  ) {
    assert.deepEqual(
      workloadOf({ name: "db-0", ownerReferences: [bad, good] }),
      { controller: { kind: "StatefulSet", name: "db" }, kind: "StatefulSet", name: "db" },
      JSON.stringify(bad).slice(0, 60),
    );
  }
  // A huge list costs a bounded look: a controller past the first 32 is not seen.
  const many = Array.from({ length: 100_000 }, () => ref("ConfigMap", "c", false));
  assert.deepEqual(workloadOf({ name: "p", ownerReferences: [...many, good] }), {
    kind: "Pod",
    name: "p",
  });
});

Deno.test("a watch event keeps ownerReferences and labels, and a malformed one keeps the pod", () => {
  const meta = (extra: string) =>
    `{"type":"ADDED","object":{"metadata":{"uid":"u","name":"web-1a-x","namespace":"ns"${extra}}}}`;
  const ev = parseWatchEvent(meta(
    `,"labels":{"pod-template-hash":"1a"},"ownerReferences":[{"kind":"ReplicaSet","name":"web-1a","controller":true}]`,
  ));
  assert.ok(ev.type === "ADDED");
  assert.equal(workloadOf(ev.object.metadata).kind, "Deployment");
  const bad = parseWatchEvent(meta(`,"labels":7,"ownerReferences":{"x":1}`));
  assert.ok(bad.type === "ADDED");
  assert.deepEqual(workloadOf(bad.object.metadata), { kind: "Pod", name: "web-1a-x" });
});
