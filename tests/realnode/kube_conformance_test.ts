/**
 * Keeping the fake API server honest: the requests the collector makes (SelfSubjectReview,
 * /version, the node's pod list, lists the Node authorizer refuses, a watch from a
 * resourceVersion with bookmarks) go as the same kubelet identity to tests/fixtures/fakekube and
 * to a real kube-apiserver v1.37.2; status codes and the JSON shape at every field the collector
 * reads must agree, also for a protobuf body as client-go sends by default.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startFakeKube } from "../harness/kubeapi.ts";
import {
  pemHttpClient,
  protobufBody,
  type WatchEvent,
  watchEvents,
} from "../harness/kubeclient.ts";
import { realPeers } from "../harness/peers.ts";
import { ControlPlane } from "../harness/realnode/controlplane.ts";
import { shapeAt } from "../harness/realnode/shape.ts";
import { realTest } from "./real_run.ts";
import { clusterSkipReason, NODE, OTHER } from "./real_cluster.ts";

const skip = await clusterSkipReason();
const NS = "conf";

/** One API server as the tests see it: the node's client and how to make pods happen. */
interface Peer {
  what: string;
  url: string;
  node: Deno.HttpClient;
  addPod(name: string): Promise<void>;
  markDeleting(name: string): Promise<void>;
}

interface Answer {
  status: number;
  json: unknown;
  contentType: string;
}

async function send(
  p: Peer,
  method: string,
  path: string,
  body?: BodyInit,
  contentType = "application/json",
): Promise<Answer> {
  const res = await fetch(`${p.url}${path}`, {
    method,
    client: p.node,
    headers: { accept: "application/json", ...(body ? { "content-type": contentType } : {}) },
    body,
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, json, contentType: res.headers.get("content-type") ?? "" };
}

const SSR = JSON.stringify({ apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" });
const READ = {
  ssr: ["kind", "apiVersion", "status.userInfo.username", "status.userInfo.groups"],
  version: ["gitVersion"],
  list: [
    "kind",
    "apiVersion",
    "metadata.resourceVersion",
    "items[].metadata.name",
    "items[].metadata.namespace",
    "items[].metadata.uid",
    "items[].metadata.resourceVersion",
    "items[].spec.nodeName",
  ],
  status: ["kind", "apiVersion", "status", "reason", "code", "message"],
  event: [
    "type",
    "object.kind",
    "object.metadata.name",
    "object.metadata.namespace",
    "object.metadata.uid",
    "object.metadata.resourceVersion",
  ],
  deleting: ["object.metadata.deletionTimestamp"],
};
const PODS = `/api/v1/pods?fieldSelector=spec.nodeName%3D${NODE}`;

/** Watches the node's pods from `rv` until `until` saw what it wants (or 20 s pass). */
async function watchUntil(p: Peer, rv: string, act: () => Promise<void>, want: number) {
  const signal = AbortSignal.timeout(20_000);
  const q = `${PODS}&watch=true&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=30`;
  const res = await fetch(`${p.url}${q}`, { client: p.node, signal });
  assert.equal(res.status, 200, `${p.what}: watch ${res.status}`);
  await act();
  const events: WatchEvent[] = [];
  for await (const ev of watchEvents(res.body!)) {
    if (ev.type === "BOOKMARK") continue;
    events.push(ev);
    if (events.length === want) break;
  }
  await res.body?.cancel().catch(() => {});
  return events;
}

/** Every request of the collector, on one peer; returns what is compared. */
async function exercise(p: Peer) {
  const out: Record<string, unknown> = {};
  const ssr = await send(p, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", SSR);
  out.ssr = { status: ssr.status, shape: shapeAt(ssr.json, READ.ssr) };
  const user = (ssr.json as { status: { userInfo: { username: string; groups: string[] } } })
    .status.userInfo;
  out.user = { username: user.username, nodes: user.groups.includes("system:nodes") };
  const version = await send(p, "GET", "/version");
  out.version = { status: version.status, shape: shapeAt(version.json, READ.version) };
  const list = await send(p, "GET", PODS);
  out.list = { status: list.status, shape: shapeAt(list.json, READ.list), type: list.contentType };
  for (const [name, path] of [["all", "/api/v1/pods"], ["other", PODS.replace(NODE, OTHER)]]) {
    const r = await send(p, "GET", path);
    out[`forbidden ${name}`] = {
      status: r.status,
      shape: shapeAt(r.json, READ.status),
      reason: (r.json as { reason?: string })?.reason,
    };
  }
  const rv = (list.json as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const events = await watchUntil(p, rv, async () => {
    await p.addPod("watched");
    await p.markDeleting("watched");
  }, 2);
  out.watch = events.map((e) => ({ type: e.type, shape: shapeAt(e, READ.event) }));
  out.deleting = shapeAt(events[1], READ.deleting);
  return out;
}

realTest(
  "fake and real kube-apiserver agree on every request the collector makes, as the node",
  skip,
  async () => {
    const peers = await realPeers(["etcd", "kube-apiserver"]);
    if (!peers.ok) throw new Error(peers.reason);
    const dir = await Deno.makeTempDir({ prefix: "cc-real-kubeconf-" });
    const cp = await ControlPlane.start({
      dir: join(dir, "cp"),
      peers: { etcd: peers.paths.etcd, kubeApiserver: peers.paths["kube-apiserver"] },
      nodes: [NODE, OTHER],
    });
    const fake = await startFakeKube({ nodeName: NODE, otherNodeName: OTHER });
    const realNode = await pemHttpClient(cp.pki.caCrt, cp.pki.nodePem.get(NODE));
    const fakeNode = await pemHttpClient(fake.caPath, fake.clientPemPath);
    try {
      await cp.createPod({ name: "listed", namespace: NS, nodeName: NODE });
      await fake.addPod({ name: "listed", namespace: NS, nodeName: NODE });
      const real: Peer = {
        what: "kube-apiserver",
        url: cp.url,
        node: realNode,
        addPod: async (name) => void await cp.createPod({ name, namespace: NS, nodeName: NODE }),
        markDeleting: (name) => cp.deletePod({ name, namespace: NS, nodeName: NODE, uid: "" }, 30),
      };
      const fakePeer: Peer = {
        what: "fakekube",
        url: fake.url,
        node: fakeNode,
        addPod: async (name) => void await fake.addPod({ name, namespace: NS, nodeName: NODE }),
        markDeleting: async (name) => void await fake.markDeleting(NS, name, 30),
      };
      const a = await exercise(real);
      const b = await exercise(fakePeer);
      assert.deepEqual(b, a, `fake vs real:\n${JSON.stringify({ real: a, fake: b }, null, 1)}`);
      assert.deepEqual(a.user, { username: `system:node:${NODE}`, nodes: true });
      assert.deepEqual((a.watch as { type: string }[]).map((e) => e.type), ["ADDED", "MODIFIED"]);

      // What client-go sends by default: a protobuf body; and one of the wrong kind.
      const path = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
      const pb = "application/vnd.kubernetes.protobuf";
      for (
        const [what, body] of [["SelfSubjectReview", protobufBody()], [
          "Pod",
          protobufBody("v1", "Pod"),
        ]] as const
      ) {
        const [x, y] = [
          await send(real, "POST", path, body, pb),
          await send(fakePeer, "POST", path, body, pb),
        ];
        const user = (j: unknown) =>
          (j as { status?: { userInfo?: { username?: string } } })?.status?.userInfo?.username;
        assert.deepEqual(
          { status: y.status, user: user(y.json), kind: shapeAt(y.json, READ.ssr).kind },
          { status: x.status, user: user(x.json), kind: shapeAt(x.json, READ.ssr).kind },
          `protobuf ${what}: fake ${JSON.stringify(y.json)} real ${JSON.stringify(x.json)}`,
        );
        if (what === "SelfSubjectReview") assert.equal(x.status, 201);
        else assert.equal(x.status, 400);
      }
    } finally {
      realNode.close();
      fakeNode.close();
      await fake.close();
      await cp.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
