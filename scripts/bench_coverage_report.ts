/**
 * Benchmark of `coverage-collector report` over many stored prefixes in a local directory.
 *
 *   nice -n 19 scripts/deno run -A scripts/bench_coverage_report.ts [--prefixes 10000] [--dir D]
 *     [--shards N]
 *
 * Makes (once, reused, in the test cache folder) a store of N prefixes from one real run of the Go `-cover` fixture: its
 * meta-data in every prefix and counters varied per process, spread over nodes, namespaces, pods
 * and times; then times `report --format json` in a child process (wall and CPU seconds, from
 * the child's /proc/<pid>/stat at exit via a shell wrapper) and prints one JSON line.
 * Goal: 10,000 prefixes in under 30 s on 2 cores.
 *
 * With `--shards N` it then runs `report --shard K/N --format covdata --out` for every K (two at a
 * time: the machine's cores), times the merge of the partials (`report --format json <partials>`)
 * and says whether its figures equal the unsharded report's (all but the source's name).
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseCounters } from "../src/coverage/counters.ts";
import { encodeCounters } from "../src/coverage/encode_counters.ts";
import { parseMeta } from "../src/coverage/meta.ts";
import { addCounters, emptyProfile } from "../src/coverage/profile.ts";
import { cacheDir } from "../tests/harness/cache.ts";
import { storeFixtureRun } from "../tests/harness/stored.ts";

const root = new URL("..", import.meta.url).pathname;

/** Writes `n` prefixes under `dir` (skipped when `dir/.complete-<n>` exists). */
export async function makeStore(dir: string, n: number, log = (_: string) => {}): Promise<void> {
  const done = join(dir, `.complete-${n}`);
  if (await Deno.stat(done).then(() => true, () => false)) return;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  const seed = await Deno.makeTempDir({ prefix: "bench-report-seed-" });
  const run = await storeFixtureRun(seed, {
    routes: ["/run/alpha", "/run/beta?n=2"],
    segments: ["seed", "_host_", "20261122T100005Z", "covserver"],
  });
  const meta = await Deno.readFile(join(run.leaf, `covmeta.${run.hash}`));
  const base = parseCounters(
    await Deno.readFile(join(run.leaf, `covcounters.${run.hash}.${run.pid}.1`)),
  );
  const parsedMeta = parseMeta(meta);
  // 64 counter variants: each keeps a different share of the seed's functions, scaled.
  const variants = Array.from({ length: 64 }, (_, v) => {
    const p = emptyProfile(parsedMeta, meta);
    addCounters(p, {
      ...base,
      functions: base.functions.map((f, i) => ({
        ...f,
        counters: f.counters.map((c) => ((i + v) % 3 === 0 ? 0 : c * (1 + (v % 5)))),
      })),
    });
    return encodeCounters(p);
  });
  const info = new TextEncoder().encode('{"binary":"covserver"}\n');
  for (let i = 0; i < n; i++) {
    const node = `node-${i % 20}`;
    const ns = `ns-${Math.floor(i / 20) % 50}`;
    const pod = `pod-${i}`;
    const t = new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString().replace(/\.\d+Z$/, "Z")
      .replace(/[-:]/g, "");
    const leaf = join(dir, node, ns, pod, "app", t, "quay.io-x-sha256-1", "covserver");
    await Deno.mkdir(leaf, { recursive: true });
    await Deno.writeFile(join(leaf, `covmeta.${run.hash}`), meta);
    await Deno.writeFile(join(leaf, `covcounters.${run.hash}.${1000 + i}.1`), variants[i % 64]);
    await Deno.writeFile(join(leaf, "info.json"), info);
    if (i % 1000 === 999) log(`bench: wrote ${i + 1}/${n} prefixes`);
  }
  await Deno.writeTextFile(done, "");
  await Deno.remove(seed, { recursive: true });
}

export interface ReportBench {
  prefixes: number;
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  exitCode: number;
  statements: number;
  covered: number;
  merged: number;
}

/** What one child process cost: wall and CPU seconds, peak RSS, exit code. */
export interface ChildCost {
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
  exitCode: number;
}

/** Runs `coverage-collector ARGS` in a child process (stdout to `out`) and measures it. */
export async function timeCommand(args: string[], out: string): Promise<ChildCost> {
  // The shell reads the child's own CPU time and peak RSS from /proc before reaping it.
  const script = `"$@" > "$OUT" & pid=$!
while kill -0 $pid 2>/dev/null; do
  s=$(cat /proc/$pid/stat 2>/dev/null) && st="$s"; h=$(grep VmHWM /proc/$pid/status 2>/dev/null) && hwm="$h"
  grep -q '^State:.*Z' /proc/$pid/status 2>/dev/null && break
  sleep 0.05
done
wait $pid; echo "rc=$? stat=$st hwm=$hwm"`;
  const start = performance.now();
  const res = await new Deno.Command("bash", {
    args: [
      "-c",
      script,
      "bash",
      Deno.execPath(),
      "run",
      "-A",
      join(root, "main.ts"),
      ...args,
    ],
    env: { OUT: out },
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const wallSeconds = (performance.now() - start) / 1000;
  const line = new TextDecoder().decode(res.stdout);
  const stat = /stat=\d+ \(.*?\) (.*) hwm/.exec(line)?.[1].split(" ") ?? [];
  const tick = 100;
  const cpuSeconds = (Number(stat[11]) + Number(stat[12])) / tick;
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(line)?.[1] ?? 0) / 1024;
  return {
    wallSeconds: Number(wallSeconds.toFixed(2)),
    cpuSeconds,
    peakRssMiB: Math.round(hwm),
    exitCode: Number(/rc=(\d+)/.exec(line)?.[1] ?? -1),
  };
}

/** Times `report --format json <dir>` in a child process. */
export async function timeReport(dir: string, prefixes: number): Promise<ReportBench> {
  const out = join(dir, ".report.json");
  const cost = await timeCommand(["report", "--format", "json", dir], out);
  const report = JSON.parse(await Deno.readTextFile(out));
  const b = report.binaries[0] ?? {};
  return {
    prefixes,
    ...cost,
    statements: b.statements ?? 0,
    covered: b.covered ?? 0,
    merged: b.prefixes ?? 0,
  };
}

/** What `--shards N` measured: the slowest shard, the merge, and whether the figures agree. */
export interface ShardBench {
  shards: number;
  shard: ChildCost;
  merge: ChildCost;
  equal: boolean;
}

/** The figures of a json report: everything but the source's name. */
function figures(text: string): string {
  const r = JSON.parse(text);
  delete r.source;
  return JSON.stringify(r);
}

/** Runs N shards of `dir` (two at a time), then the merge, against the unsharded `.report.json`. */
export async function timeShards(dir: string, n: number): Promise<ShardBench> {
  const parts = await Deno.makeTempDir({ prefix: "bench-report-parts-" });
  const costs: ChildCost[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const k = next++;
      const args = ["report", "--shard", `${k}/${n}`, "--format", "covdata", "--out"];
      costs.push(await timeCommand([...args, join(parts, `shard-${k}`), dir], "/dev/null"));
    }
  };
  await Promise.all([worker(), worker()]);
  const out = join(parts, ".merged.json");
  const merge = await timeCommand(["report", "--format", "json", join(parts)], out);
  const equal = figures(await Deno.readTextFile(out)) ===
    figures(await Deno.readTextFile(join(dir, ".report.json")));
  await Deno.remove(parts, { recursive: true });
  const max = (k: keyof ChildCost) => Math.max(...costs.map((c) => c[k]));
  return {
    shards: n,
    shard: {
      wallSeconds: max("wallSeconds"),
      cpuSeconds: max("cpuSeconds"),
      peakRssMiB: max("peakRssMiB"),
      exitCode: max("exitCode"),
    },
    merge,
    equal,
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      prefixes: { type: "string", default: "10000" },
      dir: { type: "string" },
      shards: { type: "string" },
    },
  });
  const n = Number(values.prefixes);
  const dir = values.dir ?? join(cacheDir(), `bench-report-${n}`);
  await makeStore(dir, n, (l) => console.error(l));
  console.log(JSON.stringify(await timeReport(dir, n)));
  if (values.shards !== undefined) {
    console.log(JSON.stringify(await timeShards(dir, Number(values.shards))));
  }
}
