/**
 * The engine's metrics: the counters its scans and judgements bump, and the gauges computed
 * from the collectors it runs (targets, and each server's live coverage).
 */

import type { LiveCoverage } from "../coverage/live.ts";
import type { CollectorStatus } from "../collect/collector_types.ts";
import type { Metrics } from "../metrics.ts";

/** A running collector as the gauges read it. */
type Running = { collector: { status(): CollectorStatus } };

/**
 * Declares the engine's counters and its computed gauges, read from `running` at each scrape.
 *
 * @example registerEngineMetrics(deps.metrics, runningByTargetKey)
 */
export function registerEngineMetrics(m: Metrics, running: ReadonlyMap<string, Running>): void {
  m.counter("coverage_collector_scans_total", "Discovery scans by result");
  m.counter("coverage_collector_probes_total", "Identity probes by result");
  m.counter("coverage_collector_attribution_refused_total", "Servers refused: PID not owner's");
  m.computed("coverage_collector_targets", "gauge", "Coverage servers being collected", () => [
    { labels: {}, value: running.size },
  ]);
  const live = (pick: (c: LiveCoverage) => number) => () => liveSamples(running.values(), pick);
  m.computed(
    "coverage_collector_server_coverage_ratio",
    "gauge",
    "Statements covered / total of each collected server",
    live((c) => c.total === 0 ? 0 : c.covered / c.total),
  );
  m.computed(
    "coverage_collector_server_covered_statements",
    "gauge",
    "Statements covered of each collected server",
    live((c) => c.covered),
  );
  m.computed(
    "coverage_collector_server_statements",
    "gauge",
    "Statements of each collected server's binary",
    live((c) => c.total),
  );
}

/**
 * One sample per server with live coverage, labelled by namespace, pod, container and binary
 * (two servers with the same labels: the better covered one).
 *
 * @example liveSamples(running, (c) => c.covered) // [{ labels: { namespace: "ns", ... }, value: 12 }]
 */
export function liveSamples(
  running: Iterable<Running>,
  pick: (c: LiveCoverage) => number,
): { labels: Record<string, string>; value: number }[] {
  const best = new Map<string, { labels: Record<string, string>; c: LiveCoverage }>();
  for (const r of running) {
    const st = r.collector.status();
    const c = st.coverage;
    if (!c) continue;
    const labels = {
      namespace: st.namespace,
      pod: st.pod,
      container: st.container,
      binary: st.binary,
    };
    const key = JSON.stringify(labels);
    const have = best.get(key);
    if (!have || have.c.covered < c.covered) best.set(key, { labels, c });
  }
  return [...best.values()].map(({ labels, c }) => ({ labels, value: pick(c) }));
}
