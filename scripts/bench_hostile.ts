/**
 * The hostile benchmark (issue 17): the daemon's longest event-loop stall and its peak RSS with N
 * good servers, and with the same N plus one hostile server of each kind
 * (tests/doubles/hostile_server.ts), side by side in one run on one simulated node:
 *
 *   scripts/deno run -A scripts/bench_hostile.ts [--servers 250] [--window 60s] [--kinds a,b]
 *
 * The stall is measured from outside, as a user or a liveness probe sees it: `/healthz` is asked
 * back to back from the collector's start to the end of the window; the longest answer (and the
 * p99) is the stall. Two collectors run in turn against the same servers, each with its own
 * output and state dir: first without the hostile servers, then with them. The verdict asks for
 * at most 2x the stall and at most 64 MiB more peak RSS. Needs root, `ip netns`, `unshare`, Go.
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { spawnCollector } from "../tests/harness/collector.ts";
import { allServers, buildScenario, type Scenario } from "../tests/harness/scenario.ts";
import { repoRoot } from "../tests/harness/gobuild.ts";
import { KINDS } from "../tests/doubles/hostile_server.ts";
import { CaptureWatcher, fileNames, metricSum, peakRss, percentile, scrape } from "./bench_lib.ts";
import { parseDuration } from "./bench_report.ts";
import { canRunNode, countFlag, runMain, scriptArgs, untilStopped } from "./node_script.ts";

const ALL_KINDS: readonly string[] = KINDS;

interface RunFigures {
  label: string;
  capturedMs: number | null;
  /** When the collector died during the run (ms from its start), and how; null: it lived. */
  diedAfterMs: number | null;
  diedHow: string | null;
  lastLines: string[];
  stallMs: number;
  p99Ms: number;
  healthzAsked: number;
  healthzFailed: number;
  peakRssMiB: number;
  stores: number;
  pullsOk: number;
  pullsFailed: number;
  /** Servers the collector held at the end (good and hostile). */
  targets: number;
  /** Log lines that name a hostile server. */
  hostileLogLines: number;
}

interface Hostile {
  kind: string;
  child: Deno.ChildProcess;
}

const PORT_START = 54300;

async function startHostile(
  kind: string,
  files: { meta: string; counters: string },
): Promise<Hostile> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(repoRoot, "tests/doubles/hostile_server.ts"),
      "--kind",
      kind,
      "--port-start",
      String(PORT_START),
      "--port-span",
      "50",
      "--meta",
      files.meta,
      "--counters",
      files.counters,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!/coverage-port=\d+/.test(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`hostile server ${kind} ended: ${text.slice(-400)}`);
    text += value;
  }
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })().catch(() => {});
  return { kind, child };
}

async function stopHostile(h: Hostile[]): Promise<void> {
  for (const x of h) {
    try {
      x.child.kill("SIGKILL");
    } catch { /* gone */ }
    await x.child.status;
  }
}

/** Asks /healthz back to back until `signal`; the latencies in ms. */
async function askHealth(url: string, signal: AbortSignal) {
  const lat: number[] = [];
  let failed = 0;
  while (!signal.aborted) {
    const t = performance.now();
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(120_000) });
      await res.body?.cancel();
      if (!res.ok) failed++;
    } catch {
      if (signal.aborted) break;
      failed++;
    }
    lat.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { lat, failed };
}

function withDirs(args: string[], out: string, state: string): string[] {
  const a = [...args];
  a[a.indexOf("--output-dir") + 1] = out;
  a[a.indexOf("--state-dir") + 1] = state;
  return a;
}

async function oneRun(
  sc: Scenario,
  label: string,
  windowMs: number,
  signal: AbortSignal,
): Promise<{ figures: RunFigures; outputDir: string }> {
  const outputDir = join(sc.dir, `out-${label}`);
  const stateDir = join(sc.dir, `state-${label}`);
  const watcher = new CaptureWatcher(outputDir);
  const stopWatch = new AbortController();
  const polling = watcher.start(stopWatch.signal);
  const t0 = Date.now();
  for (const s of allServers(sc)) watcher.watch(s.keyPrefix, t0);
  const c = await spawnCollector(["run", ...withDirs(sc.collectorArgs, outputDir, stateDir)]);
  const health = await c.healthUrl();
  const stopAsk = new AbortController();
  const asking = askHealth(health, stopAsk.signal);
  // VmHWM once a second: a collector that dies leaves its last reading
  let peakSeen = 0;
  const sampling = (async () => {
    while (!stopAsk.signal.aborted) {
      peakSeen = await peakRss(c.child.pid).catch(() => peakSeen);
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  try {
    const ok = await watcher.settled(180_000, signal);
    const capturedMs = ok ? Date.now() - t0 : null;
    console.error(
      `bench_hostile: ${label}: ${
        ok ? `all stored after ${(capturedMs! / 1000).toFixed(1)} s` : "not all stored in 180 s"
      }; window ${windowMs / 1000} s`,
    );
    // The window ends early if the collector dies (what one hostile pod did before issue 17).
    let exited: Deno.CommandStatus | null = null;
    const ended = c.status.then((st) => (exited = st));
    await Promise.race([new Promise((r) => setTimeout(r, windowMs)), ended]);
    const m = exited ? new Map() as Awaited<ReturnType<typeof scrape>> : await scrape(health);
    const peak = exited ? peakSeen : await peakRss(c.child.pid);
    stopAsk.abort();
    const { lat, failed } = await asking;
    const pulls = m.get("coverage_collector_pulls_total") ?? new Map<string, number>();
    const died = exited as Deno.CommandStatus | null;
    return {
      outputDir,
      figures: {
        label,
        capturedMs,
        diedAfterMs: died ? Date.now() - t0 : null,
        diedHow: died ? (died.signal ?? `exit ${died.code}`) : null,
        stallMs: Math.round(Math.max(...lat)),
        p99Ms: Math.round(percentile(lat, 99)),
        healthzAsked: lat.length,
        healthzFailed: failed,
        peakRssMiB: Number((peak / 1024 / 1024).toFixed(1)),
        stores: metricSum(m, "coverage_collector_stores_total"),
        pullsOk: pulls.get('{result="ok"}') ?? 0,
        pullsFailed: [...pulls].filter(([k]) => !k.includes('result="ok"'))
          .reduce((s, [, v]) => s + v, 0),
        targets: metricSum(m, "coverage_collector_targets"),
        hostileLogLines: c.lines.filter((l) => l.includes("hostile-")).length,
        lastLines: died ? c.lines.slice(-3) : [],
      },
    };
  } finally {
    stopAsk.abort();
    stopWatch.abort();
    await polling;
    await sampling;
    await c.stop();
  }
}

/** One real build's meta-data and counters, as stored by the first run. */
async function realFiles(outputDir: string, into: string) {
  for await (const path of walk(outputDir)) {
    const name = path.slice(path.lastIndexOf("/") + 1);
    if (!name.startsWith("covmeta.")) continue;
    const dir = path.slice(0, path.lastIndexOf("/"));
    const counters = (await fileNames(dir)).find((n) => n.startsWith("covcounters."));
    if (!counters) continue;
    const meta = join(into, "meta"), cnt = join(into, "counters");
    await Deno.copyFile(path, meta);
    await Deno.copyFile(join(dir, counters), cnt);
    return { meta, counters: cnt };
  }
  throw new Error(`bench_hostile: no covmeta.* with counters under ${outputDir}`);
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* walk(p);
    else if (e.isFile) yield p;
  }
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: scriptArgs(argv),
    options: {
      servers: { type: "string" },
      window: { type: "string" },
      kinds: { type: "string" },
    },
  });
  if (!(await canRunNode("bench_hostile"))) return 2;
  const servers = countFlag("bench_hostile", "servers", values.servers, 250);
  const windowMs = values.window ? parseDuration(values.window) : 60_000;
  const kinds = values.kinds ? values.kinds.split(",") : ALL_KINDS;
  for (const k of kinds) if (!ALL_KINDS.includes(k)) throw new Error(`unknown kind ${k}`);
  const perPod = Math.max(1, Math.ceil(servers / 40));
  const pods = Math.ceil(servers / perPod);
  console.error(`bench_hostile: ${servers} good servers in ${pods} pods; kinds ${kinds.join(",")}`);
  return await untilStopped(async (signal) => {
    await using sc = await buildScenario({ pods, serversPerPod: perPod, portStart: PORT_START });
    console.error(`bench_hostile: ${allServers(sc).length} good servers running`);
    const base = await oneRun(sc, "good", windowMs, signal);
    const files = await realFiles(base.outputDir, sc.dir);
    const hostile: Hostile[] = [];
    try {
      for (const k of kinds) hostile.push(await startHostile(k, files));
      const hurt = await oneRun(sc, "hostile", windowMs, signal);
      const rows = [base.figures, hurt.figures];
      console.log(
        [
          "run       all stored  longest /healthz  p99    peak RSS  stores  ok pulls  failed pulls",
          ...rows.map((r) =>
            `${r.label.padEnd(9)} ${
              (r.capturedMs === null ? "no" : `${(r.capturedMs / 1000).toFixed(1)} s`).padStart(10)
            }  ${`${r.stallMs} ms`.padStart(16)}  ${`${r.p99Ms} ms`.padStart(5)}  ${
              `${r.peakRssMiB} MiB`.padStart(8)
            }  ${String(r.stores).padStart(6)}  ${String(r.pullsOk).padStart(8)}  ${
              String(r.pullsFailed).padStart(12)
            }`
          ),
        ].join("\n"),
      );
      for (const r of rows.filter((r) => r.diedAfterMs !== null)) {
        console.log(
          `${r.label}: the collector DIED ${
            (r.diedAfterMs! / 1000).toFixed(0)
          } s after its start ` +
            `(${r.diedHow}); its last log lines:\n  ${r.lastLines.join("\n  ")}`,
        );
      }
      const lived = hurt.figures.diedAfterMs === null;
      const stallOk = hurt.figures.stallMs <= 2 * base.figures.stallMs;
      const rssOk = hurt.figures.peakRssMiB <= base.figures.peakRssMiB + 64;
      console.log(
        `verdict: stall ${stallOk ? "within" : "PAST"} 2x, RSS ${
          rssOk ? "within" : "PAST"
        } +64 MiB, good servers ${hurt.figures.capturedMs === null ? "NOT all" : "all"} stored, ${
          lived ? "collector lived" : "collector DIED"
        }`,
      );
      const good = allServers(sc).length;
      console.log(`BENCH_JSON ${JSON.stringify({ servers: good, windowMs, kinds, runs: rows })}`);
      return lived && stallOk && rssOk && hurt.figures.capturedMs !== null ? 0 : 1;
    } finally {
      await stopHostile(hostile);
    }
  });
}

if (import.meta.main) await runMain(main);
