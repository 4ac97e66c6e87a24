/** The collector's timeline against the fake server serving real counter-data files. */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { Collector } from "./collector.ts";
import type { FunctionCounters } from "../coverage/counters.ts";
import { decodeTimeline, type Timeline } from "../coverage/timeline.ts";
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

// App code: pkg 0 func 0 (units 0, 1); the server's handler: pkg 1 func 4 (units 6, 7, 8).
const HASH = fakeBuild("app", 0, [[2], [1, 1, 1, 1, 3]]).hash;
const UNITS = 9;
const KEY = `covtimeline.${HASH}.1`;

function funcs(app: number[], own: number): FunctionCounters[] {
  return [
    { pkgIdx: 0, funcIdx: 0, counters: app },
    { pkgIdx: 1, funcIdx: 4, counters: [own, own, 0] },
  ];
}

/** A sink that refuses every timeline while `refuseTimeline` is set. */
class TimelineRefusingSink extends MemorySink {
  refuseTimeline = false;
  override put(key: string, data: Uint8Array): Promise<void> {
    if (this.refuseTimeline && key.includes("/covtimeline.")) {
      return Promise.reject(new Error(`refused ${key}`));
    }
    return super.put(key, data);
  }
}

async function withCollector(
  fn: (t: {
    server: ReturnType<typeof startFakeCoverageServer>;
    sink: TimelineRefusingSink;
    clock: { wall: number; mono: number };
    metrics: Metrics;
    collector: Collector;
    pull: (reason?: string) => Promise<string>;
    timeline: () => Timeline | undefined;
    timelinePuts: () => number;
  }) => Promise<void>,
) {
  const server = startFakeCoverageServer({
    binary: "app",
    pid: 1,
    hash: HASH,
    value: 0,
    functions: funcs([0, 0], 0),
  });
  const sink = new TimelineRefusingSink();
  const clock = { wall: 1_800_000_000_000, mono: 1_000 };
  const system: System = {
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
    now: () => clock.wall,
    monotonic: () => clock.mono,
  };
  const metrics = new Metrics();
  const collector = new Collector(makeTarget({ port: server.port }), {
    sink,
    system,
    log: silentLogger,
    metrics,
    config: { pullSchedule: parseSchedule("1s"), pullTimeout: 2000, maxBody: 1 << 20 },
    hostname: "worker-1",
  }, { refreshMs: 60_000 });
  const signal = new AbortController().signal;
  try {
    await fn({
      server,
      sink,
      clock,
      metrics,
      collector,
      pull: async (reason = SCHEDULE_REASON) => (await collector.pullNow(reason, signal)).result,
      timeline: () => {
        const key = [...sink.objects.keys()].find((k) => k.endsWith(`/${KEY}`));
        return key ? decodeTimeline(sink.objects.get(key)!, UNITS) : undefined;
      },
      timelinePuts: () => sink.puts.filter((k) => k.includes("/covtimeline.")).length,
    });
  } finally {
    await server.close();
  }
}

const T = 1_800_000_000_000;

Deno.test("the timeline is written with counters stored for new coverage, never for a refresh", async () => {
  await withCollector(
    async ({ server, clock, collector, metrics, pull, timeline, timelinePuts }) => {
      assertEquals(await pull(), "stored"); // nothing covered yet: no timeline
      assertEquals([timelinePuts(), collector.status().lastNewCoverage], [0, null]);
      clock.wall = T + 1000;
      server.state.functions = funcs([0, 0], 1);
      assertEquals(await pull(), "stored");
      clock.wall = T + 2000;
      server.state.functions = funcs([0, 0], 2);
      assertEquals(await pull(), "unchanged");
      clock.wall = T + 3000;
      server.state.functions = funcs([1, 0], 3);
      assertEquals(await pull(), "stored");
      clock.wall = T + 4000, clock.mono += 60_000;
      server.state.functions = funcs([1, 0], 4);
      assertEquals(await pull(), "stored"); // the refresh: nothing new
      assertEquals(timelinePuts(), 2);
      assertEquals(timeline(), {
        steps: [
          { after: T, at: T + 1000, units: [6, 7] },
          { after: T + 2000, at: T + 3000, units: [0] },
        ],
      });
      assertEquals(collector.status().lastNewCoverage, new Date(T + 3000).toISOString());
      assertEquals(
        metrics.value("coverage_collector_newly_covered_statements_total", { binary: "app" }),
        3,
      );
    },
  );
});

Deno.test("a timeline the sink refused is written with the next counters; a clock set back keeps steps in order", async () => {
  await withCollector(async ({ server, sink, clock, pull, timeline, timelinePuts }) => {
    clock.wall = T;
    server.state.functions = funcs([1, 0], 1);
    sink.refuseTimeline = true;
    assertEquals(await pull(), "stored", "the counters are stored all the same");
    assertEquals(timelinePuts(), 0);
    sink.refuseTimeline = false;
    clock.wall = T - 5000; // set back
    server.state.functions = funcs([1, 1], 2);
    assertEquals(await pull(), "stored");
    assertEquals(timelinePuts(), 1);
    const t = timeline()!;
    assertEquals(t.steps.map((s) => s.units), [[0, 6, 7], [1]]);
    assertEquals(t.steps[0], { after: null, at: T, units: [0, 6, 7] });
    ok(t.steps[1].at > t.steps[0].at);
  });
});
