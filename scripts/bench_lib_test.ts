import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CaptureWatcher,
  cpuTimes,
  metricSum,
  parseMetrics,
  parseThreadStat,
  peakRss,
  percentile,
} from "./bench_lib.ts";
import { BenchReportSchema, formatTable } from "./bench_report.ts";
import { threadDelta } from "./bench_compare.ts";

Deno.test("parseMetrics: labels, comments, sums over labels, first existing name", () => {
  const m = parseMetrics(
    [
      "# HELP a_total A",
      "# TYPE a_total counter",
      'a_total{result="ok"} 3',
      'a_total{result="error",x="y z"} 2',
      "b 1.5e3",
      "c NaN",
      "",
    ].join("\n"),
  );
  assert.equal(m.get("a_total")?.get('{result="ok"}'), 3);
  assert.equal(metricSum(m, "a_total"), 5);
  assert.equal(metricSum(m, "missing", "b"), 1500);
  assert.equal(metricSum(m, "c"), 0);
  assert.equal(metricSum(m, "missing"), 0);
});

Deno.test("percentile: nearest rank, empty is NaN", () => {
  assert.equal(percentile([4, 1, 3, 2], 50), 2);
  assert.equal(percentile([4, 1, 3, 2], 95), 4);
  assert.equal(percentile([7], 95), 7);
  assert.ok(Number.isNaN(percentile([], 50)));
});

Deno.test("cpuTimes and peakRss of this process", async () => {
  let x = 0;
  for (let i = 0; i < 3e7; i++) x += i;
  assert.ok(x > 0);
  const t = await cpuTimes(Deno.pid);
  assert.ok(t.own > 0 && t.children >= 0, JSON.stringify(t));
  assert.ok(await peakRss(Deno.pid) > 1024 * 1024);
  await assert.rejects(cpuTimes(2 ** 22 + 1), /proc/);
});

Deno.test("CaptureWatcher: a prefix counts once a non-temp file is under it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "bench-watch-" });
  try {
    const w = new CaptureWatcher(dir, 10);
    const since = Date.now() - 50;
    w.watch("h/ns/p/c", since);
    w.watch("h/ns/q/c", since);
    await Deno.mkdir(join(dir, "h/ns/p/c/T/img/bin"), { recursive: true });
    await Deno.writeTextFile(join(dir, "h/ns/p/c/T/img/bin/.covmeta.x.1.tmp"), "");
    await w.poll();
    assert.deepEqual(w.pending().sort(), ["h/ns/p/c", "h/ns/q/c"]);
    await Deno.writeTextFile(join(dir, "h/ns/p/c/T/img/bin/covmeta.x"), "m");
    await w.poll();
    assert.deepEqual(w.pending(), ["h/ns/q/c"]);
    const [lat] = w.latencies(["h/ns/p/c", "h/ns/q/c"]);
    assert.equal(lat.prefix, "h/ns/p/c");
    assert.ok(lat.ms >= 50);
    assert.equal(await w.settled(30), false);
    const ac = new AbortController();
    const loop = w.start(ac.signal);
    await Deno.mkdir(join(dir, "h/ns/q/c"), { recursive: true });
    await Deno.writeTextFile(join(dir, "h/ns/q/c/info.json"), "{}");
    assert.equal(await w.settled(5000), true);
    ac.abort();
    await loop;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("formatTable shows every section; n/a for missing rates", () => {
  const r = BenchReportSchema.parse({
    servers: 10,
    pods: 10,
    kube: true,
    durationS: 30,
    setupS: 1,
    initialCaptureS: 2,
    initialCaptured: 10,
    cpuSecondsTotal: 1.5,
    cpuSecondsChildren: 0.2,
    idleCpuPercent: 3,
    peakRssMiB: 90,
    idleWindowS: 15,
    scansPerMinuteIdle: 6,
    crictlRunsPerScanIdle: null,
    crictlRunsTotal: 12,
    storesPerHourIdle: 0,
    pullsPerHourIdle: 7200,
    skippedUnchangedPerHourIdle: 0,
    newServers: { started: 4, captured: 4, p50Ms: 800, p95Ms: 1200, maxMs: 1300 },
    missed: [],
    collectorExit: 0,
  });
  const t = formatTable(r);
  assert.match(t, /crictl runs\/scan \(idle\)\s+n\/a \(total 12\)/);
  assert.match(t, /first capture p50\/p95\/max\s+800ms \/ 1200ms \/ 1300ms/);
  assert.match(t, /missed\s+none/);
});

Deno.test("parseThreadStat reads a thread's name (spaces and parentheses kept) and utime+stime", () => {
  const rest = "S 1 1 1 0 -1 4194560 0 0 0 0 250 50 0 0 20 0 1 0 5000";
  assert.deepEqual(parseThreadStat(`77 (V8 DefaultWorke) ${rest}`), {
    name: "V8 DefaultWorke",
    cpu: 3,
  });
  assert.deepEqual(parseThreadStat(`78 (a) b)) ${rest}`)?.name, "a) b)");
  assert.deepEqual(parseThreadStat("garbage"), null);
});

Deno.test("threadDelta splits a window's CPU by thread name; ended threads and children apart", () => {
  const a = { own: 10, children: 1, threads: new Map([["deno", 6], ["tokio-runtime-w", 3]]) };
  const b = { own: 14, children: 1.5, threads: new Map([["deno", 8], ["tokio-runtime-w", 3.5]]) };
  assert.deepEqual(threadDelta(a, b), {
    deno: 2,
    "tokio-runtime-w": 0.5,
    "ended threads": 1.5,
    "children (crictl)": 0.5,
  });
});
