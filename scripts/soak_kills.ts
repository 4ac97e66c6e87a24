/**
 * `scripts/soak --kills N [--pull-idle 60s@5m] [--kill-within 60s] [--quiet 5m30s]`: what an idle
 * pull rule costs in blocks lost to unannounced kills, side by side in one run. Two collectors
 * of this tree watch the same N pods at once (each with its own output folder): one on today's
 * schedule, one with `--pull-idle`. Once every pod was stored and has covered nothing new for
 * --quiet, each pod runs new code (/run/alpha) and is SIGKILLed at a random moment within
 * --kill-within after it, without notice. A pod's new blocks are lost for a collector when its
 * store lacks them. Prints a table and `SOAK_KILLS_JSON {...}`. Needs root, `ip netns` and Go.
 */

import { join } from "node:path";
import { type CollectorProcess, spawnCollector } from "../tests/harness/collector.ts";
import { buildScenario, type ScenarioPod } from "../tests/harness/scenario.ts";
import { withFolders } from "./bench_compare.ts";
import { fileNames, metricSum, scrape } from "./bench_lib.ts";
import { blocksOf, missing } from "./soak_lib.ts";
import { alphaBlocks } from "./soak_alpha.ts";

export interface KillsOptions {
  pods: number;
  pullIdle: string;
  killWithinMs: number;
  quietMs: number;
  portStart?: number;
}

/** One collector's side of the run. */
export interface KillsSide {
  schedule: string;
  lost: number;
  /** Pulls a server per hour while the pods were quiet. */
  pullsPerServerHourQuiet: number | null;
}

export interface KillsReport {
  pods: number;
  killWithinS: number;
  quietS: number;
  today: KillsSide;
  idle: KillsSide;
  durationS: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The counter files stored under `prefix` in `outDir`. */
async function countersOf(outDir: string, prefix: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const walk = async (dir: string): Promise<void> => {
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(dir));
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.isFile && e.name.startsWith("covcounters.")) out.push(await Deno.readFile(p));
    }
  };
  await walk(join(outDir, prefix));
  return out;
}

/** Runs the kills soak; everything it started is stopped before it returns. */
export async function runKills(
  o: KillsOptions,
  progress: (msg: string) => void = (m) => console.error(`soak: ${m}`),
): Promise<KillsReport> {
  const t0 = Date.now();
  const sc = await buildScenario({ pods: 0, kube: true, portStart: o.portStart ?? 54600 });
  const collectors: CollectorProcess[] = [];
  try {
    const want = await alphaBlocks(sc);
    progress(`one covered run adds ${want.size} blocks; starting ${o.pods} pods`);
    const pods: ScenarioPod[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: 6 }, async () => {
      while (next < o.pods) pods.push(await sc.addPod({ name: `kill-${next++}`, servers: 1 }));
    }));
    const idleDir = await Deno.makeTempDir({ dir: sc.dir, prefix: "idle-" });
    const outs = [sc.outputDir, join(idleDir, "out")];
    collectors.push(await spawnCollector(["run", ...sc.collectorArgs], { env: sc.env }));
    collectors.push(
      await spawnCollector(
        ["run", ...withFolders(sc.collectorArgs, idleDir), "--pull-idle", o.pullIdle],
        { env: sc.env },
      ),
    );
    const health = await Promise.all(collectors.map((c) => c.healthUrl()));
    const stored = async (out: string, p: ScenarioPod) =>
      (await fileNames(join(out, p.servers[0].keyPrefix))).some((n) =>
        n.startsWith("covcounters.")
      );
    for (const out of outs) {
      const end = Date.now() + 180_000;
      for (const p of pods) {
        while (!await stored(out, p)) {
          if (Date.now() > end) throw new Error(`soak: ${p.pod.name} never stored in ${out}`);
          await sleep(200);
        }
      }
    }
    progress(`every pod stored by both; quiet for ${o.quietMs / 1000}s`);
    const pulls = async () =>
      await Promise.all(
        health.map(async (h) => metricSum(await scrape(h), "coverage_collector_pulls_total")),
      );
    // the last minute of the quiet spell: both collectors' steady pull rates
    await sleep(Math.max(0, o.quietMs - 60_000));
    const p1 = await pulls();
    const q1 = Date.now();
    await sleep(Math.min(60_000, o.quietMs));
    const p2 = await pulls();
    const quietH = (Date.now() - q1) / 3_600_000;
    progress(`new code runs in every pod; SIGKILL within ${o.killWithinMs / 1000}s of it`);
    await Promise.all(pods.map(async (p) => {
      const s = p.servers[0];
      const app = Number((await s.container.waitLine(/app-port=(\d+)/, 20_000))[1]);
      await (await fetch(`http://${p.pod.ip}:${app}/run/alpha`)).body?.cancel();
      await sleep(Math.random() * o.killWithinMs);
      s.container.kill("SIGKILL");
    }));
    await sleep(15_000); // stores under way finish; the collectors see the servers gone
    const lostIn = async (out: string) => {
      let lost = 0;
      for (const p of pods) {
        const have = blocksOf(await countersOf(out, p.servers[0].keyPrefix));
        if (missing(want, have).length > 0) lost++;
      }
      return lost;
    };
    const [lostToday, lostIdle] = [await lostIn(outs[0]), await lostIn(outs[1])];
    const rate = (i: number) => Number(((p2[i] - p1[i]) / quietH / o.pods).toFixed(0));
    return {
      pods: pods.length,
      killWithinS: o.killWithinMs / 1000,
      quietS: o.quietMs / 1000,
      today: { schedule: "default", lost: lostToday, pullsPerServerHourQuiet: rate(0) },
      idle: {
        schedule: `--pull-idle ${o.pullIdle}`,
        lost: lostIdle,
        pullsPerServerHourQuiet: rate(1),
      },
      durationS: Math.round((Date.now() - t0) / 1000),
    };
  } finally {
    await Promise.all(collectors.map((c) => c.stop("SIGTERM").catch(() => {})));
    await sc.close();
  }
}

/** The report as a table. */
export function formatKills(r: KillsReport): string {
  const row = (s: KillsSide) =>
    `${s.schedule.padEnd(26)} ${`${s.lost} of ${r.pods}`.padStart(12)} ` +
    `${String(s.pullsPerServerHourQuiet).padStart(14)}`;
  return [
    `${r.pods} pods quiet ${r.quietS}s, then new code and SIGKILL within ${r.killWithinS}s (${r.durationS}s run)`,
    `${"schedule".padEnd(26)} ${"pods lost".padStart(12)} ${"pulls/server/h".padStart(14)}`,
    row(r.today),
    row(r.idle),
  ].join("\n");
}
