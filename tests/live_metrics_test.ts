/**
 * Live coverage and metrics hygiene on the running daemon (host-only mode, a real `-cover`
 * server on the host): /status's coverage equals `go tool covdata debugdump`'s statement totals
 * of what was stored, and /metrics passes the Prometheus project's own text parser (expfmt, in
 * tests/fixtures/promcheck) with every family under `coverage_collector_`.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { spawnCollector } from "./harness/collector.ts";
import { hasGo, isRoot } from "./harness/gobuild.ts";
import { startCovserver } from "./harness/covserver.ts";
import { go } from "./harness/stored.ts";
import { promcheck } from "./harness/promcheck.ts";
import { Collector } from "../src/collect/collector.ts";
import { parseSchedule } from "../src/collect/schedule.ts";
import { SCHEDULE_REASON } from "../src/collect/store_rule.ts";
import { StatementTables } from "../src/coverage/live.ts";
import { silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { DirSink } from "../src/sink/dir.ts";
import { createSystem } from "../src/system.ts";

const skip = !(await hasGo()) || !isRoot();

Deno.test("promcheck refuses what Prometheus refuses (it can fail)", async () => {
  if (!(await hasGo())) return;
  await promcheck("# HELP a_b x\n# TYPE a_b gauge\na_b 1\n");
  for (
    const bad of [
      '# HELP a_b x\n# TYPE a_b gauge\na_b{x="1"} 1\na_b{x="1"} 2\n',
      "# HELP a_b x\n# TYPE a_b gauge\na_b{x=1} 1\n",
      "a_b 1\n",
    ]
  ) {
    let refused = false;
    await promcheck(bad).catch(() => refused = true);
    ok(refused, bad);
  }
});

interface Coverage {
  covered: number;
  total: number;
  percent: number;
  lastChange: string;
}

Deno.test({
  name: "daemon: live coverage in /status equals covdata's totals; /metrics parses with expfmt",
  ignore: skip,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "cc-live-" });
    await using srv = await startCovserver({ name: "live-app" });
    await (await fetch(`http://127.0.0.1:${srv.appPort}/run/alpha`)).body?.cancel();
    const c = await spawnCollector([
      "run",
      "--health-addr=127.0.0.1:0",
      `--output-dir=${join(dir, "out")}`,
      `--state-dir=${join(dir, "state")}`,
      `--crictl=${join(dir, "no-crictl-here")}`,
      "--kubeconfig-wait=0s",
      "--sink=dir",
      `--port-start=${srv.coveragePort}`,
      "--port-span=1",
      "--hostname=live-node",
    ], { cwd: dir });
    try {
      const url = await c.healthUrl();
      await c.waitLine(/msg=collecting /);
      const status = async () => {
        const st = (await (await fetch(`${url}/status`)).json()).engine;
        const t = st.targets.find((x: { port: number }) => x.port === srv.coveragePort);
        return t as
          | { prefix: string; coverage: Coverage | null; lastNewCoverage: string | null }
          | undefined;
      };
      // The first counters are measured as they are stored, just after the line above.
      let t = await status();
      for (let i = 0; i < 100 && !t?.coverage; i++) {
        await new Promise((r) => setTimeout(r, 100));
        t = await status();
      }
      ok(t?.coverage, "no live coverage in /status");
      // Compare when no store came between the two /status reads around the dump.
      let judged = false;
      for (let i = 0; i < 5 && !judged; i++) {
        const before = (await status())!.coverage!;
        const dump = await go(["tool", "covdata", "debugdump", "-i", join(dir, "out", t.prefix)]);
        const after = (await status())!.coverage!;
        if (before.lastChange !== after.lastChange) continue;
        const m = /totalStmts: (\d+) coveredStmts: (\d+)/.exec(dump)!;
        assertEquals([before.total, before.covered], [Number(m[1]), Number(m[2])]);
        judged = true;
      }
      ok(judged, "coverage kept changing while judged");

      const scrape = await (await fetch(`${url}/metrics`)).text();
      const families = await promcheck(scrape);
      const names = families.map((l) => l.split(" ")[0]);
      ok(names.length > 10, families.join("\n"));
      assertEquals(names.filter((n) => !n.startsWith("coverage_collector_")), []);
      // Other tests' servers may be collected too (the host is shared): pick ours by binary.
      const ours = (name: string) =>
        scrape.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes('binary="live-app"'));
      const line = ours("coverage_collector_server_statements");
      ok(
        line?.includes('namespace="_host_",pod="",container=""'),
        `no statements gauge in\n${scrape}`,
      );
      assertEquals(Number(line?.split(" ").pop()), t.coverage.total);
      const ratio = Number(ours("coverage_collector_server_coverage_ratio")?.split(" ").pop());
      ok(ratio > 0 && ratio < 1, `ratio ${ratio}`);
      // What was newly covered, when, and the timeline of it beside the counters.
      const fresh = Number(
        ours("coverage_collector_newly_covered_statements_total")?.split(" ")
          .pop(),
      );
      ok(fresh > 0 && fresh <= t.coverage.total, `newly covered ${fresh}`);
      const last = (await status())!.lastNewCoverage;
      ok(last !== null && Date.parse(last) <= Date.now(), `lastNewCoverage ${last}`);
      // The timeline is written just after the counters it goes with.
      const leaf = join(dir, "out", t.prefix);
      const hasTimeline = () =>
        [...Deno.readDirSync(leaf)].some((e) => e.name.startsWith("covtimeline."));
      for (let i = 0; i < 100 && !hasTimeline(); i++) await new Promise((r) => setTimeout(r, 50));
      ok(hasTimeline(), [...Deno.readDirSync(leaf)].map((e) => e.name).join(","));
    } finally {
      await c.stop("SIGTERM");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "two servers of one build: one statement table, each server's figures as covdata's",
  ignore: !(await hasGo()),
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "cc-live-pair-" });
    const tables = new StatementTables();
    const deps = {
      sink: new DirSink(root),
      system: createSystem("/"),
      log: silentLogger,
      metrics: new Metrics(),
      config: { pullSchedule: parseSchedule("1s"), pullTimeout: 5000, maxBody: 64 << 20 },
      hostname: "live-node",
      tables,
    };
    await using a = await startCovserver({ name: "pair-app" });
    await using b = await startCovserver({ name: "pair-app" });
    await (await fetch(`http://127.0.0.1:${b.appPort}/run/beta?n=3`)).body?.cancel();
    const signal = new AbortController().signal;
    // Both collectors stay live, as in the daemon: the tables are weakly held, so a dropped
    // collector's table may be collected (and computed again) at any GC.
    const live: Collector[] = [];
    for (const srv of [a, b]) {
      const c = new Collector({
        key: `_host_:${srv.coveragePort}`,
        owner: { kind: "host" },
        host: "127.0.0.1",
        port: srv.coveragePort,
        identity: { binary: "pair-app", pid: srv.pid, extra: {} },
        hostPid: srv.pid,
        discoveredAt: new Date(Date.now() + srv.coveragePort),
      }, deps);
      live.push(c);
      assertEquals(c.status().coverage, null);
      assertEquals((await c.pullNow(SCHEDULE_REASON, signal)).result, "stored");
      const cov = c.status().coverage!;
      const dump = await go(["tool", "covdata", "debugdump", "-i", join(root, c.prefix)]);
      const m = /totalStmts: (\d+) coveredStmts: (\d+)/.exec(dump)!;
      assertEquals([cov.total, cov.covered], [Number(m[1]), Number(m[2])]);
      assertEquals(c.status().pulls, 1);
    }
    assertEquals([tables.computed, live.length], [1, 2]);
  },
});
