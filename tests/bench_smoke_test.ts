import assert from "node:assert/strict";
import { runBench } from "../scripts/bench.ts";
import { BenchReportSchema } from "../scripts/bench_report.ts";
import { hasGo } from "./harness/gobuild.ts";
import { canSimulateNode } from "./harness/node.ts";

const skip = !(await hasGo()) || !(await canSimulateNode());

Deno.test({
  name: "bench quick run: report shape, every server captured, new ones timed" +
    (skip ? " (skipped: needs root, netns, cgroups, Go)" : ""),
  ignore: skip,
  async fn() {
    const lines: string[] = [];
    const report = await runBench(
      { servers: 5, durationMs: 15_000, newServers: 2, kube: true, captureTimeoutMs: 60_000 },
      (m) => lines.push(m),
    );
    const r = BenchReportSchema.parse(report);
    assert.equal(r.initialCaptured, 5, lines.join("\n"));
    assert.deepEqual(r.missed, []);
    assert.equal(r.newServers.started, 2);
    assert.equal(r.newServers.captured, 2);
    assert.ok(r.newServers.p50Ms !== null && r.newServers.p95Ms !== null);
    assert.ok(r.newServers.p50Ms >= 0 && r.newServers.p50Ms <= r.newServers.p95Ms);
    assert.ok((r.cpuSecondsTotal ?? 0) > 0, "collector CPU time read from /proc");
    assert.ok((r.peakRssMiB ?? 0) > 10, "collector VmHWM read from /proc");
    assert.ok(r.crictlRunsTotal > 0, "the collector ran the node's crictl");
    assert.ok(r.pullsPerHourIdle !== null && r.pullsPerHourIdle > 0);
    assert.equal(r.collectorExit, 0);
    assert.ok(lines.some((l) => /all 5 servers stored/.test(l)), lines.join("\n"));
    assert.ok(!lines.some((l) => /left behind/.test(l)), lines.join("\n"));
  },
});
