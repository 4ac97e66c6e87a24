/**
 * The pure parts of the soak benchmark (scripts/soak.ts): what a snapshot of the collector holds,
 * the growth between two, the verdict, the table, and which blocks a pod's stored counters cover.
 */

import { coveredSet, parseCounters } from "../src/coverage/counters.ts";

/** What the collector holds at one moment (from /status `runtime` and `sizes`). */
export interface Holdings {
  rssBytes: number;
  heapUsedBytes: number;
  openFds: number;
  pendingTimers: number;
  /** Entries of each long-lived map, by name. */
  sizes: Record<string, number>;
}

/** How a pod of the soak ended: marked deleting in the API then stopped, or SIGKILLed. */
export type PodEnd = "deleted" | "killed";

/** The soak's report. */
export interface SoakReport {
  pods: number;
  byEnd: Record<PodEnd, number>;
  /** Pods deleted while S3 was down. */
  duringOutage: number;
  outages: number;
  durationS: number;
  before: Holdings;
  after: Holdings;
  /** Pods whose last covered block is not in the store, with why. */
  lost: { pod: string; end: PodEnd; why: string }[];
  /** Growth that is not flat (maps that grew, fds or timers up, RSS past the allowance). */
  growth: string[];
}

/**
 * The holdings of a /status answer.
 * @example holdingsOf({ runtime: { rssBytes: 1, heapUsedBytes: 1, openFds: 9, pendingTimers: 2 }, sizes: {} })
 */
export function holdingsOf(status: unknown): Holdings {
  const s = status as { runtime?: Record<string, number>; sizes?: Record<string, number> };
  const r = s.runtime;
  if (!r || !s.sizes) throw new Error("soak: /status has no runtime or sizes (an old collector?)");
  return {
    rssBytes: r.rssBytes,
    heapUsedBytes: r.heapUsedBytes,
    openFds: r.openFds,
    pendingTimers: r.pendingTimers,
    sizes: s.sizes,
  };
}

/**
 * What grew from `before` to `after`: a map, the fds or the timers by more than `slack` entries
 * (they mirror what is live at the moment: the host's other listeners, a scan's sleep, a metric
 * label seen for the first time; a leak of one entry per churned pod shows as hundreds), or RSS
 * by more than `rssAllowance` bytes.
 *
 * @example growthOf(a, b, 32 << 20) // ["engine.verdicts 3 → 950"]
 */
export function growthOf(
  before: Holdings,
  after: Holdings,
  rssAllowance: number,
  slack = 5,
): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(after.sizes)) {
    const was = before.sizes[k] ?? 0;
    if (v > was + slack) out.push(`${k} ${was} → ${v}`);
  }
  for (const k of ["openFds", "pendingTimers"] as const) {
    if (after[k] > before[k] + slack) out.push(`${k} ${before[k]} → ${after[k]}`);
  }
  if (after.rssBytes - before.rssBytes > rssAllowance) {
    out.push(`rss ${mib(before.rssBytes)} → ${mib(after.rssBytes)} MiB`);
  }
  return out;
}

const mib = (b: number) => (b / 1024 / 1024).toFixed(1);

/**
 * The covered blocks (`pkg:func:counter`) of stored counter files, merged.
 * @example blocksOf([bytes1, bytes2]).size // 57
 */
export function blocksOf(counterFiles: Uint8Array[]): Set<string> {
  const all = new Set<string>();
  for (const f of counterFiles) for (const b of coveredSet(parseCounters(f))) all.add(b);
  return all;
}

/** The blocks of `want` missing from `have`. @example missing(new Set(["a"]), new Set()) // ["a"] */
export function missing(want: Set<string>, have: Set<string>): string[] {
  return [...want].filter((b) => !have.has(b));
}

/** The report as a table for people. */
export function formatSoak(r: SoakReport): string {
  const row = (k: string, a: string | number, b: string | number) =>
    `${k.padEnd(34)} ${String(a).padStart(12)} ${String(b).padStart(12)}`;
  const keys = [...new Set([...Object.keys(r.before.sizes), ...Object.keys(r.after.sizes)])].sort();
  return [
    `pods churned: ${r.pods} (deleted ${r.byEnd.deleted}, killed without notice ${r.byEnd.killed}; ` +
    `${r.duringOutage} of them during ${r.outages} S3 outages) in ${r.durationS}s`,
    row("", "before", "after"),
    row("RSS MiB", mib(r.before.rssBytes), mib(r.after.rssBytes)),
    row("heap MiB", mib(r.before.heapUsedBytes), mib(r.after.heapUsedBytes)),
    row("open fds", r.before.openFds, r.after.openFds),
    row("pending timers", r.before.pendingTimers, r.after.pendingTimers),
    ...keys.map((k) => row(k, r.before.sizes[k] ?? 0, r.after.sizes[k] ?? 0)),
    `last covered block stored: ${r.pods - r.lost.length} of ${r.pods} pods` +
    (r.lost.length
      ? `; lost: ${r.lost.slice(0, 10).map((l) => `${l.pod} (${l.end}: ${l.why})`).join(", ")}`
      : ""),
    r.growth.length ? `NOT FLAT: ${r.growth.join("; ")}` : "growth: flat",
  ].join("\n");
}
