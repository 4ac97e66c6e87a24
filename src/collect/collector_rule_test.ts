/** The collector's store rule against the fake server serving real counter-data files. */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { Collector } from "./collector.ts";
import type { FunctionCounters } from "../coverage/counters.ts";
import { parseSchedule } from "./schedule.ts";
import { SCHEDULE_REASON } from "./store_rule.ts";
import { silentLogger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import type { System } from "../system.ts";
import {
  fakeBuild,
  makeTarget,
  MemorySink,
  startFakeCoverageServer,
} from "../../tests/harness/covfiles.ts";

// A build the counters below fit: app code (pkg 0 func 0, 2 units), the server's handler (pkg 1
// func 4, 3 units).
const HASH = fakeBuild("app", 0, [[2], [1, 1, 1, 1, 3]]).hash;
const REFRESH = 60_000;

/** A live /proc entry for PID 4242 and a clock the test moves (`wallJump`: the wall clock set). */
function clockSystem(): System & { time: number; wallJump: number } {
  const sys = {
    time: 1_000_000,
    wallJump: 0,
    hostRoot: "/",
    hostPath: (p: string) => p,
    readText: (path: string) =>
      path === "/proc/4242/status"
        ? Promise.resolve("Name:\tapp\nState:\tS (sleeping)\nNSpid:\t4242\t1\n")
        : Promise.reject(new Deno.errors.NotFound(path)),
    readBytes: () => Promise.reject(new Error("unused")),
    readLink: () => Promise.reject(new Error("unused")),
    readDir: () => Promise.reject(new Error("unused")),
    run: () => Promise.reject(new Error("unused")),
    now: () => sys.time + sys.wallJump,
    monotonic: () => sys.time,
  };
  return sys;
}

/** App code (pkg 0, blocks 0 and 1) and the server's own handler (pkg 1). */
function funcs(app: number[], own: number): FunctionCounters[] {
  return [
    { pkgIdx: 0, funcIdx: 0, counters: app },
    { pkgIdx: 1, funcIdx: 4, counters: [own, own, 0] },
  ];
}

async function withCollector(
  fn: (t: {
    server: ReturnType<typeof startFakeCoverageServer>;
    sink: MemorySink;
    system: System & { time: number; wallJump: number };
    metrics: Metrics;
    collector: Collector;
    pull: (reason?: string) => Promise<string>;
    counterPuts: () => number;
  }) => Promise<void>,
) {
  const server = startFakeCoverageServer({
    binary: "app",
    pid: 1,
    hash: HASH,
    value: 0,
    functions: funcs([1, 0], 1),
  });
  const sink = new MemorySink();
  const system = clockSystem();
  const metrics = new Metrics();
  const collector = new Collector(makeTarget({ port: server.port }), {
    sink,
    system,
    log: silentLogger,
    metrics,
    config: { pullSchedule: parseSchedule("1s"), pullTimeout: 2000, maxBody: 1 << 20 },
    hostname: "worker-1",
  }, { refreshMs: REFRESH });
  const signal = new AbortController().signal;
  try {
    await fn({
      server,
      sink,
      system,
      metrics,
      collector,
      pull: async (reason = SCHEDULE_REASON) => (await collector.pullNow(reason, signal)).result,
      counterPuts: () => sink.puts.filter((k) => k.includes("/covcounters.")).length,
    });
  } finally {
    await server.close();
  }
}

Deno.test("only the server's own counters change: periodic pulls are skipped, nothing stored", async () => {
  await withCollector(async ({ server, system, metrics, pull, counterPuts }) => {
    assertEquals(await pull(), "stored");
    for (let own = 2; own <= 5; own++) {
      server.state.functions = funcs([own, 0], own);
      system.time += 1000;
      assertEquals(await pull(), "unchanged");
    }
    assertEquals(counterPuts(), 1);
    assertEquals(metrics.value("coverage_collector_skipped_unchanged_total"), 4);
  });
});

Deno.test("a newly covered block is stored on the next periodic pull, then skipping resumes", async () => {
  await withCollector(async ({ server, sink, pull, counterPuts }) => {
    assertEquals(await pull(), "stored");
    server.state.functions = funcs([1, 1], 2);
    assertEquals(await pull(), "stored");
    server.state.functions = funcs([1, 3], 3);
    assertEquals(await pull(), "unchanged");
    assertEquals(counterPuts(), 2);
    const counters = sink.puts.filter((k) => k.includes("/covcounters."));
    assertEquals(counters.at(-1)?.endsWith(`covcounters.${HASH}.1.2`), true);
  });
});

Deno.test("changed counters are stored once the last store is refreshMs old (System.monotonic)", async () => {
  await withCollector(async ({ server, system, pull, counterPuts }) => {
    assertEquals(await pull(), "stored");
    server.state.functions = funcs([1, 0], 2);
    system.time += REFRESH - 1;
    assertEquals(await pull(), "unchanged");
    system.time += 1;
    assertEquals(await pull(), "stored");
    // The interval counts from that store.
    server.state.functions = funcs([1, 0], 3);
    system.time += REFRESH - 1;
    assertEquals(await pull(), "unchanged");
    assertEquals(counterPuts(), 2);
  });
});

Deno.test("the refresh ignores the wall clock: set forward by hours no store at once, set back no stall", async () => {
  await withCollector(async ({ server, system, pull, counterPuts }) => {
    assertEquals(await pull(), "stored");
    server.state.functions = funcs([1, 0], 2);
    system.wallJump = 3 * 3_600_000;
    assertEquals(await pull(), "unchanged", "a jump forward is not a refresh");
    system.wallJump = -3 * 3_600_000;
    system.time += REFRESH;
    assertEquals(await pull(), "stored", "a jump back does not hold the refresh off");
    assertEquals(counterPuts(), 2);
  });
});

Deno.test("a final pull (shutdown, pod deleting, once) stores changed counters", async () => {
  await withCollector(async ({ server, pull, counterPuts }) => {
    assertEquals(await pull(), "stored");
    let own = 1;
    for (const reason of ["shutdown", "pod deleting", "pod deleted", "once"]) {
      server.state.functions = funcs([1, 0], ++own);
      assertEquals(await pull(), "unchanged");
      assertEquals(await pull(reason), "stored", reason);
    }
    // Nothing changed since: the final pull has nothing new to write.
    assertEquals(await pull("shutdown"), "unchanged");
    assertEquals(counterPuts(), 5);
  });
});
