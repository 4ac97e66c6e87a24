/**
 * Benchmark: how long discovery takes to find a real `-cover` server listed after N loopback
 * sockets that accept and never answer, with the engine's own scan loop and pacing (default
 * settings: probe timeout 2 s, scan interval 10 s). Prints one line per N: time to find and the
 * scans run by then (engine loop), and the length of one first scan on its own (scanOnce).
 *
 * Usage: scripts/deno run -A scripts/bench_silent.ts [--silent 0,300] [--runs 1]
 */

import { parseArgs } from "node:util";
import type { Deps } from "../src/deps.ts";
import { loadConfig } from "../src/config.ts";
import { Engine } from "../src/engine/engine.ts";
import type { CollectorHandle } from "../src/engine/stages.ts";
import { Health } from "../src/health.ts";
import { silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { probe } from "../src/probe/probe.ts";
import { createSystem } from "../src/system.ts";
import { collectorStatus } from "../tests/doubles/collector_status.ts";
import { startCovserver } from "../tests/harness/covserver.ts";
import { hostCandidate, startSilent } from "../tests/harness/hostile_listeners.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: { silent: { type: "string" }, runs: { type: "string" } },
});
const counts = (args.silent ?? "0,300").split(",").map(Number);
const runs = Number(args.runs ?? 1);

/** One run: ms until the real server's collector starts and scans by then; a first scan's ms. */
async function timeToFind(n: number, good: { coveragePort: number; pid: number }) {
  const silent = startSilent(n);
  try {
    const loop = await findByLoop(silent.map((s) => s.port), good);
    const t0 = performance.now();
    await engineOver(silent.map((s) => s.port), good, () => {}).engine.scanOnce(
      new AbortController().signal,
    );
    return { ...loop, firstScanMs: Math.round(performance.now() - t0) };
  } finally {
    await Promise.all(silent.map((s) => s.close()));
  }
}

function engineOver(
  ports: number[],
  good: { coveragePort: number; pid: number },
  onFound: () => void,
) {
  const deps: Deps = {
    config: loadConfig({}, {}),
    log: silentLogger,
    metrics: new Metrics(),
    health: new Health(),
    system: createSystem("/"),
  };
  const candidates = [
    ...ports.map((port, i) => hostCandidate(port, 1000 + i)),
    hostCandidate(good.coveragePort, 1),
  ];
  const counter = { scans: 0 };
  const engine = new Engine(deps, {
    scan: () => {
      counter.scans++;
      return Promise.resolve({ candidates, containers: [], crictlOk: true });
    },
    probe: (c, signal, timeoutMs) =>
      probe(c, { timeoutMs: timeoutMs ?? deps.config.probeTimeout, signal }),
    attribute: () => Promise.resolve(good.pid),
    collector: (): CollectorHandle => {
      onFound();
      return {
        run: (signal) =>
          new Promise((r) => signal.addEventListener("abort", () => r("stopped"), { once: true })),
        pullNow: () => Promise.resolve({ stored: true }),
        status: () => collectorStatus(),
      };
    },
  });
  return { engine, counter };
}

/** The engine's own loop until the real server's collector starts. */
async function findByLoop(ports: number[], good: { coveragePort: number; pid: number }) {
  const found = Promise.withResolvers<number>();
  const { engine, counter } = engineOver(ports, good, () => found.resolve(performance.now()));
  const stop = new AbortController();
  const began = performance.now();
  const running = engine.run(stop.signal);
  const at = await found.promise;
  const scans = counter.scans;
  stop.abort();
  await running;
  return { ms: Math.round(at - began), scans };
}

await using good = await startCovserver({ name: "good-app" });
for (const n of counts) {
  for (let r = 0; r < runs; r++) {
    const m = await timeToFind(n, good);
    console.log(
      `silent=${n} found_after_ms=${m.ms} scans_by_then=${m.scans} first_scan_ms=${m.firstScanMs}`,
    );
  }
}
