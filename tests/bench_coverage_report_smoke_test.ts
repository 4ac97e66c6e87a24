import assert from "node:assert/strict";
import { makeStore, timeReport, timeShards } from "../scripts/bench_coverage_report.ts";
import { hasGo } from "./harness/gobuild.ts";

Deno.test({
  name: "report benchmark quick run: every generated prefix merged, figures read from the child",
  ignore: !(await hasGo()),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "bench-report-smoke-" });
    try {
      await makeStore(dir, 120);
      const r = await timeReport(dir, 120);
      assert.equal(r.exitCode, 0);
      assert.equal(r.merged, 120);
      assert.ok(r.covered > 0 && r.covered < r.statements, JSON.stringify(r));
      assert.ok(r.cpuSeconds > 0 && r.peakRssMiB > 10, JSON.stringify(r));
      // --shards: three shards' partials merged give the same figures.
      const s = await timeShards(dir, 3);
      assert.ok(s.equal && s.shard.exitCode === 0 && s.merge.exitCode === 0, JSON.stringify(s));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
