/** The Collector against the real Go coverage fixture, stored with the directory sink. */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { hasGo } from "./harness/gobuild.ts";
import { covdataPercentOf } from "./harness/stored.ts";
import { type Covserver, startCovserver } from "./harness/covserver.ts";
import { type CollectorOfOptions, covserverDirCollector } from "./harness/covserver_collector.ts";

const noGo = !(await hasGo());

/** The directory-sink collector of `srv` (pull schedule 100ms). */
function collectorFor(srv: Covserver, root: string, limits: CollectorOfOptions = {}) {
  // `plain` mode answers without identity: file it as if the server was seen before.
  const fallback = { binary: "modes-app", pid: srv.pid, extra: {} };
  return covserverDirCollector(srv, root, { ...limits, schedule: "100ms", fallback });
}

Deno.test({
  name: "collected fixture data is readable by go tool covdata percent, and grows with use",
  ignore: noGo,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "collect-covserver-" });
    await using srv = await startCovserver({ name: "alpha-app" });
    try {
      const { collector, dir } = await collectorFor(srv, root);
      const signal = new AbortController().signal;
      assertEquals((await collector.pullNow("first", signal)).result, "stored");
      const before = await covdataPercentOf(dir);
      assertEquals(before.code, 0, before.out);
      const res = await fetch(`http://127.0.0.1:${srv.appPort}/run/alpha`);
      await res.body?.cancel();
      assertEquals((await collector.pullNow("after alpha", signal)).result, "stored");
      const after = await covdataPercentOf(dir);
      assertEquals(after.code, 0, after.out);
      ok(/coverage: [\d.]+% of statements/.test(after.out), after.out);
      ok(after.out !== before.out, `coverage did not change:\n${before.out}\n${after.out}`);
      const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
      const hash = names.find((n) => n.startsWith("covmeta."))!.slice("covmeta.".length);
      assertEquals(names, [
        `covcounters.${hash}.${srv.pid}.1`,
        `covcounters.${hash}.${srv.pid}.2`,
        `covmeta.${hash}`,
        `covtimeline.${hash}.${srv.pid}`,
        "info.json",
      ]);
      await srv.stop();
      const gone = await collector.pullNow("after exit", signal);
      assertEquals([gone.result, gone.end], ["ended", "pid-gone"]);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

for (
  const [mode, result, label, limits] of [
    ["truncated-meta", "rejected", "truncated", {}],
    ["foreign-hash", "rejected", "hash", {}],
    ["bad-base64", "rejected", "base64", {}],
    ["garbage-json", "rejected", "json", {}],
    ["oversized", "failed", "too-large", { maxBody: 1 << 20 }],
    ["slow", "failed", "timeout", { pullTimeout: 500 }],
    ["cover500", "failed", "status", {}],
    ["plain", "ended", "identity-changed", {}],
  ] as const
) {
  Deno.test({
    name: `fixture mode ${mode}: the pull is ${result} (${label}) and nothing is stored`,
    ignore: noGo,
    async fn() {
      const root = await Deno.makeTempDir({ prefix: "collect-covserver-" });
      await using srv = await startCovserver({ name: "modes-app", mode });
      try {
        const { collector, metrics } = await collectorFor(srv, root, limits);
        const out = await collector.pullNow("test", new AbortController().signal);
        assertEquals(out.result, result, out.error);
        assertEquals(metrics.value("coverage_collector_pulls_total", { result: label }), 1);
        assertEquals([...Deno.readDirSync(root)], []);
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    },
  });
}

Deno.test({
  name: "fixture identity change (exec'd binary) ends the run without storing the new answer",
  ignore: noGo,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "collect-covserver-" });
    await using srv = await startCovserver({
      name: "wrapped-app",
      mode: "identity-change",
      env: { FIXTURE_CHANGE_AFTER: "3" },
    });
    try {
      const { collector, metrics, dir } = await collectorFor(srv, root);
      const end = await collector.run(AbortSignal.timeout(20_000));
      assertEquals(end, "identity-changed");
      const names = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) =>
        n.startsWith("covcounters.")
      );
      // Request 1 was the HEAD; pulls 2 and 3 answer as the first binary, pull 4 as the new one.
      assertEquals(metrics.value("coverage_collector_pulls_total", { result: "ok" }), 2);
      assertEquals(
        metrics.value("coverage_collector_pulls_total", { result: "identity-changed" }),
        1,
      );
      ok(names.length >= 1 && names.length <= 2, names.join(","));
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});
