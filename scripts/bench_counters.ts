/**
 * Cost of the store rule on large and hostile counter bodies: `deno run -A
 * scripts/bench_counters.ts [--old] [--case NAME]`. Each case runs in a fresh process (with the
 * daemon's V8 flags) that judges two pulls as a collector does (`decideStoreAsync`: the first,
 * then a changed one against it), while a 5 ms timer measures how late it fires (the longest
 * event-loop stall). Reported: decision, time, RSS before/peak/after. `--old` adds the rule as it
 * was before bitsets (a string set per body, Set difference), side by side.
 *
 * Cases: hostile-4mb (4 M counters repeating the functions of a 8000-unit build), hostile-20m
 * (one entry of 20 M counters), fit-4m (4 M counters that fit a 4 M-unit build), nometa-4m (the
 * same body with the meta-data unknown: the unmetered bound), nometa-unsorted (262 143 entries
 * in descending order, meta-data unknown: the sort and join).
 */

import { parseArgs } from "node:util";
import { coveredSet, coversMore, parseCounters } from "../src/coverage/counters.ts";
import type { UnitLayout } from "../src/coverage/covered_units.ts";
import { decideStoreAsync, type StoredSnapshot } from "../src/collect/store_rule.ts";
import { oneFunctionCounters, unitLayout } from "../tests/harness/counterfile.ts";
import { startV8Flags } from "./bench_decode.ts";
import { startStallProbe } from "./bench_lib.ts";

const HASH = "00112233445566778899aabbccddeeff";
const CASES = ["hostile-4mb", "hostile-20m", "fit-4m", "nometa-4m", "nometa-unsorted"] as const;
type Case = typeof CASES[number];
type Mode = "bitset" | "old";

/** What one measuring run reports. */
export interface CountersReport {
  case: Case;
  mode: Mode;
  bodyMiB: number;
  decisions: string;
  /** Longest of the two decisions. */
  ms: number;
  rssBeforeMiB: number;
  peakMiB: number;
  rssAfterMiB: number;
  longestStallMs: number;
}

/** A counters file (flavor 2) of `entries` entries of `per` counters of `value`, function
 * `fn(i)` of package 0; written straight into bytes (no array per counter). */
function manyFunctions(entries: number, per: number, fn: (i: number) => number, value: number) {
  const empty = oneFunctionCounters(HASH, 0, 0, 0);
  const head = empty.subarray(0, empty.length - 16 - 3); // less the footer and entry {0, 0, 0}
  const out = new Uint8Array(head.length + entries * (per + 8) + 16);
  out.set(head);
  new DataView(out.buffer).setBigUint64(32, BigInt(entries), true);
  let at = head.length;
  const uleb = (v: number) => {
    do {
      out[at++] = (v & 0x7f) | (v >= 0x80 ? 0x80 : 0);
      v = Math.floor(v / 128);
    } while (v > 0);
  };
  for (let i = 0; i < entries; i++) {
    uleb(per), uleb(0), uleb(fn(i));
    out.fill(value, at, at + per);
    at += per;
  }
  out.set([0x00, 0x63, 0x77, 0x6d, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0], at);
  return out.slice(0, at + 16);
}

/** The layout the server's meta-data has, and its two pulls. */
function caseOf(c: Case): { layout?: UnitLayout; pulls: [Uint8Array, Uint8Array] } {
  const small = unitLayout([Array(1000).fill(8)], HASH);
  const big = unitLayout([Array(250_000).fill(16)], HASH);
  switch (c) {
    case "hostile-4mb":
      return {
        layout: small,
        pulls: [1, 2].map((v) => manyFunctions(500_000, 8, (i) => i % 1000, v)) as [
          Uint8Array,
          Uint8Array,
        ],
      };
    case "hostile-20m":
      return {
        layout: small,
        pulls: [1, 2].map((v) => oneFunctionCounters(HASH, 0, 0, 20_000_000, v)) as [
          Uint8Array,
          Uint8Array,
        ],
      };
    case "nometa-unsorted": {
      const n = (1 << 18) - 1;
      const pulls = [1, 2].map((v) => manyFunctions(n, 15, (i) => n - i, v)) as [
        Uint8Array,
        Uint8Array,
      ];
      return { pulls };
    }
    default: {
      const pulls = [1, 2].map((v) => manyFunctions(250_000, 16, (i) => i, v)) as [
        Uint8Array,
        Uint8Array,
      ];
      return { layout: c === "fit-4m" ? big : undefined, pulls };
    }
  }
}

/** The rule before bitsets: the oracle of the property test, and `--old` here. */
function oldDecide(now: Uint8Array, last: { covered: Set<string> } | undefined) {
  const covered = coveredSet(parseCounters(now));
  if (!last) return { why: "first", covered };
  return { why: coversMore(covered, last.covered) ? "new-coverage" : "no-new-coverage", covered };
}

function statusKiB(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(
    Deno.readTextFileSync("/proc/self/status"),
  );
  return m ? Number(m[1]) : NaN;
}

async function measure(c: Case, mode: Mode): Promise<CountersReport> {
  const { layout, pulls } = caseOf(c);
  const stall = startStallProbe();
  const tick = () => new Promise((r) => setTimeout(r, 50));
  await tick();
  try {
    Deno.writeTextFileSync("/proc/self/clear_refs", "5"); // peak RSS from here
  } catch { /* an older kernel: the peak includes making the bodies */ }
  const before = statusKiB("VmRSS");
  const whys: string[] = [];
  let ms = 0;
  let oldLast: { covered: Set<string> } | undefined;
  let snap: StoredSnapshot | undefined;
  for (const [i, body] of pulls.entries()) {
    const t0 = performance.now();
    try {
      if (mode === "old") {
        const d = oldDecide(body, oldLast);
        oldLast = d;
        whys.push(d.why);
      } else {
        const d = await decideStoreAsync(body, snap, {
          now: i,
          refreshMs: 1e9,
          final: false,
          layout,
        });
        if (d.store) snap = { bytes: body, covered: d.covered, at: i };
        whys.push(d.why === "refused" ? `refused (${d.refused.kind})` : d.why);
      }
    } catch (e) {
      whys.push(`threw ${e instanceof Error ? e.name : "?"}`);
    }
    ms = Math.max(ms, performance.now() - t0);
    await tick();
  }
  stall.stop();
  const mib = (kib: number) => Number((kib / 1024).toFixed(0));
  return {
    case: c,
    mode,
    bodyMiB: Number((pulls[0].length / 1048576).toFixed(1)),
    decisions: whys.join(", "),
    ms: Math.round(ms),
    rssBeforeMiB: mib(before),
    peakMiB: mib(statusKiB("VmHWM")),
    rssAfterMiB: mib(statusKiB("VmRSS")),
    longestStallMs: Math.round(stall.longest()),
  };
}

/** Runs each case and mode in a fresh process. */
export async function runCountersBench(cases: Case[], modes: Mode[]): Promise<CountersReport[]> {
  const v8 = await startV8Flags();
  const out: CountersReport[] = [];
  for (const c of cases) {
    for (const mode of modes) {
      const child = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          ...v8,
          new URL(import.meta.url).pathname,
          "--measure",
          c,
          "--mode",
          mode,
        ],
        stderr: "inherit",
      }).output();
      const line = new TextDecoder().decode(child.stdout).split("\n").find((l) =>
        l.startsWith("COUNTERS_JSON ")
      );
      if (!child.success || !line) throw new Error(`bench counters: ${c} ${mode} failed`);
      out.push(JSON.parse(line.slice("COUNTERS_JSON ".length)));
    }
  }
  return out;
}

/** A table of reports. */
export function formatCounters(reports: CountersReport[]): string {
  const head =
    "case         mode    body MiB  time ms  stall ms  RSS before→peak→after MiB  decisions";
  const rows = reports.map((r) =>
    [
      r.case.padEnd(12),
      r.mode.padEnd(6),
      String(r.bodyMiB).padStart(9),
      String(r.ms).padStart(8),
      String(r.longestStallMs).padStart(9),
      `${r.rssBeforeMiB}→${r.peakMiB}→${r.rssAfterMiB}`.padStart(26),
      ` ${r.decisions}`,
    ].join(" ")
  );
  return [head, ...rows].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      old: { type: "boolean", default: false },
      case: { type: "string" },
      measure: { type: "string" },
      mode: { type: "string", default: "bitset" },
    },
  });
  if (values.measure) {
    const r = await measure(values.measure as Case, values.mode as Mode);
    console.log(`COUNTERS_JSON ${JSON.stringify(r)}`);
  } else {
    const cases = values.case ? [values.case as Case] : [...CASES];
    const modes: Mode[] = values.old ? ["old", "bitset"] : ["bitset"];
    console.log(formatCounters(await runCountersBench(cases, modes)));
  }
}
