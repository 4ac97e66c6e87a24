import assert from "node:assert/strict";
import { Health } from "../health.ts";
import { silentLogger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { Backoff } from "../backoff.ts";
import { KubeClient } from "./client.ts";
import { parseKubeconfig } from "./kubeconfig.ts";
import { podsQuery, PodWatcher } from "./pods.ts";
import { json, scriptedApi, status } from "../../tests/doubles/scripted_api.ts";

const pod = (uid: string, rv: string) => ({
  metadata: { uid, name: `p-${uid}`, namespace: "ns", resourceVersion: rv },
});
const line = (o: unknown) => JSON.stringify(o) + "\n";

function chunked(parts: string[], keepOpen = false): Response {
  const enc = new TextEncoder();
  return new Response(
    new ReadableStream({
      start(c) {
        for (const p of parts) c.enqueue(enc.encode(p));
        if (!keepOpen) c.close();
      },
    }),
    { headers: { "content-type": "application/json" } },
  );
}

Deno.test("podsQuery encodes the field selector", () => {
  assert.equal(podsQuery("n 1", { watch: "true" }), "fieldSelector=spec.nodeName%3Dn+1&watch=true");
});

Deno.test("list, watch across split chunks, bookmark, normal end, 500 error, 410 relist", async () => {
  let lists = 0;
  let watches = 0;
  let fourth!: () => void;
  const fourthWatch = new Promise<void>((r) => fourth = r);
  const added = line({ type: "ADDED", object: pod("b", "11") });
  await using api = await scriptedApi((_req, url) => {
    if (url.searchParams.get("watch") !== "true") {
      lists++;
      return json({
        metadata: { resourceVersion: lists === 1 ? "10" : "20" },
        items: [pod("a", "9")],
      });
    }
    watches++;
    if (watches === 1) {
      return chunked([
        added.slice(0, 17),
        added.slice(17) + "{broken\n" +
        line({ type: "BOOKMARK", object: { metadata: { resourceVersion: "15" } } }).slice(0, 5),
        line({ type: "BOOKMARK", object: { metadata: { resourceVersion: "15" } } }).slice(5),
      ]);
    }
    if (watches === 2) {
      return chunked([
        line({ type: "ERROR", object: { kind: "Status", code: 500, message: "etcd" } }),
      ]);
    }
    if (watches === 3) {
      return chunked([
        line({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } }),
      ]);
    }
    fourth();
    return chunked([line({ type: "DELETED", object: pod("a", "21") })], true);
  });
  const path = await api.kubeconfig("    token: t\n");
  const client = await KubeClient.create(
    parseKubeconfig(await Deno.readTextFile(path), { path }),
    "/",
    { log: silentLogger, allowHttp: true },
  );
  const seen: string[] = [];
  const deleted = Promise.withResolvers<void>();
  const health = new Health();
  const metrics = new Metrics();
  const w = new PodWatcher(client, "n1", { log: silentLogger, metrics, health }, {
    synced: (pods) => seen.push(`sync ${pods.map((p) => p.metadata.uid).join(",")}`),
    event: (type, p) => {
      seen.push(`${type} ${p.metadata.uid}`);
      if (type === "DELETED") deleted.resolve();
    },
  }, { backoff: new Backoff({ initialMs: 1, maxMs: 2 }), random: () => 0.5 });
  const ac = new AbortController();
  const running = w.run(ac.signal);
  try {
    await fourthWatch;
    await deleted.promise;
  } finally {
    ac.abort();
    await running;
    client.close();
  }
  assert.deepEqual(seen, ["sync a", "ADDED b", "sync a", "DELETED a"]);
  const wq = api.requests.filter((r) => r.query.includes("watch=true")).map((r) =>
    new URLSearchParams(r.query)
  );
  assert.deepEqual(wq.map((q) => q.get("resourceVersion")), ["10", "15", "15", "20"]);
  for (const q of wq) {
    assert.equal(q.get("fieldSelector"), "spec.nodeName=n1");
    assert.equal(q.get("allowWatchBookmarks"), "true");
    assert.equal(q.get("timeoutSeconds"), "330");
  }
  const s = w.status();
  assert.equal(s.relists, 1);
  assert.equal(s.eventsSeen, 2);
  assert.equal(s.reconnects, 2, "normal end + 500; the 410 is a relist");
  assert.equal(metrics.value("coverage_collector_kube_events_total", { type: "ADDED" }), 1);
  assert.equal(health.get("kube")?.ready, true);
});

Deno.test("403 on the list is a health fault with the API's message; it clears on success", async () => {
  let n = 0;
  await using api = await scriptedApi((_req, url) => {
    if (url.searchParams.get("watch") === "true") return chunked([], true);
    return ++n === 1
      ? status(403, "Forbidden", 'pods is forbidden: User "system:node:n1" cannot list')
      : json({ metadata: { resourceVersion: "1" }, items: [] });
  });
  const path = await api.kubeconfig("    token: t\n");
  const client = await KubeClient.create(
    parseKubeconfig(await Deno.readTextFile(path), { path }),
    "/",
    { log: silentLogger, allowHttp: true },
  );
  const health = new Health();
  const reasons: Array<string | undefined> = [];
  const set = health.set.bind(health);
  const synced = Promise.withResolvers<void>();
  health.set = (p, c) => {
    set(p, c);
    reasons.push(c.reason);
  };
  const w = new PodWatcher(client, "n1", { log: silentLogger, metrics: new Metrics(), health }, {
    synced: () => synced.resolve(),
    event: () => {},
  }, { backoff: new Backoff({ initialMs: 1, maxMs: 2 }) });
  const ac = new AbortController();
  const running = w.run(ac.signal);
  await synced.promise;
  ac.abort();
  await running;
  client.close();
  assert.equal(
    reasons[0],
    'node identity cannot list pods: pods is forbidden: User "system:node:n1" cannot list',
  );
  assert.equal(health.get("kube")?.ready, true);
});
