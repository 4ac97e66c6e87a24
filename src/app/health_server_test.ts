import assert from "node:assert/strict";
import { Health } from "../health.ts";
import { Metrics } from "../metrics.ts";
import { createApp, ListenError, serve } from "./health_server.ts";

function app(alive = true) {
  const health = new Health();
  const metrics = new Metrics();
  metrics.inc("coverage_collector_scans_total", "Scans", { result: "ok" }, 2);
  return {
    health,
    app: createApp({ health, metrics, status: () => ({ targets: [] }), alive: () => alive }),
  };
}

Deno.test("/healthz is 200 while alive and 503 when not", async () => {
  assert.equal((await app().app.request("/healthz")).status, 200);
  assert.equal((await app(false).app.request("/healthz")).status, 503);
});

Deno.test("/readyz is 503 with reasons until every part is ready", async () => {
  const { app: a, health } = app();
  health.set("scan", { ready: false, reason: "no scan yet" });
  health.set("sink", { ready: true });
  const r = await a.request("/readyz");
  assert.equal(r.status, 503);
  assert.match(await r.text(), /scan: no scan yet/);
  health.set("scan", { ready: true });
  health.set("crictl", { ready: true, degraded: true, reason: "crictl exit 1" });
  const ok = await a.request("/readyz");
  assert.equal(ok.status, 200);
  assert.match(await ok.text(), /crictl: crictl exit 1/);
});

Deno.test("/metrics is Prometheus text; /status is JSON with conditions", async () => {
  const { app: a, health } = app();
  health.set("scan", { ready: true });
  const m = await a.request("/metrics");
  assert.match(m.headers.get("content-type") ?? "", /text\/plain; version=0\.0\.4/);
  const text = await m.text();
  assert.match(text, /# TYPE coverage_collector_scans_total counter/);
  assert.match(text, /coverage_collector_scans_total\{result="ok"\} 2/);
  const s = await (await a.request("/status")).json();
  assert.equal(s.ready, true);
  assert.deepEqual(s.targets, []);
  assert.equal(s.conditions.scan.ready, true);
  assert.equal((await a.request("/nope")).status, 404);
});

Deno.test("serve binds loopback, reports the real port, and stops on abort", async () => {
  const stop = new AbortController();
  const s = serve(app().app, { hostname: "127.0.0.1", port: 0 }, stop.signal);
  assert.match(s.address, /^127\.0\.0\.1:\d+$/);
  const r = await fetch(`http://${s.address}/healthz`);
  assert.equal(await r.text(), "ok\n");
  const port = Number(s.address.split(":")[1]);
  assert.throws(
    () => serve(app().app, { hostname: "127.0.0.1", port }, stop.signal),
    (e: unknown) => e instanceof ListenError && /already in use/.test(e.message),
  );
  stop.abort();
  await s.finished;
});
