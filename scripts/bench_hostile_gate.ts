/**
 * Benchmark: what N lying servers (announcing 60 MB, then a byte a second) leave of the node-wide
 * pull gate to a new real `-cover` server. Every server gets its own collector on one gate with
 * the default settings (8 pulls, 32 MiB, 30 s pull timeout, schedule 1s@10s,5s@5m,10s); the real
 * one starts once every liar holds a connection. Prints its pulls in the window, how many were
 * good, and when its first store came.
 *
 * Usage: scripts/deno run -A scripts/bench_hostile_gate.ts [--liars 0,16] [--window 65]
 */

import { parseArgs } from "node:util";
import { Collector } from "../src/collect/collector.ts";
import { PullGate } from "../src/collect/gate.ts";
import { loadConfig } from "../src/config.ts";
import { silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { DirSink } from "../src/sink/dir.ts";
import type { Sink } from "../src/sink/sink.ts";
import { createSystem } from "../src/system.ts";
import { startCovserver } from "../tests/harness/covserver.ts";
import { covserverTarget } from "../tests/harness/covserver_collector.ts";
import { MemorySink } from "../tests/harness/covfiles.ts";
import { hostileTarget, startTrickler } from "../tests/harness/hostile_listeners.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: { liars: { type: "string" }, window: { type: "string" } },
});
const counts = (args.liars ?? "0,16").split(",").map(Number);
const windowMs = Number(args.window ?? 65) * 1000;
const config = loadConfig({}, {});
const deps = (gate: PullGate, sink: Sink = new MemorySink()) => ({
  sink,
  system: createSystem("/"),
  log: silentLogger,
  metrics: new Metrics(),
  config,
  hostname: "bench-node",
  gate,
});

await using good = await startCovserver({ name: "good-app" });
for (const n of counts) {
  const gate = new PullGate(config.maxPulls, config.pullMemory);
  let holding = 0;
  const allHold = Promise.withResolvers<void>();
  if (n === 0) allHold.resolve();
  const liars = Array.from({ length: n }, () =>
    startTrickler({
      dripMs: 1000,
      onDrip: (d) => d === 1 && ++holding === Math.min(n, config.maxPulls) && allHold.resolve(),
    }));
  const stop = new AbortController();
  const runs = liars.map((l) => new Collector(hostileTarget(l.port), deps(gate)).run(stop.signal));
  await allHold.promise;
  const root = await Deno.makeTempDir({ prefix: "bench-hostile-gate-" });
  const target = { ...await covserverTarget(good), discoveredAt: new Date() };
  const real = new Collector(target, deps(gate, new DirSink(root)));
  const began = performance.now();
  let firstStore: number | undefined;
  const watch = setInterval(() => {
    if (firstStore === undefined && real.status().lastStore !== null) {
      firstStore = performance.now() - began;
    }
  }, 50);
  const run = real.run(AbortSignal.any([stop.signal, AbortSignal.timeout(windowMs)]));
  await run;
  clearInterval(watch);
  const st = real.status();
  stop.abort();
  await Promise.all(runs);
  await Promise.all(liars.map((l) => l.close()));
  await Deno.remove(root, { recursive: true });
  console.log(
    `liars=${n} window_s=${windowMs / 1000} pulls=${st.pulls} stores=${st.stores} ` +
      `first_store_ms=${firstStore === undefined ? "none" : Math.round(firstStore)} ` +
      `last_error=${JSON.stringify(st.lastError)}`,
  );
}
