/** Build information and process metrics (CPU, memory, file descriptors, start time). */

import process from "node:process";
import type { Metrics } from "../metrics.ts";
import { BUILD_COMMIT, VERSION } from "../version.ts";

/** Registers build_info and process_* gauges, computed at every scrape. */
export function registerProcessMetrics(metrics: Metrics, startedAt: Date): void {
  metrics.set("coverage_collector_build_info", "Build of this collector", 1, {
    version: VERSION,
    commit: BUILD_COMMIT,
    deno: Deno.version.deno,
  });
  metrics.computed(
    "coverage_collector_process_cpu_seconds_total",
    "counter",
    "User and system CPU time spent, in seconds",
    () => {
      const u = process.cpuUsage();
      return [{ value: (u.user + u.system) / 1e6 }];
    },
  );
  metrics.computed(
    "coverage_collector_process_resident_memory_bytes",
    "gauge",
    "Resident memory size in bytes",
    () => [
      { value: Deno.memoryUsage().rss },
    ],
  );
  metrics.computed(
    "coverage_collector_process_heap_bytes",
    "gauge",
    "JavaScript heap in use, in bytes",
    () => [
      { value: Deno.memoryUsage().heapUsed },
    ],
  );
  metrics.computed("coverage_collector_process_open_fds", "gauge", "Open file descriptors", () => {
    try {
      let n = 0;
      for (const _ of Deno.readDirSync("/proc/self/fd")) n++;
      return [{ value: n }];
    } catch {
      return [];
    }
  });
  metrics.set(
    "coverage_collector_process_start_time_seconds",
    "Start time of the process since the Unix epoch, in seconds",
    Math.floor(startedAt.getTime() / 1000),
  );
}
