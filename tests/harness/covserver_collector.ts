/**
 * A real Collector of one Go coverage fixture (tests/harness/covserver.ts) run as a host process:
 * its target (identity from its own headers) and the collector storing it.
 */

import { dirname } from "node:path";
import { Collector } from "../../src/collect/collector.ts";
import type { CollectorOptions } from "../../src/collect/collector_types.ts";
import { checkCoverage } from "../../src/collect/coverage.ts";
import type { PullGate } from "../../src/collect/gate.ts";
import { pullCoverage } from "../../src/collect/pull.ts";
import { parseSchedule } from "../../src/units.ts";
import type { TimelineCopy } from "../../src/collect/timeline_copies.ts";
import { parseIdentity } from "../../src/probe/server_identity.ts";
import { infoJson, infoKey } from "../../src/layout.ts";
import { silentLogger } from "../../src/log.ts";
import { Metrics } from "../../src/metrics.ts";
import { DirSink } from "../../src/sink/dir.ts";
import type { Sink } from "../../src/sink/sink.ts";
import { createSystem } from "../../src/system.ts";
import type { Identity, Target } from "../../src/target.ts";
import type { Covserver } from "./covserver.ts";

/**
 * The `_host_` target of `srv` on 127.0.0.1, its identity read from a HEAD /health; `fallback`
 * stands in when it sends none (the `plain` mode), else the identity is asserted present.
 * @example const target = await covserverTarget(srv);
 */
export async function covserverTarget(srv: Covserver, fallback?: Identity): Promise<Target> {
  const res = await fetch(`http://127.0.0.1:${srv.coveragePort}/health`, { method: "HEAD" });
  await res.body?.cancel();
  return {
    key: `_host_:${srv.coveragePort}`,
    owner: { kind: "host" },
    host: "127.0.0.1",
    port: srv.coveragePort,
    identity: (parseIdentity(res.headers) ?? fallback)!,
    hostPid: srv.pid,
    discoveredAt: new Date(),
  };
}

/** Limits and names of `collectorOf` (defaults: 1h schedule, 5 s timeout, 64 MiB, test-node). */
export interface CollectorOfOptions {
  schedule?: string;
  pullTimeout?: number;
  maxBody?: number;
  hostname?: string;
  metrics?: Metrics;
  /** The node-wide gate shared with other collectors. */
  gate?: PullGate;
  /** Tuning of the collector (refresh, pull floor). */
  tuning?: CollectorOptions;
  /** The wall clock the collector reads (default the real one). */
  now?: () => number;
  /** Where the collector keeps its copy of the process's timeline. */
  timelineCopy?: TimelineCopy;
}

/**
 * A Collector of `target` storing into `sink` (real /proc, silent log).
 * @example const { collector } = collectorOf(target, new DirSink(root), { pullTimeout: 600_000 });
 */
export function collectorOf(
  target: Target,
  sink: Sink,
  o: CollectorOfOptions = {},
): { collector: Collector; metrics: Metrics } {
  const metrics = o.metrics ?? new Metrics();
  const collector = new Collector(target, {
    sink,
    system: o.now ? { ...createSystem("/"), now: o.now } : createSystem("/"),
    log: silentLogger,
    metrics,
    config: {
      pullSchedule: parseSchedule(o.schedule ?? "1h"),
      pullTimeout: o.pullTimeout ?? 5000,
      maxBody: o.maxBody ?? 64 << 20,
    },
    hostname: o.hostname ?? "test-node",
    gate: o.gate,
    timelineCopy: o.timelineCopy,
  }, o.tuning);
  return { collector, metrics };
}

/**
 * A Collector of `srv` storing with the directory sink under `root`; `dir` is the directory its
 * prefix is stored in (what `go tool covdata -i` reads).
 * @example const { collector, dir } = await covserverDirCollector(srv, root);
 */
export async function covserverDirCollector(
  srv: Covserver,
  root: string,
  o: CollectorOfOptions & { fallback?: Identity } = {},
): Promise<{ collector: Collector; sink: DirSink; metrics: Metrics; dir: string }> {
  const sink = new DirSink(root);
  const { collector, metrics } = collectorOf(await covserverTarget(srv, o.fallback), sink, o);
  return { collector, sink, metrics, dir: dirname(sink.pathOf(infoKey(collector.prefix))) };
}

/**
 * What one pull of `srv` stores for `target`: meta-data, info.json and one counter file, in
 * bytes (to size a spool in tests), and the build's hash.
 * @example const { meta, info, counters } = await storedSizes(srv, target, "node-1");
 */
export async function storedSizes(srv: Covserver, target: Target, hostname: string) {
  const res = await pullCoverage({
    host: "127.0.0.1",
    port: srv.coveragePort,
    nometa: false,
    timeoutMs: 5000,
    maxBody: 64 << 20,
  });
  const d = checkCoverage(res.body, { expectMeta: true });
  return {
    meta: d.meta!.bytes.length,
    info: infoJson(target, { hostname }).length,
    counters: d.counters.bytes.length,
    hash: d.meta!.hash,
  };
}
