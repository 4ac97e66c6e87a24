/**
 * What the process holds, for /status and /metrics: resident memory, heap, open file descriptors
 * and pending timers (counted by wrapping the global timer functions once: Deno has no API that
 * lists them). The soak benchmark reads these to show that nothing grows with churn.
 */

import type { Metrics } from "../metrics.ts";

const pending = new Set<unknown>();
let installed = false;

/**
 * Starts counting timers (setTimeout / setInterval not yet fired or cleared). Idempotent.
 * Timers inside the runtime (AbortSignal.timeout, fetch) are not seen.
 *
 * @example trackTimers(); setTimeout(() => {}, 10); pendingTimers() // 1
 */
export function trackTimers(): void {
  if (installed) return;
  installed = true;
  const g = globalThis as unknown as Record<string, unknown>;
  const setT = globalThis.setTimeout;
  const clearT = globalThis.clearTimeout;
  const setI = globalThis.setInterval;
  const clearI = globalThis.clearInterval;
  g.setTimeout = (cb: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const id = setT(
      (...a: unknown[]) => {
        pending.delete(id);
        cb(...a);
      },
      ms,
      ...args,
    );
    pending.add(id);
    return id;
  };
  g.clearTimeout = (id?: Parameters<typeof clearTimeout>[0]) => {
    if (id !== undefined) pending.delete(id);
    clearT(id);
  };
  g.setInterval = (cb: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const id = setI(cb, ms, ...args);
    pending.add(id);
    return id;
  };
  g.clearInterval = (id?: Parameters<typeof clearInterval>[0]) => {
    if (id !== undefined) pending.delete(id);
    clearI(id);
  };
}

/** Timers pending now (0 until `trackTimers` ran). @example pendingTimers() // 3 */
export function pendingTimers(): number {
  return pending.size;
}

/** Open file descriptors of this process, or -1 when /proc cannot say. */
export function openFds(): number {
  try {
    let n = 0;
    for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
    return n;
  } catch {
    return -1;
  }
}

/** The process facts /status shows. @example runtimeStats().openFds // 23 */
export function runtimeStats(): Record<string, number> {
  const m = Deno.memoryUsage();
  return {
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    openFds: openFds(),
    pendingTimers: pendingTimers(),
  };
}

/**
 * Registers `coverage_collector_process_pending_timers` and `coverage_collector_map_entries{map}` (entries of the
 * long-lived maps and sets that `sizes` reports), computed at every scrape.
 *
 * @example registerRuntimeMetrics(metrics, () => ({ "engine.running": 3 }))
 */
export function registerRuntimeMetrics(
  metrics: Metrics,
  sizes: () => Record<string, number>,
): void {
  metrics.computed(
    "coverage_collector_process_pending_timers",
    "gauge",
    "Timers pending in the process",
    () => [
      { value: pendingTimers() },
    ],
  );
  metrics.computed(
    "coverage_collector_map_entries",
    "gauge",
    "Entries of the collector's long-lived maps and sets (flat under churn)",
    () => Object.entries(sizes()).map(([map, value]) => ({ value, labels: { map } })),
  );
}
