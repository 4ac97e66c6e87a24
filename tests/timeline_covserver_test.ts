/**
 * The coverage timeline of a real `-cover` server (tests/fixtures/covserver) as a Collector
 * stores it beside the counters: each phase's code in the step of the pull after it ran, timed
 * against the pull before; continued, not restarted, by a collector started again; ignored by
 * `go tool covdata`, `report` and the prefix listing.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { dirname, join } from "node:path";
import { Collector } from "../src/collect/collector.ts";
import { parseSchedule } from "../src/units.ts";
import { TimelineCopies } from "../src/collect/timeline_copies.ts";
import { infoKey } from "../src/layout.ts";
import { silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { readStartTime } from "../src/procfs/stat.ts";
import { groupPrefixes } from "../src/report/prefixes.ts";
import { DirSink } from "../src/sink/dir.ts";
import type { Sink } from "../src/sink/sink.ts";
import { SpoolingSink } from "../src/sink/spool.ts";
import { createSystem } from "../src/system.ts";
import type { Target } from "../src/target.ts";
import { hasGo } from "./harness/gobuild.ts";
import { type Covserver, startCovserver } from "./harness/covserver.ts";
import { covserverTarget } from "./harness/covserver_collector.ts";
import { go } from "./harness/stored.ts";
import { runReport } from "./harness/run_report.ts";
import { allUnits, packageSteps, stored } from "./harness/timeline_read.ts";
import { canRunS3, s3SinkOf, startS3 } from "./harness/s3.ts";
import { drainSpool } from "./harness/spool_drain.ts";

const noGo = !(await hasGo());
const T0 = Date.parse("2026-12-02T01:00:00Z");
const NEW = "coverage_collector_newly_covered_statements_total";

/** A collector of `target` into `root` whose wall clock is `clock.now`, its timeline copy kept
 * under `state`. */
async function collectorAt(
  target: Target,
  root: string,
  state: string,
  clock: { now: number },
  over?: Sink,
) {
  const system = { ...createSystem("/"), now: () => clock.now };
  const copies = await TimelineCopies.open(join(state, "timelines"), silentLogger, "n", () => true);
  const metrics = new Metrics();
  const sink = new DirSink(root);
  const collector = new Collector(target, {
    sink: over ?? sink,
    system,
    log: silentLogger,
    metrics,
    config: { pullSchedule: parseSchedule("1h"), pullTimeout: 5000, maxBody: 64 << 20 },
    hostname: "n",
    timelineCopy: copies!.of(target),
  });
  return { collector, metrics, dir: dirname(sink.pathOf(infoKey(collector.prefix))) };
}

async function hit(srv: Covserver, route: string) {
  await (await fetch(`http://127.0.0.1:${srv.appPort}${route}`)).body?.cancel();
}

/** Pulls at the given times (ms after T0), driving `routes[i]` before pull i. */
async function phases(
  srv: Covserver,
  c: Collector,
  clock: { now: number },
  plan: [number, string | null][],
) {
  const signal = new AbortController().signal;
  const results: string[] = [];
  for (const [ms, route] of plan) {
    if (route) await hit(srv, route);
    clock.now = T0 + ms;
    const out = await c.pullNow("schedule", signal);
    results.push(out.result);
    ok(out.result === "stored" || out.result === "unchanged", `${ms}: ${out.result} ${out.error}`);
  }
  return results;
}

Deno.test({
  name: "timeline: each phase's code is in the step of the pull after it, timed against the " +
    "pull before; a restarted collector continues it; /status and /metrics count it",
  ignore: noGo,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "timeline-covserver-" });
    await using srv = await startCovserver({ name: "timeline-app" });
    try {
      const target = await covserverTarget(srv);
      target.hostStartTime = (await readStartTime(createSystem("/"), srv.pid)) ?? undefined;
      const state = join(root, "state"), out = join(root, "out");
      const clock = { now: T0 };
      const first = await collectorAt(target, out, state, clock);
      assertEquals(first.collector.status().lastNewCoverage, null);
      // Idle pulls between the phases: the server's own code settles, then nothing is new.
      const pulls = [0, 5_000, 6_000, 7_000, 8_000, 9_000, 10_000, 15_000];
      const results = await phases(srv, first.collector, clock, [
        [0, null],
        [5_000, "/run/alpha"],
        [6_000, null],
        [7_000, null],
        [8_000, null],
        [9_000, null],
        [10_000, null],
        [15_000, "/run/beta"],
      ]);
      // A pull that stored nothing still times the next step (it saw none of beta covered).
      ok(results.slice(2, -1).includes("unchanged"), results.join(","));
      const a = await stored(first.dir);
      const steps = a.timeline.steps;
      // First pull: covered before T0; every later step: after the pull before it.
      assertEquals([steps[0].after, steps[0].at], [null, T0]);
      for (const s of steps.slice(1)) {
        const i = pulls.indexOf(s.at - T0);
        ok(i > 0, `step at ${s.at - T0}`);
        assertEquals(s.after, T0 + pulls[i - 1]);
      }
      assertEquals(packageSteps(a.meta, a.timeline, "alpha"), new Set([T0 + 5_000]));
      assertEquals(packageSteps(a.meta, a.timeline, "beta"), new Set([T0 + 15_000]));
      assertEquals(packageSteps(a.meta, a.timeline, "gamma"), new Set());
      // Every unit the counters cover is in the timeline, and no other.
      assertEquals(allUnits(a.timeline), a.covered);
      const st = first.collector.status();
      assertEquals(st.lastNewCoverage, new Date(T0 + 15_000).toISOString());
      assertEquals(first.metrics.value(NEW, { binary: "timeline-app" }), st.coverage!.covered);

      // The collector starts again: same process, same prefix (as the prefix memory gives it).
      const again = { ...target, remembered: { metaHash: a.hash, freshAt: new Date() } };
      const second = await collectorAt(again, out, state, clock);
      assertEquals(second.dir, first.dir);
      await phases(srv, second.collector, clock, [[30_000, "/run/gamma"]]);
      const b = await stored(second.dir);
      const last = b.timeline.steps[b.timeline.steps.length - 1];
      assertEquals(b.timeline.steps.slice(0, -1), steps, "the earlier steps are kept");
      assertEquals([last.after, last.at], [T0 + 15_000, T0 + 30_000]);
      assertEquals(packageSteps(b.meta, b.timeline, "gamma"), new Set([T0 + 30_000]));
      assertEquals(allUnits(b.timeline), b.covered);
      const st2 = second.collector.status();
      assertEquals(st2.lastNewCoverage, new Date(T0 + 30_000).toISOString());
      assertEquals(
        second.metrics.value(NEW, { binary: "timeline-app" }),
        st2.coverage!.covered - st.coverage!.covered,
        "after a restart only what is new since the copy counts",
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

/** Every file of `dir` but the timeline, copied into a new directory. */
async function withoutTimeline(dir: string, into: string): Promise<string> {
  await Deno.mkdir(into, { recursive: true });
  for (const e of Deno.readDirSync(dir)) {
    if (!e.name.startsWith("covtimeline.")) {
      await Deno.copyFile(join(dir, e.name), join(into, e.name));
    }
  }
  return into;
}

Deno.test({
  name: "timeline: go tool covdata percent/textfmt/merge, report and the prefix listing " +
    "ignore it",
  ignore: noGo,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "timeline-covdata-" });
    await using srv = await startCovserver({ name: "timeline-app" });
    try {
      const target = await covserverTarget(srv);
      const clock = { now: T0 };
      const out = join(root, "out");
      const c = await collectorAt(target, out, join(root, "state"), clock);
      await phases(srv, c.collector, clock, [[0, null], [5_000, "/run/alpha"]]);
      const s = await stored(c.dir);
      ok(s.timeline.steps.length >= 2);
      const rel = c.dir.slice(out.length + 1);
      const bareRoot = join(root, "bare");
      const bare = await withoutTimeline(c.dir, join(bareRoot, rel));

      const percent = (d: string) => go(["tool", "covdata", "percent", "-i", d]);
      assertEquals(await percent(c.dir), await percent(bare));
      ok(/coverage: [\d.]+% of statements/.test(await percent(c.dir)));
      const text = async (d: string, name: string) => {
        await go(["tool", "covdata", "textfmt", "-i", d, "-o", join(root, name)]);
        return await Deno.readTextFile(join(root, name));
      };
      assertEquals(await text(c.dir, "with.txt"), await text(bare, "bare.txt"));
      const merged = join(root, "merged");
      await Deno.mkdir(merged);
      await go(["tool", "covdata", "merge", "-i", c.dir, "-o", merged]);
      const mergedNames = [...Deno.readDirSync(merged)].map((e) => e.name);
      ok(mergedNames.every((n) => /^cov(meta|counters)\./.test(n)), mergedNames.join(","));
      assertEquals(await percent(merged), await percent(bare));

      for (const format of ["text", "json"]) {
        const withIt = await runReport([out, "--format", format]);
        const without = await runReport([bareRoot, "--format", format]);
        assertEquals(withIt.code, 0, withIt.err);
        assertEquals(withIt.out.replaceAll(out, "ROOT"), without.out.replaceAll(bareRoot, "ROOT"));
      }

      const keys = (dirRoot: string, d: string) =>
        [...Deno.readDirSync(d)].map((e) => `${d.slice(dirRoot.length + 1)}/${e.name}`);
      const listed = keys(out, c.dir);
      ok(listed.some((k) => k.endsWith(`/${s.timelineName}`)), listed.join(","));
      // The listing files the timeline under its process, apart: the prefix is otherwise the same.
      const grouped = [...groupPrefixes(listed).values()];
      assertEquals(grouped.map((p) => [...p.timelines.values()]), [[`${rel}/${s.timelineName}`]]);
      assertEquals(
        grouped.map((p) => ({ ...p, timelines: new Map() })),
        [...groupPrefixes(keys(bareRoot, bare)).values()],
      );
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "timeline: through S3 and its spool like the counters (spooled while S3 is down, " +
    "drained after); covdata reads the prefix downloaded from S3",
  ignore: noGo || !(await canRunS3()),
  sanitizeResources: false, // fetch keeps pooled connections
  async fn() {
    const s3 = await startS3();
    const root = await Deno.makeTempDir({ prefix: "timeline-s3-" });
    await using srv = await startCovserver({ name: "timeline-app" });
    try {
      const sink = await SpoolingSink.open(s3SinkOf(s3, { retry: { attempts: 1 } }), {
        dir: join(root, "spool"),
        maxBytes: 64 << 20,
        log: silentLogger,
        metrics: new Metrics(),
        backoff: { baseMs: 10, maxMs: 50 },
      });
      const clock = { now: T0 };
      const c = await collectorAt(
        await covserverTarget(srv),
        root,
        join(root, "state"),
        clock,
        sink,
      );
      await phases(srv, c.collector, clock, [[0, null]]);
      await s3.stop();
      await phases(srv, c.collector, clock, [[5_000, "/run/alpha"]]);
      ok(sink.spooled().some((k) => k.includes("/covtimeline.")), sink.spooled().join(","));
      await s3.start();
      await drainSpool(sink);
      const keys = await s3.objects(`${c.collector.prefix}/`);
      const local = join(root, "from-s3");
      await Deno.mkdir(local);
      for (const k of keys) {
        await Deno.writeFile(join(local, k.slice(k.lastIndexOf("/") + 1)), (await s3.get(k))!);
      }
      const got = await stored(local);
      assertEquals([got.timeline.steps[0].after, got.timeline.steps[0].at], [null, T0]);
      assertEquals(packageSteps(got.meta, got.timeline, "alpha"), new Set([T0 + 5_000]));
      assertEquals(got.timeline.steps.at(-1)!.after, T0);
      assertEquals(allUnits(got.timeline), got.covered);
      ok(
        /coverage: [\d.]+% of statements/.test(
          await go(["tool", "covdata", "percent", "-i", local]),
        ),
      );
    } finally {
      await s3.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
