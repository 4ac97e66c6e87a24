/**
 * Pulls from hostile coverage servers (the Go fixture's hostile modes): a redirect is never
 * followed, a gzip bomb is refused without inflating, a trickling server is cut at the timeout
 * having cost about what it sent, and trickling servers do not hold up the others.
 */

import { deepStrictEqual as assertEquals, match, ok } from "node:assert/strict";
import { hasGo } from "./harness/gobuild.ts";
import { type Covserver, startCovserver } from "./harness/covserver.ts";
import { covserverDirCollector } from "./harness/covserver_collector.ts";
import { measurePull } from "./harness/pull_memory.ts";

const noGo = !(await hasGo());

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
      const { collector, metrics } = await covserverDirCollector(srv, root);
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
  name: "hostile gzip bomb: a compressed answer (identity was asked for) is refused, not " +
    "inflated; nothing stored",
  ignore: noGo,
  sanitizeResources: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "hostile-pull-" });
    try {
      await using srv = await startCovserver({ name: "bomber", mode: "gzip-bomb" });
      const { collector, metrics } = await covserverDirCollector(srv, root);
      const out = await collector.pullNow("test", new AbortController().signal);
      assertEquals(out.result, "failed", out.error);
      match(out.error ?? "", /Content-Encoding "gzip", not asked for \(identity only\)/);
      assertEquals(metrics.value("coverage_collector_pulls_total", { result: "status" }), 1);
      assertEquals(tree(root), []);
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
        slow.map((s, i) => covserverDirCollector(s, `${root}/slow${i}`, { pullTimeout: 600_000 })),
      );
      const started = collectors.map(({ collector }, i) =>
        collector.pullNow("test", stop.signal).finally(() => settled.push(`slow${i}`))
      );
      const { collector } = await covserverDirCollector(good, `${root}/good`, {
        pullTimeout: 600_000,
      });
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

Deno.test({
  name: "hostile gzip bomb: the refused pull holds almost nothing (fetch would hold ~1000x " +
    "each compressed read while inflating, then the whole limit)",
  ignore: noGo,
  async fn() {
    await using srv = await startCovserver({ name: "bomber", mode: "gzip-bomb" });
    const maxBody = 32 << 20;
    const m = await measurePull(srv.coveragePort, maxBody, 30_000);
    assertEquals(m.kind, "status");
    ok(m.heldBytes < 4 << 20, `held ${m.heldBytes} bytes`);
  },
});

Deno.test({
  name: "hostile trickle: a server dripping 16 bytes at a time until the pull timeout costs " +
    "about what it sent, not 64 KiB per drip",
  ignore: noGo,
  async fn() {
    await using srv = await startCovserver({
      name: "trickler",
      mode: "trickle",
      env: { FIXTURE_SLOW_CHUNK: "16", FIXTURE_SLOW_INTERVAL_MS: "1" },
    });
    const m = await measurePull(srv.coveragePort, 64 << 20, 3_000);
    assertEquals(m.kind, "timeout", "cut at the pull timeout");
    await srv.stop();
    const sent = [...srv.stderr().matchAll(/trickle: sent (\d+) bytes/g)].map((x) => Number(x[1]));
    const drips = Math.max(...sent) / 16;
    // Enough drips that holding a 64 KiB buffer per drip would be far over the bound below.
    ok(drips > 500, `only ${drips} drips arrived`);
    ok(m.heldBytes < 16 << 20, `held ${m.heldBytes} bytes for ${drips} drips of 16 bytes`);
  },
});
