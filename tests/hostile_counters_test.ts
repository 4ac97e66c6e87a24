/**
 * A hostile server whose counters do not fit its own (real) meta-data, beside a good one: its
 * counters are refused (not stored, counted by kind) or, counters-only, cut at what the
 * meta-data allows; the counters it stored before stay, the good server is collected, and
 * /healthz answers throughout.
 */

import { deepStrictEqual as assertEquals, match, ok } from "node:assert/strict";
import { hasGo } from "./harness/gobuild.ts";
import { startCovserver } from "./harness/covserver.ts";
import { collectorOf, covserverDirCollector } from "./harness/covserver_collector.ts";
import { identityHeaders } from "./harness/covfiles.ts";
import { encodeCounterFile, oneFunctionCounters } from "./harness/counterfile.ts";
import { parseIdentity } from "../src/probe/server_identity.ts";
import { DirSink } from "../src/sink/dir.ts";
import { createApp, serve } from "../src/app/health_server.ts";
import { Health } from "../src/health.ts";
import { Metrics } from "../src/metrics.ts";
import type { Target } from "../src/target.ts";

const noGo = !(await hasGo());

/** The files under `root`, recursively (relative paths). */
function tree(root: string, at = ""): string[] {
  return [...Deno.readDirSync(`${root}/${at}`)].flatMap((e) =>
    e.isDirectory ? tree(root, `${at}${e.name}/`) : [`${at}${e.name}`]
  );
}

const fromB64 = (s: string) => Uint8Array.fromBase64(s);
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** A loopback server answering /coverage with a real build's meta-data and `counters()`. */
function hostileServer(meta: Uint8Array, counters: () => Uint8Array) {
  const ac = new AbortController();
  const hash = hex(meta.subarray(24, 40));
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
    (req) => {
      const nometa = new URL(req.url).searchParams.get("nometa") === "1";
      const body = `{"meta_filename":"${nometa ? "" : `covmeta.${hash}`}",` +
        `"meta_data":"${nometa ? "" : meta.toBase64()}",` +
        `"counters_filename":"covcounters.${hash}.${Deno.pid}.1",` +
        `"counters_data":"${counters().toBase64()}","timestamp":1}`;
      return new Response(body, { headers: identityHeaders("hostile", Deno.pid) });
    },
  );
  return {
    hash,
    port: server.addr.port,
    async [Symbol.asyncDispose]() {
      ac.abort();
      await server.finished;
    },
  };
}

Deno.test({
  name: "hostile counters that do not fit the meta-data are refused; the last stored stay, " +
    "a good server beside is collected, /healthz answers",
  ignore: noGo,
  sanitizeResources: false, // fetch keeps pooled connections
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "hostile-counters-" });
    const stop = new AbortController();
    try {
      await using good = await startCovserver({ name: "good-app" });
      const real = await (await fetch(`http://127.0.0.1:${good.coveragePort}/coverage`)).json();
      const meta = fromB64(real.meta_data);
      const fitting = fromB64(real.counters_data);
      let counters: Uint8Array = fitting;
      await using bad = hostileServer(meta, () => counters);
      const target: Target = {
        key: `_host_:${bad.port}`,
        owner: { kind: "host" },
        host: "127.0.0.1",
        port: bad.port,
        identity: parseIdentity(new Headers(identityHeaders("hostile", Deno.pid)))!,
        hostPid: Deno.pid,
        discoveredAt: new Date(),
      };
      const metrics = new Metrics();
      const { collector } = collectorOf(target, new DirSink(`${root}/bad`), { metrics });
      const health = serve(
        createApp({ health: new Health(), metrics, status: () => ({}) }),
        { hostname: "127.0.0.1", port: 0 },
        stop.signal,
      );
      const healthz = async () => {
        const res = await fetch(`http://${health.address}/healthz`);
        return [res.status, await res.text()];
      };

      assertEquals((await collector.pullNow("schedule", stop.signal)).result, "stored");
      // A function index past the meta-data's functions of package 0.
      counters = encodeCounterFile({
        hash: bad.hash,
        functions: [{ pkgIdx: 0, funcIdx: 1_000_000, counters: [1] }],
      });
      const outside = await collector.pullNow("schedule", stop.signal);
      assertEquals(outside.result, "rejected", outside.error);
      match(outside.error ?? "", /does not fit its meta-data: function 1000000 of package 0/);
      // 20 M counters: a counters-only pull is cut at what fits the meta-data (before it is held
      // or parsed); /healthz is asked meanwhile.
      counters = oneFunctionCounters(bad.hash, 0, 0, 20_000_000);
      const [huge, answer] = await Promise.all([
        collector.pullNow("shutdown", stop.signal),
        healthz(),
      ]);
      assertEquals(huge.result, "failed", huge.error);
      match(huge.error ?? "", /over the \d+-byte limit/);
      assertEquals(answer, [200, "ok\n"]);
      const refused = (kind: string) =>
        metrics.value("coverage_collector_counters_refused_total", { kind });
      assertEquals(refused("function-index"), 1);
      assertEquals(metrics.value("coverage_collector_pulls_total", { result: "too-large" }), 1);
      match(
        metrics.render(),
        /coverage_collector_counters_refused_total\{kind="function-index"\} 1/,
      );

      // The same body as a server's first answer (with its meta-data: not bounded before it is
      // read) is refused at its entry: a string set of it was a RangeError.
      const fresh = collectorOf(target, new DirSink(`${root}/fresh`), { metrics });
      const first = await fresh.collector.pullNow("schedule", stop.signal);
      assertEquals(first.result, "rejected", first.error);
      match(first.error ?? "", /20000000 counters for function 0 of package 0/);
      assertEquals(refused("function-counters"), 1);
      assertEquals(tree(`${root}/fresh`).filter((p) => p.includes("/covcounters.")), []);

      // Only the fitting counters were stored; they are still the last stored (identical again).
      const stored = tree(`${root}/bad`).filter((p) => p.includes("/covcounters."));
      assertEquals(stored.length, 1, stored.join(" "));
      assertEquals(Deno.readFileSync(`${root}/bad/${stored[0]}`), fitting);
      counters = fitting;
      assertEquals((await collector.pullNow("shutdown", stop.signal)).result, "unchanged");

      // The good server beside it is collected as usual.
      const g = await covserverDirCollector(good, `${root}/good`);
      const out = await g.collector.pullNow("schedule", stop.signal);
      assertEquals(out.result, "stored", out.error);
      ok(tree(`${root}/good`).some((p) => p.includes("/covcounters.")));
      assertEquals(await healthz(), [200, "ok\n"]);
      stop.abort();
      await health.finished;
    } finally {
      stop.abort();
      await Deno.remove(root, { recursive: true });
    }
  },
});
