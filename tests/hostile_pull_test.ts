/**
 * Pulls from hostile coverage servers (the Go fixture's hostile modes): a redirect is never
 * followed, a gzip bomb is cut at the inflated-size limit, trickling servers do not hold up the
 * others.
 */

import { deepStrictEqual as assertEquals, match, ok } from "node:assert/strict";
import { Collector } from "../src/collect/collector.ts";
import { parseSchedule } from "../src/collect/schedule.ts";
import { parseIdentity } from "../src/identity.ts";
import { silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { DirSink } from "../src/sink/dir.ts";
import { createSystem } from "../src/system.ts";
import type { Target } from "../src/target.ts";
import { hasGo } from "./harness/gobuild.ts";
import { type Covserver, startCovserver } from "./harness/covserver.ts";

const noGo = !(await hasGo());

async function targetOf(srv: Covserver): Promise<Target> {
  const res = await fetch(`http://127.0.0.1:${srv.coveragePort}/health`, { method: "HEAD" });
  await res.body?.cancel();
  return {
    key: `_host_:${srv.coveragePort}`,
    owner: { kind: "host" },
    host: "127.0.0.1",
    port: srv.coveragePort,
    identity: parseIdentity(res.headers)!,
    hostPid: srv.pid,
    discoveredAt: new Date(),
  };
}

async function collectorFor(
  srv: Covserver,
  root: string,
  { maxBody = 64 << 20, pullTimeout = 5000 } = {},
) {
  const metrics = new Metrics();
  const collector = new Collector(await targetOf(srv), {
    sink: new DirSink(root),
    system: createSystem("/"),
    log: silentLogger,
    metrics,
    config: { pullSchedule: parseSchedule("1h"), pullTimeout, maxBody },
    hostname: "test-node",
  });
  return { collector, metrics };
}

/** The entries under `root`, recursively (relative paths). */
function tree(root: string, at = ""): string[] {
  return [...Deno.readDirSync(`${root}/${at}`)].flatMap((e) =>
    e.isDirectory ? tree(root, `${at}${e.name}/`) : [`${at}${e.name}`]
  );
}

Deno.test({
  name: "hostile redirect: a 302 to a host-side service is not followed; the pull fails (status)",
  ignore: noGo,
  sanitizeResources: false, // fetch keeps pooled connections
  async fn() {
    // Stands for what only the host can reach (a metadata service, a loopback admin port).
    const hits: string[] = [];
    const ac = new AbortController();
    const secret = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen: () => {} },
      (req) => {
        hits.push(req.url);
        return new Response("secret", { headers: { "x-art-coverage-server": "1" } });
      },
    );
    const root = await Deno.makeTempDir({ prefix: "hostile-pull-" });
    try {
      await using srv = await startCovserver({
        name: "redirector",
        mode: "redirect",
        env: { FIXTURE_REDIRECT_URL: `http://127.0.0.1:${secret.addr.port}/latest/meta-data` },
      });
      const { collector, metrics } = await collectorFor(srv, root);
      const out = await collector.pullNow("test", new AbortController().signal);
      assertEquals(out.result, "failed", out.error);
      match(out.error ?? "", /HTTP 302 \(redirects are not followed\)/);
      assertEquals(metrics.value("coverage_collector_pulls_total", { result: "status" }), 1);
      assertEquals(hits, [], "the redirect target was never fetched");
      assertEquals(tree(root), []);
    } finally {
      ac.abort();
      await secret.finished;
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "hostile gzip bomb: 10 GiB inflated is cut at maxBody (inflated bytes), nothing stored",
  ignore: noGo,
  sanitizeResources: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "hostile-pull-" });
    try {
      await using srv = await startCovserver({ name: "bomber", mode: "gzip-bomb" });
      const maxBody = 8 << 20;
      const { collector, metrics } = await collectorFor(srv, root, { maxBody });
      const out = await collector.pullNow("test", new AbortController().signal);
      assertEquals(out.result, "failed", out.error);
      match(out.error ?? "", /body \(gzip, inflated\) is over the 8388608-byte limit/);
      assertEquals(metrics.value("coverage_collector_pulls_total", { result: "too-large" }), 1);
      assertEquals(tree(root), []);
      // The server saw us stop reading long before its 10 GiB: it reports how much it sent.
      await srv.stop();
      const line = /gzip-bomb: sent (\d+) of (\d+) inflated bytes/.exec(srv.stderr());
      ok(line, srv.stderr());
      const [sent, total] = [Number(line[1]), Number(line[2])];
      assertEquals(total, 10 * 2 ** 30);
      // What is in flight (socket buffers, the compressor's window) adds a little to maxBody.
      ok(sent < 64 * maxBody, `server sent ${sent} inflated bytes for a ${maxBody}-byte limit`);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "hostile trickle: servers dripping a byte a second do not hold up another server's pull",
  ignore: noGo,
  sanitizeResources: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "hostile-pull-" });
    const slow: Covserver[] = [];
    const stop = new AbortController();
    try {
      for (let i = 0; i < 8; i++) {
        slow.push(
          await startCovserver({
            name: "trickler",
            mode: "slow",
            env: { FIXTURE_SLOW_CHUNK: "1", FIXTURE_SLOW_INTERVAL_MS: "1000" },
          }),
        );
      }
      await using good = await startCovserver({ name: "good-app" });
      // A pull timeout far beyond the test: only the events below decide.
      const settled: string[] = [];
      const collectors = await Promise.all(
        slow.map((s, i) => collectorFor(s, `${root}/slow${i}`, { pullTimeout: 600_000 })),
      );
      const started = collectors.map(({ collector }, i) =>
        collector.pullNow("test", stop.signal).finally(() => settled.push(`slow${i}`))
      );
      const { collector } = await collectorFor(good, `${root}/good`, { pullTimeout: 600_000 });
      const out = await collector.pullNow("test", stop.signal);
      assertEquals(out.result, "stored", out.error);
      assertEquals(settled, [], "every trickling pull is still under way");
      stop.abort();
      const ends = await Promise.all(started);
      assertEquals(ends.map((e) => e.result), slow.map(() => "aborted"));
    } finally {
      stop.abort();
      await Promise.all(slow.map((s) => s.stop()));
      await Deno.remove(root, { recursive: true });
    }
  },
});
