/**
 * Benchmark of the collector daemon on a simulated node (tests/harness/scenario.ts):
 * `scripts/bench [--servers 100] [--duration 5m] [--new-servers 20] [--kube] [--quick]
 * [--settle 5m] [--big 20] [--burn] [--compare main] [--pull-idle 60s@5m]`, or `scripts/bench --decode [--body 64MiB]`
 * (scripts/bench_decode.ts: one large body's decode time, RSS growth and event-loop stall).
 * Phases: start N servers (and --big field-size servers on the host), start the collector (dir
 * sink), wait until every server is stored (cold start: p100 time, crictl runs), wait --settle,
 * measure an idle window (first half of --duration), then start new servers spread over the
 * second half and time their first capture. --burn keeps one core busy throughout. --compare
 * REF runs REF's export beside this tree's collector (scripts/bench_compare.ts): both idle CPU
 * figures, and both split by thread, from one run. Prints a
 * table and a `BENCH_JSON {...}` line. Needs root, `ip netns`, `unshare` and Go.
 */

import { parseArgs } from "node:util";
import { type CollectorProcess, spawnCollector } from "../tests/harness/collector.ts";
import { allServers, buildScenario, type Scenario } from "../tests/harness/scenario.ts";
import { join } from "node:path";
import {
  anonRss,
  CaptureWatcher,
  cpuTimes,
  fileNames,
  metricSum,
  peakRss,
  percentile,
  scrape,
} from "./bench_lib.ts";
import { type BigServers, startBigServers, startBurner } from "./bench_load.ts";
import { type BenchReport, formatTable, parseDuration } from "./bench_report.ts";
import {
  type CpuSnapshot,
  cpuSnapshot,
  type ExportedTree,
  exportRef,
  threadDelta,
  withFolders,
} from "./bench_compare.ts";
import { canRunNode, countFlag, runMain, scriptArgs, untilStopped } from "./node_script.ts";

export type { BenchReport } from "./bench_report.ts";

/** What to run. */
export interface BenchOptions {
  servers: number;
  durationMs: number;
  /** Servers started during the second half of the run (one pod each). */
  newServers: number;
  kube: boolean;
  /** First coverage port of the servers and the collector; default 54300 (apart from tests). */
  portStart?: number;
  /** Longest wait for the first capture of every server; default 120 s. */
  captureTimeoutMs?: number;
  /** Keep one core busy with a burner process for the whole run. */
  burn?: boolean;
  /** Field-size servers (versitygw built with -cover) started on the host before the collector. */
  big?: number;
  /** Wait this long after the first captures before the idle window (servers past 5 min pull
   * every 10 s: the steady state). */
  settleMs?: number;
  /** A git ref whose export runs beside this tree's collector (e.g. "main"). */
  compare?: string;
  /** `--pull-idle` for this tree's collector only (e.g. "60s@5m"). */
  pullIdle?: string;
}

/** Pods the SimNode can give one run (pod-network pods; see netns.ts). */
const POD_BUDGET = 64;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done);
  });
}

interface Sample {
  at: number;
  cpuOwn: number;
  cpuChildren: number;
  crictlCalls: number;
  scans: number;
  stores: number;
  pulls: number;
  skipped: number;
}

async function sample(c: CollectorProcess, health: string, sc: Scenario): Promise<Sample> {
  let got;
  try {
    got = await Promise.all([cpuTimes(c.child.pid), scrape(health), sc.node.crictlCalls()]);
  } catch (e) {
    const tail = c.lines.slice(-5).join("\n  ");
    throw new Error(
      `bench: measuring collector pid ${c.child.pid} (${health}) failed: ${
        e instanceof Error ? e.message : e
      }; its last log lines:\n  ${tail}`,
    );
  }
  const [cpu, m, crictlCalls] = got;
  return {
    at: Date.now(),
    cpuOwn: cpu.own,
    cpuChildren: cpu.children,
    crictlCalls,
    scans: metricSum(
      m,
      "coverage_collector_scans_total",
      "coverage_collector_discovery_scans_total",
    ),
    stores: metricSum(m, "coverage_collector_stores_total"),
    pulls: metricSum(m, "coverage_collector_pulls_total"),
    skipped: metricSum(m, "coverage_collector_skipped_unchanged_total"),
  };
}

const round = (n: number, digits = 2) => Number.isFinite(n) ? Number(n.toFixed(digits)) : null;

/** CPU (own and children) between two snapshots, in % of one core over `seconds`. */
const idlePercent = (a: CpuSnapshot, b: CpuSnapshot, seconds: number) =>
  ((b.own - a.own + b.children - a.children) / seconds) * 100;

/**
 * Runs one benchmark and returns its report; everything it started is stopped before it returns.
 * @example
 * const r = await runBench({ servers: 10, durationMs: 30_000, newServers: 3, kube: true });
 */
export async function runBench(
  o: BenchOptions,
  progress: (msg: string) => void = (m) => console.error(`bench: ${m}`),
  signal?: AbortSignal,
): Promise<BenchReport> {
  const perPod = Math.max(1, Math.ceil(o.servers / 40));
  const fullPods = Math.floor(o.servers / perPod);
  const rest = o.servers - fullPods * perPod;
  const pods = fullPods + (rest > 0 ? 1 : 0);
  if (pods + o.newServers > POD_BUDGET) {
    throw new Error(
      `bench: ${pods} pods + ${o.newServers} new servers exceed the ${POD_BUDGET} pods of a node`,
    );
  }
  const captureTimeout = o.captureTimeoutMs ?? 120_000;
  const t0 = Date.now();
  progress(`starting ${o.servers} servers in ${pods} pods (${perPod} per pod)`);
  const sc = await buildScenario({
    pods: fullPods,
    serversPerPod: perPod,
    kube: o.kube,
    portStart: o.portStart ?? 54300,
  });
  const stopWatch = new AbortController();
  let collector: CollectorProcess | undefined;
  let other: CollectorProcess | undefined;
  let tree: ExportedTree | undefined;
  let big: BigServers | undefined;
  const burner = o.burn ? startBurner() : undefined;
  try {
    if (rest > 0) await sc.addPod({ servers: rest });
    if (o.big) {
      progress(`starting ${o.big} field-size servers on the host`);
      // host processes: ports in the collector's range, apart from hostNetwork pods' first ports
      big = await startBigServers(o.big, (o.portStart ?? 54300) + 20);
    }
    const bigDir = join(sc.outputDir, sc.hostname, "_host_");
    const setupMs = Date.now() - t0;
    const watcher = new CaptureWatcher(sc.outputDir);
    const polling = watcher.start(stopWatch.signal);
    const base = allServers(sc);

    const tStart = Date.now();
    for (const s of base) watcher.watch(s.keyPrefix, tStart);
    if (o.compare) {
      tree = await exportRef(o.compare);
      other = await spawnCollector(["run", ...withFolders(sc.collectorArgs, tree.dir)], {
        env: sc.env,
        root: tree.dir,
      });
    }
    const own = o.pullIdle ? ["--pull-idle", o.pullIdle] : [];
    collector = await spawnCollector(["run", ...sc.collectorArgs, ...own], { env: sc.env });
    const health = await collector.healthUrl();
    const otherHealth = await other?.healthUrl();
    if (other) progress(`${o.compare}'s collector pid ${other.child.pid} at ${otherHealth}`);
    progress(`collector pid ${collector.child.pid} at ${health}; waiting for first captures`);
    let allCaptured = await watcher.settled(captureTimeout, signal);
    // the big servers share one binary name and discovery time: one prefix, counters per PID
    const bigStored = async () => {
      const names = await fileNames(bigDir);
      return big!.servers.every((b) =>
        names.some((n) =>
          n.startsWith("covcounters.") &&
          n.includes(`.${b.pid}.`)
        )
      );
    };
    while (big && allCaptured && !await bigStored()) {
      if (Date.now() - tStart > captureTimeout || signal?.aborted) allCaptured = false;
      else await sleep(100, signal);
    }
    const initialCaptureMs = Date.now() - tStart;
    const coldCalls = await sc.node.crictlCallLines();
    const coldRss = await peakRss(collector.child.pid);
    const initialMissed = watcher.pending();
    progress(
      allCaptured
        ? `all ${base.length} servers stored after ${(initialCaptureMs / 1000).toFixed(1)}s`
        : `${initialMissed.length} of ${base.length} servers not stored after ${captureTimeout}ms`,
    );

    if (o.settleMs) {
      progress(`settling ${(o.settleMs / 1000).toFixed(0)}s before the idle window`);
      await sleep(o.settleMs, signal);
    }
    const snap = (p?: CollectorProcess) => p ? cpuSnapshot(p.child.pid) : undefined;
    const ownPid = collector.child.pid;
    const [t1, o1, p1] = await Promise.all([
      cpuSnapshot(ownPid),
      snap(other),
      otherHealth ? scrape(otherHealth) : undefined,
    ]);
    const s1 = await sample(collector, health, sc);
    progress(`idle window ${(o.durationMs / 2000).toFixed(0)}s`);
    await sleep(o.durationMs / 2, signal);
    const s2 = await sample(collector, health, sc);
    const [t2, o2, p2] = await Promise.all([
      cpuSnapshot(ownPid),
      snap(other),
      otherHealth ? scrape(otherHealth) : undefined,
    ]);

    const churnMs = o.durationMs / 2;
    progress(`starting ${o.newServers} new servers over ${(churnMs / 1000).toFixed(0)}s`);
    const fresh: string[] = [];
    for (let i = 0; i < o.newServers && !signal?.aborted; i++) {
      await sleep(churnMs / o.newServers / 2, signal);
      const p = await sc.addPod({ servers: 1 });
      const s = p.servers[0];
      watcher.watch(s.keyPrefix, s.portLineAt);
      fresh.push(s.keyPrefix);
      await sleep(churnMs / o.newServers / 2, signal);
    }
    await watcher.settled(captureTimeout, signal);
    const s3 = await sample(collector, health, sc);
    const peak = await peakRss(collector.child.pid);
    const anon = await anonRss(collector.child.pid);
    const otherPeak = other ? await peakRss(other.child.pid) : NaN;
    const status = await collector.stop("SIGTERM");
    const lat = watcher.latencies(fresh).map((l) => l.ms);
    const missed = watcher.pending();
    stopWatch.abort();
    await polling;

    await big?.stop();
    const idleS = (s2.at - s1.at) / 1000;
    const idleScans = s2.scans - s1.scans;
    const report: BenchReport = {
      servers: o.servers,
      pods,
      kube: o.kube,
      durationS: round(o.durationMs / 1000, 0)!,
      setupS: round(setupMs / 1000, 1)!,
      initialCaptureS: round(initialCaptureMs / 1000, 1)!,
      initialCaptured: base.length - initialMissed.length,
      cpuSecondsTotal: round(s3.cpuOwn),
      cpuSecondsChildren: round(s3.cpuChildren),
      idleCpuPercent: round(
        ((s2.cpuOwn - s1.cpuOwn + s2.cpuChildren - s1.cpuChildren) / idleS) *
          100,
      ),
      peakRssMiB: round(peak / 1024 / 1024, 1),
      coldStartPeakRssMiB: round(coldRss / 1024 / 1024, 1),
      anonRssEndMiB: round(anon / 1024 / 1024, 1),
      coldStartCrictl: {
        ps: coldCalls.filter((l) => / ps( |$)/.test(` ${l}`)).length,
        inspect: coldCalls.filter((l) => /(^| )inspect( |$)/.test(l)).length,
        inspectp: coldCalls.filter((l) => /(^| )inspectp( |$)/.test(l)).length,
      },
      crictlRunsPer10sIdle: round(((s2.crictlCalls - s1.crictlCalls) / idleS) * 10),
      burn: o.burn ?? false,
      settleS: round((o.settleMs ?? 0) / 1000, 0),
      big: o.big ?? 0,
      bigMetaBytes: big?.metaBytes ?? null,
      bigCountersBytes: big?.countersBytes ?? null,
      idleWindowS: round(idleS, 1)!,
      scansPerMinuteIdle: round((idleScans / idleS) * 60, 1),
      crictlRunsPerScanIdle: round(idleScans ? (s2.crictlCalls - s1.crictlCalls) / idleScans : NaN),
      crictlRunsTotal: s3.crictlCalls,
      storesPerHourIdle: round(((s2.stores - s1.stores) / idleS) * 3600, 0),
      pullsPerHourIdle: round(((s2.pulls - s1.pulls) / idleS) * 3600, 0),
      skippedUnchangedPerHourIdle: round(((s2.skipped - s1.skipped) / idleS) * 3600, 0),
      newServers: {
        started: fresh.length,
        captured: lat.length,
        p50Ms: round(percentile(lat, 50), 0),
        p95Ms: round(percentile(lat, 95), 0),
        maxMs: round(lat.length ? Math.max(...lat) : NaN, 0),
      },
      idleThreadCpuS: threadDelta(t1, t2),
      ...(o.compare && o1 && o2 && p1 && p2
        ? {
          compare: {
            ref: o.compare,
            idleCpuPercent: round(idlePercent(o1, o2, idleS)),
            idleThreadCpuS: threadDelta(o1, o2),
            pullsPerHourIdle: round(
              ((metricSum(p2, "coverage_collector_pulls_total") -
                metricSum(p1, "coverage_collector_pulls_total")) / idleS) * 3600,
              0,
            ),
            peakRssMiB: round(otherPeak / 1024 / 1024, 1),
          },
        }
        : {}),
      missed,
      collectorExit: status.code,
    };
    return report;
  } finally {
    stopWatch.abort();
    if (collector) await collector.stop("SIGKILL").catch(() => {});
    if (other) await other.stop("SIGKILL").catch(() => {});
    await tree?.remove().catch(() => {});
    await big?.stop();
    await burner?.stop();
    await sc.close();
    const left = await sc.node.leftovers();
    if (left.netns.length + left.links.length + left.cgroups.length > 0) {
      progress(`left behind: ${JSON.stringify(left)}`);
    }
  }
}

async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args: scriptArgs(args),
    options: {
      servers: { type: "string" },
      duration: { type: "string" },
      "new-servers": { type: "string" },
      "port-start": { type: "string" },
      kube: { type: "boolean" },
      quick: { type: "boolean" },
      burn: { type: "boolean" },
      big: { type: "string" },
      settle: { type: "string" },
      decode: { type: "boolean" },
      body: { type: "string" },
      compare: { type: "string" },
      "pull-idle": { type: "string" },
    },
  });
  if (values.decode) {
    const { formatDecode, runDecodeBench, startV8Flags } = await import("./bench_decode.ts");
    const { parseBytes } = await import("../src/units.ts");
    const size = parseBytes(values.body ?? "64MiB");
    const reports = await runDecodeBench(size, ["streaming"], await startV8Flags());
    console.log(formatDecode(reports));
    console.log(`BENCH_DECODE_JSON ${JSON.stringify(reports)}`);
    return 0;
  }
  if (!(await canRunNode("bench"))) return 2;
  const quick = values.quick ?? false;
  const count = (flag: string, raw: string | undefined, def: number) =>
    countFlag("bench", flag, raw, def);
  const opts: BenchOptions = {
    servers: count("servers", values.servers, quick ? 10 : 100),
    durationMs: parseDuration(values.duration ?? (quick ? "30s" : "5m")),
    newServers: count("new-servers", values["new-servers"], quick ? 4 : 20),
    kube: values.kube ?? false,
    portStart: count("port-start", values["port-start"], 54300),
    burn: values.burn ?? false,
    big: count("big", values.big, 0),
    settleMs: values.settle ? parseDuration(values.settle) : 0,
    compare: values.compare,
    pullIdle: values["pull-idle"],
  };
  return await untilStopped(async (signal) => {
    const report = await runBench(opts, undefined, signal);
    console.log(formatTable(report));
    console.log(`BENCH_JSON ${JSON.stringify(report)}`);
    return report.missed.length === 0 ? 0 : 1;
  });
}

if (import.meta.main) await runMain(main);
