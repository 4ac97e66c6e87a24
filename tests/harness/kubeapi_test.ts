import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { hasGo } from "./gobuild.ts";
import { startFakeKube } from "./kubeapi.ts";
import { pemHttpClient, type WatchEvent, watchEvents } from "./kubeclient.ts";

const ignore = !(await hasGo());
const SSR_BODY = JSON.stringify({
  apiVersion: "authentication.k8s.io/v1",
  kind: "SelfSubjectReview",
});
const t = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name: `fakekube: ${name}`, ignore, fn }); // ignored: needs Go to build the fake

async function ssr(url: string, client: Deno.HttpClient, version = "v1", token?: string) {
  const res = await fetch(`${url}/apis/authentication.k8s.io/${version}/selfsubjectreviews`, {
    method: "POST",
    client,
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: SSR_BODY,
  });
  return { status: res.status, body: await res.json() };
}

async function getJson(url: string, client: Deno.HttpClient, headers: HeadersInit = {}) {
  const res = await fetch(url, { client, headers });
  return { status: res.status, body: await res.json() };
}

const podsUrl = (base: string, node?: string, extra = "") =>
  `${base}/api/v1/pods?${
    node === undefined ? "" : `fieldSelector=spec.nodeName%3D${node}`
  }${extra}`;

t("client pem is cert + SEC1 key behind the current symlink; SSR names the node", async () => {
  await using kube = await startFakeKube({ nodeName: "worker-1" });
  const pem = await Deno.readTextFile(kube.clientPemPath);
  assert.match(pem, /-----BEGIN CERTIFICATE-----[\s\S]+-----BEGIN EC PRIVATE KEY-----/);
  const target = await Deno.readLink(kube.clientPemPath);
  assert.match(target, /^\/.*\/pki\/kubelet-client-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.pem$/);
  using client = await pemHttpClient(kube.caPath, kube.clientPemPath);
  const r = await ssr(kube.url, client);
  assert.equal(r.status, 201);
  assert.equal(r.body.status.userInfo.username, "system:node:worker-1");
  assert.deepEqual(r.body.status.userInfo.groups, ["system:nodes", "system:authenticated"]);
  const beta = await ssr(kube.url, client, "v1beta1");
  assert.equal(beta.body.apiVersion, "authentication.k8s.io/v1beta1");
  await kube.setSsrV1(false);
  assert.equal((await ssr(kube.url, client)).status, 404);
  assert.equal((await ssr(kube.url, client, "v1beta1")).status, 201);
});

t("kubeconfig variants point at the pem, inline data, relative paths and tokens", async () => {
  await using kube = await startFakeKube({ nodeName: "worker-1" });
  const kc = parseYaml(await Deno.readTextFile(kube.kubeconfigPath));
  assert.equal(kc.clusters[0].cluster.server, kube.url);
  assert.equal(kc.users[0].user["client-certificate"], kube.clientPemPath);
  assert.equal(kc.users[0].user["client-key"], kube.clientPemPath);
  const inline = parseYaml(await Deno.readTextFile(kube.kubeconfigInlinePath));
  const key = atob(inline.users[0].user["client-key-data"]);
  assert.match(key, /^-----BEGIN EC PRIVATE KEY-----/);
  const rel = parseYaml(await Deno.readTextFile(kube.kubeconfigRelativePath));
  const relPem = join(dirname(kube.kubeconfigRelativePath), rel.users[0].user["client-key"]);
  assert.equal(relPem, kube.clientPemPath);
  const tok = parseYaml(await Deno.readTextFile(kube.tokenKubeconfigPath));
  using client = await pemHttpClient(kube.caPath);
  const r = await ssr(kube.url, client, "v1", tok.users[0].user.token);
  assert.equal(r.body.status.userInfo.username, "system:node:worker-1");
});

t("pod list is 403 without the node's selector and lists the node's pods with it", async () => {
  await using kube = await startFakeKube({ nodeName: "worker-1" });
  await kube.addPod({ namespace: "ns1", name: "web", containers: [{ name: "app" }] });
  await kube.addPod({ namespace: "ns1", name: "elsewhere", nodeName: "worker-9" });
  using client = await pemHttpClient(kube.caPath, kube.clientPemPath);
  const denied = await getJson(podsUrl(kube.url), client);
  assert.equal(denied.status, 403);
  assert.equal(denied.body.kind, "Status");
  assert.equal(
    denied.body.message,
    'pods is forbidden: User "system:node:worker-1" cannot list resource "pods" in API group "" ' +
      "at the cluster scope: can only list/watch pods with spec.nodeName field selector",
  );
  assert.equal((await getJson(podsUrl(kube.url, "worker-9"), client)).status, 403);
  const ok = await getJson(podsUrl(kube.url, "worker-1"), client);
  assert.equal(ok.status, 200);
  assert.equal(ok.body.kind, "PodList");
  assert.match(ok.body.metadata.resourceVersion, /^\d+$/);
  assert.deepEqual(ok.body.items.map((p: { metadata: { name: string } }) => p.metadata.name), [
    "web",
  ]);
  assert.match(
    ok.body.items[0].status.containerStatuses[0].containerID,
    /^cri-o:\/\/[0-9a-f]{64}$/,
  );
  using other = await pemHttpClient(kube.caPath, kube.otherPemPath);
  assert.equal((await getJson(podsUrl(kube.url, "worker-1"), other)).status, 403);
});

t("watch from the list's resourceVersion streams ADDED, MODIFIED (deleting), DELETED", async () => {
  await using kube = await startFakeKube({ nodeName: "worker-1" });
  using client = await pemHttpClient(kube.caPath, kube.clientPemPath);
  const rv = (await getJson(podsUrl(kube.url, "worker-1"), client)).body.metadata.resourceVersion;
  const res = await fetch(
    podsUrl(
      kube.url,
      "worker-1",
      `&watch=true&resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=20`,
    ),
    { client },
  );
  assert.equal(res.status, 200);
  const added = await kube.addPod({ namespace: "ns1", name: "web" });
  await kube.addPod({ namespace: "ns1", name: "not-mine", nodeName: "worker-9" });
  await kube.markDeleting("ns1", "web", 5);
  await kube.deletePod("ns1", "web");
  const seen: WatchEvent[] = [];
  for await (const ev of watchEvents(res.body!)) {
    seen.push(ev);
    if (ev.type === "DELETED") break;
  }
  assert.deepEqual(seen.map((e) => e.type), ["ADDED", "MODIFIED", "DELETED"]);
  const meta = seen.map((e) => e.object.metadata as Record<string, unknown>);
  assert.equal(meta[0].uid, added.metadata.uid);
  assert.equal(meta[0].deletionTimestamp, undefined);
  assert.equal(typeof meta[1].deletionTimestamp, "string");
  assert.equal(meta[1].deletionGracePeriodSeconds, 5);
  assert.ok(Number(meta[2].resourceVersion) > Number(meta[1].resourceVersion));
});

t("a watch from a resourceVersion older than the compaction point gets ERROR 410", async () => {
  await using kube = await startFakeKube({ nodeName: "worker-1" });
  using client = await pemHttpClient(kube.caPath, kube.clientPemPath);
  const rv = (await getJson(podsUrl(kube.url, "worker-1"), client)).body.metadata.resourceVersion;
  await kube.addPod({ namespace: "ns1", name: "web" });
  await kube.compact();
  const res = await fetch(podsUrl(kube.url, "worker-1", `&watch=true&resourceVersion=${rv}`), {
    client,
  });
  const events: WatchEvent[] = [];
  for await (const ev of watchEvents(res.body!)) events.push(ev);
  assert.equal(events.length, 1);
  assert.equal(events[0].type, "ERROR");
  assert.equal(events[0].object.code, 410);
  assert.equal(events[0].object.reason, "Expired");
});

t("no client certificate is 401; an untrusted one fails the TLS handshake", async () => {
  await using kube = await startFakeKube();
  using anon = await pemHttpClient(kube.caPath);
  const r = await getJson(podsUrl(kube.url, kube.nodeName), anon);
  assert.equal(r.status, 401);
  assert.equal(r.body.reason, "Unauthorized");
  using untrusted = await pemHttpClient(kube.caPath, kube.untrustedPemPath);
  await assert.rejects(fetch(podsUrl(kube.url, kube.nodeName), { client: untrusted }), TypeError);
});

t("fail503 answers the next N requests with 503, then serves; the log shows them", async () => {
  await using kube = await startFakeKube();
  using client = await pemHttpClient(kube.caPath, kube.clientPemPath);
  await kube.fail503(2);
  const codes = [];
  for (let i = 0; i < 3; i++) codes.push((await ssr(kube.url, client)).status);
  assert.deepEqual(codes, [503, 503, 201]);
  const log = await kube.requests();
  assert.deepEqual(log.map((r) => r.status), [503, 503, 201]);
  assert.ok(log.every((r) => r.user === `system:node:${kube.nodeName}` && r.auth === "cert"));
});

t("rotateCert repoints the symlink; the old and the new pem both authenticate", async () => {
  await using kube = await startFakeKube({ nodeName: "worker-1" });
  const before = await Deno.readLink(kube.clientPemPath);
  const oldPem = `${kube.dir}/old.pem`;
  await Deno.copyFile(kube.clientPemPath, oldPem);
  const rotated = await kube.rotateCert();
  assert.equal(rotated.current, kube.clientPemPath);
  assert.notEqual(await Deno.readLink(kube.clientPemPath), before);
  assert.equal(await Deno.readLink(kube.clientPemPath), rotated.file);
  assert.notEqual(await Deno.readTextFile(oldPem), await Deno.readTextFile(kube.clientPemPath));
  for (const pem of [oldPem, kube.clientPemPath]) {
    using client = await pemHttpClient(kube.caPath, pem);
    assert.equal(
      (await ssr(kube.url, client)).body.status.userInfo.username,
      "system:node:worker-1",
    );
  }
});

t("dropStreams cuts an open watch; bookmark() sends a BOOKMARK at the current rv", async () => {
  await using kube = await startFakeKube({ nodeName: "worker-1" });
  using client = await pemHttpClient(kube.caPath, kube.clientPemPath);
  const pod = await kube.addPod({ namespace: "ns1", name: "web" });
  const res = await fetch(
    podsUrl(kube.url, "worker-1", "&watch=true&allowWatchBookmarks=true&timeoutSeconds=30"),
    { client },
  );
  const events = watchEvents(res.body!);
  const first = await events.next();
  assert.equal(first.value?.type, "ADDED"); // no resourceVersion: synthetic ADDED for what exists
  assert.equal(await kube.waitWatches(1), 1);
  assert.equal(await kube.bookmark(), 1);
  const bm = await events.next();
  assert.equal(bm.value?.type, "BOOKMARK");
  const bmMeta = bm.value?.object.metadata as Record<string, unknown>;
  assert.equal(bmMeta.resourceVersion, pod.metadata.resourceVersion);
  assert.equal(await kube.dropStreams(), 1);
  await assert.rejects(async () => {
    while (!(await events.next()).done) { /* drain until the cut */ }
  });
});
