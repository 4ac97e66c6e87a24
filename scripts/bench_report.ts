/** The report of scripts/bench.ts: its schema (for tests and readers) and the table. */

import { z } from "zod";

export { parseDuration } from "../src/units.ts";

const num = z.number().nullable();

/** One bench run's numbers; null where a rate had nothing to divide by. */
export const BenchReportSchema = z.object({
  servers: z.number().int(),
  pods: z.number().int(),
  kube: z.boolean(),
  durationS: z.number(),
  setupS: z.number(),
  /** Collector start → every initial server has a stored file. */
  initialCaptureS: z.number(),
  initialCaptured: z.number().int(),
  /** utime+stime of the collector process at the end of the run. */
  cpuSecondsTotal: num,
  /** CPU of its reaped children (crictl runs). */
  cpuSecondsChildren: num,
  /** Collector + children CPU over the idle window, in % of one core. */
  idleCpuPercent: num,
  /** VmHWM of the collector process. */
  peakRssMiB: num,
  /** VmHWM once every initial server was stored (cold start). */
  coldStartPeakRssMiB: num.optional(),
  /** RssAnon at the end: the collector's own pages, without the Deno binary's shared code. */
  anonRssEndMiB: num.optional(),
  /** crictl runs from the collector's start until every initial server was stored. */
  coldStartCrictl: z.object({ ps: z.number(), inspect: z.number(), inspectp: z.number() })
    .optional(),
  crictlRunsPer10sIdle: num.optional(),
  /** Wait after the first captures before the idle window. */
  settleS: num.optional(),
  /** A burner process kept one core busy. */
  burn: z.boolean().optional(),
  /** Field-size servers among the servers, and one's meta-data and counters sizes. */
  big: z.number().int().optional(),
  bigMetaBytes: num.optional(),
  bigCountersBytes: num.optional(),
  idleWindowS: z.number(),
  scansPerMinuteIdle: num,
  crictlRunsPerScanIdle: num,
  crictlRunsTotal: z.number().int(),
  storesPerHourIdle: num,
  pullsPerHourIdle: num,
  /** Pulls whose counters equalled the last stored ones (not written again). */
  skippedUnchangedPerHourIdle: num,
  /** Servers started mid-run: `coverage-port=` line → first stored file. */
  newServers: z.object({
    started: z.number().int(),
    captured: z.number().int(),
    p50Ms: num,
    p95Ms: num,
    maxMs: num,
  }),
  /** Idle-window CPU seconds per thread name of the collector (see threadCpu; "ended threads":
   * CPU of threads that ended during the window). */
  idleThreadCpuS: z.record(z.string(), z.number()).optional(),
  /** --compare: the other tree's collector, run beside this one on the same node at once. */
  compare: z.object({
    ref: z.string(),
    idleCpuPercent: num,
    idleThreadCpuS: z.record(z.string(), z.number()),
    pullsPerHourIdle: num,
    peakRssMiB: num,
  }).optional(),
  /** Key prefixes never stored. */
  missed: z.array(z.string()),
  collectorExit: z.number().int(),
});
export type BenchReport = z.infer<typeof BenchReportSchema>;

/**
 * A readable two-column table of a report.
 * @example console.log(formatTable(report));
 */
export function formatTable(r: BenchReport): string {
  const v = (x: number | null, unit = "") => x === null ? "n/a" : `${x}${unit}`;
  const rows: [string, string][] = [
    ["servers (pods)", `${r.servers} (${r.pods})${r.kube ? ", kube" : ", host-only"}`],
    ["duration", `${r.durationS}s (setup ${r.setupS}s, settle ${r.settleS ?? 0}s)`],
    ["initial capture", `${r.initialCaptured}/${r.servers} in ${r.initialCaptureS}s`],
    [
      "collector CPU",
      `${v(r.cpuSecondsTotal, "s")} own + ${v(r.cpuSecondsChildren, "s")} children`,
    ],
    ["idle CPU", `${v(r.idleCpuPercent, "%")} of a core over ${r.idleWindowS}s`],
    ...(r.compare
      ? [[
        `idle CPU of ${r.compare.ref} beside it`,
        `${v(r.compare.idleCpuPercent, "%")} of a core (${v(r.compare.pullsPerHourIdle)} ` +
        `pulls/h, peak RSS ${v(r.compare.peakRssMiB, " MiB")})`,
      ] as [string, string]]
      : []),
    ["machine", r.burn ? "one core burned" : "idle"],
    [
      "field-size servers",
      r.big
        ? `${r.big} (meta ${v(r.bigMetaBytes ?? null)} B, counters ${
          v(r.bigCountersBytes ?? null)
        } B)`
        : "none",
    ],
    ["peak RSS", v(r.peakRssMiB, " MiB")],
    ["peak RSS at cold start", v(r.coldStartPeakRssMiB ?? null, " MiB")],
    ["anon RSS at end", v(r.anonRssEndMiB ?? null, " MiB")],
    [
      "crictl runs in cold start",
      r.coldStartCrictl
        ? `ps ${r.coldStartCrictl.ps}, inspect ${r.coldStartCrictl.inspect}, inspectp ${r.coldStartCrictl.inspectp}`
        : "n/a",
    ],
    ["crictl runs/10 s (idle)", v(r.crictlRunsPer10sIdle ?? null)],
    ["scans/min (idle)", v(r.scansPerMinuteIdle)],
    ["crictl runs/scan (idle)", `${v(r.crictlRunsPerScanIdle)} (total ${r.crictlRunsTotal})`],
    ["store writes/hour (idle)", v(r.storesPerHourIdle)],
    ["pulls/hour (idle)", v(r.pullsPerHourIdle)],
    ["skipped unchanged/hour (idle)", v(r.skippedUnchangedPerHourIdle)],
    [
      "new servers captured",
      `${r.newServers.captured}/${r.newServers.started}`,
    ],
    [
      "first capture p50/p95/max",
      `${v(r.newServers.p50Ms, "ms")} / ${v(r.newServers.p95Ms, "ms")} / ${
        v(r.newServers.maxMs, "ms")
      }`,
    ],
    ["missed", r.missed.length ? r.missed.join(", ") : "none"],
    ["collector exit", String(r.collectorExit)],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, val]) => `${k.padEnd(w)}  ${val}`).join("\n");
}
