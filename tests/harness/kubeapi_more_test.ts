import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import { hasGo } from "./gobuild.ts";
import { startFakeKube } from "./kubeapi.ts";
import { pemHttpClient, protobufBody, type WatchEvent, watchEvents } from "./kubeclient.ts";

const ignore = !(await hasGo());
const t = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name: `fakekube: ${name}`, ignore, fn }); // ignored: needs Go to build the fake

const podsUrl = (base: string, node: string, extra = "") =>
  `${base}/api/v1/pods?fieldSelector=spec.nodeName%3D${node}${extra}`;

t("a watch ends cleanly at timeoutSeconds", async () => {
  await using kube = await startFakeKube({ nodeName: "worker-1" });
  using client = await pemHttpClient(kube.caPath, kube.clientPemPath);
  const started = Date.now();
  const res = await fetch(podsUrl(kube.url, "worker-1", "&watch=true&timeoutSeconds=1"), {
    client,
  });
  const events: WatchEvent[] = [];
  for await (const ev of watchEvents(res.body!)) events.push(ev);
  assert.deepEqual(events, []);
  assert.ok(Date.now() - started >= 900, "stream ended before timeoutSeconds");
});

t("bookmarkIntervalMs sends BOOKMARKs only to watches that allow them", async () => {
  await using kube = await startFakeKube({ nodeName: "worker-1", bookmarkIntervalMs: 100 });
  using client = await pemHttpClient(kube.caPath, kube.clientPemPath);
  const res = await fetch(
    podsUrl(kube.url, "worker-1", "&watch=true&resourceVersion=1&allowWatchBookmarks=true"),
    { client },
  );
  const first = await watchEvents(res.body!).next();
  assert.equal(first.value?.type, "BOOKMARK");
  await res.body?.cancel().catch(() => {});
  const plain = await fetch(podsUrl(kube.url, "worker-1", "&watch=true&timeoutSeconds=1"), {
    client,
  });
  const events: WatchEvent[] = [];
  for await (const ev of watchEvents(plain.body!)) events.push(ev);
  assert.deepEqual(events, []);
});

t(
  "a watch without the node's selector is 403 with verb watch; other node's token too",
  async () => {
    await using kube = await startFakeKube({ nodeName: "worker-1" });
    using client = await pemHttpClient(kube.caPath, kube.clientPemPath);
    const res = await fetch(`${kube.url}/api/v1/pods?watch=true`, { client });
    assert.equal(res.status, 403);
    assert.match((await res.json()).message, /cannot watch resource "pods"/);
    using anon = await pemHttpClient(kube.caPath);
    const other = await fetch(podsUrl(kube.url, "worker-1"), {
      client: anon,
      headers: { authorization: `Bearer ${kube.tokens.other}` },
    });
    assert.equal(other.status, 403);
    assert.match((await other.json()).message, /User "system:node:worker-1-other"/);
    const admin = await fetch(`${kube.url}/api/v1/pods`, {
      client: anon,
      headers: { authorization: `Bearer ${kube.tokens.admin}` },
    });
    assert.equal(admin.status, 200);
    await admin.body?.cancel();
    const tf = parseYaml(await Deno.readTextFile(kube.tokenFileKubeconfigPath));
    assert.equal((await Deno.readTextFile(tf.users[0].user.tokenFile)).trim(), kube.tokens.node);
  },
);

t("updatePod keeps container IDs by name and emits MODIFIED", async () => {
  await using kube = await startFakeKube({ nodeName: "worker-1" });
  const id = "a".repeat(64);
  const pod = await kube.addPod({
    namespace: "ns1",
    name: "web",
    hostNetwork: true,
    containers: [{ name: "app", containerID: id }],
  });
  assert.equal(pod.status.containerStatuses[0].containerID, `cri-o://${id}`);
  assert.equal(pod.status.podIP, "10.0.0.5");
  const up = await kube.updatePod({
    namespace: "ns1",
    name: "web",
    phase: "Succeeded",
    containers: [{ name: "app" }, { name: "side" }],
  });
  assert.equal(up.status.phase, "Succeeded");
  assert.equal(up.status.containerStatuses[0].containerID, `cri-o://${id}`);
  assert.equal(up.status.containerStatuses.length, 2);
  using client = await pemHttpClient(kube.caPath, kube.clientPemPath);
  const res = await fetch(
    podsUrl(kube.url, "worker-1", `&watch=true&resourceVersion=${pod.metadata.resourceVersion}`),
    { client },
  );
  const ev = await watchEvents(res.body!).next();
  assert.equal(ev.value?.type, "MODIFIED");
  await res.body?.cancel().catch(() => {});
});

t("a restart on the same dir and port keeps the CA and the node's pem valid", async () => {
  const dir = await Deno.makeTempDir({ prefix: "fakekube-restart-" });
  try {
    const first = await startFakeKube({ nodeName: "worker-1", dir });
    const port = Number(new URL(first.url).port);
    const pem = await Deno.readLink(first.clientPemPath);
    await first.close();
    using client = await pemHttpClient(first.caPath, first.clientPemPath);
    await assert.rejects(fetch(podsUrl(first.url, "worker-1"), { client }), TypeError);
    await using second = await startFakeKube({ nodeName: "worker-1", dir, port });
    assert.equal(second.url, first.url);
    assert.equal(await Deno.readLink(second.clientPemPath), pem);
    const res = await fetch(podsUrl(second.url, "worker-1"), { client });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

t("requireClientCert fails the handshake without a certificate", async () => {
  await using kube = await startFakeKube({ requireClientCert: true, relativeSymlink: true });
  assert.match(await Deno.readLink(kube.clientPemPath), /^kubelet-client-[\d-]+\.pem$/);
  using anon = await pemHttpClient(kube.caPath);
  await assert.rejects(fetch(podsUrl(kube.url, kube.nodeName), { client: anon }), TypeError);
  using client = await pemHttpClient(kube.caPath, kube.clientPemPath);
  const res = await fetch(podsUrl(kube.url, kube.nodeName), { client });
  assert.equal(res.status, 200);
  await res.body?.cancel();
});

t("SelfSubjectReview takes client-go's protobuf body; a wrong kind or garbage is 400", async () => {
  await using kube = await startFakeKube({ nodeName: "worker-1" });
  using client = await pemHttpClient(kube.caPath, kube.clientPemPath);
  const post = async (body: Uint8Array<ArrayBuffer>) => {
    const res = await fetch(`${kube.url}/apis/authentication.k8s.io/v1/selfsubjectreviews`, {
      method: "POST",
      client,
      headers: { "content-type": "application/vnd.kubernetes.protobuf" },
      body,
    });
    return { status: res.status, json: await res.json() };
  };
  const ok = await post(protobufBody());
  assert.equal(ok.status, 201);
  assert.equal(ok.json.status.userInfo.username, "system:node:worker-1");
  assert.equal((await post(protobufBody("v1", "Pod"))).status, 400);
  const garbage = await post(new TextEncoder().encode("k8s\0\xff\xff") as Uint8Array<ArrayBuffer>);
  assert.equal(garbage.status, 400);
  assert.match(garbage.json.message, /unknown format/);
});
