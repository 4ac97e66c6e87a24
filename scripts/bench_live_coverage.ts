/**
 * What live coverage costs, on a field-size binary (the fixture built with `-coverpkg=all`:
 * ~210 packages, ~72,000 blocks, ~124,000 statements), its files written by Go's runtime:
 *
 *   nice -n 19 scripts/deno run -A scripts/bench_live_coverage.ts
 *
 * Prints one JSON line: ms to build the statement table (once per meta hash), ms per measure
 * (once per store that covers new code), and, for comparison, ms of the counter parse every pull
 * already does.
 */

import { join } from "node:path";
import { coveredSet, parseCounters } from "../src/coverage/counters.ts";
import { liveCoverage, statementTable } from "../src/coverage/live.ts";
import { fieldSizeRun } from "../tests/harness/gocoverdir.ts";

function timeMs(n: number, f: () => unknown): number {
  f();
  const t = performance.now();
  for (let i = 0; i < n; i++) f();
  return Number(((performance.now() - t) / n).toFixed(3));
}

if (import.meta.main) {
  const { dir } = await fieldSizeRun(["/run/alpha", "/run/beta", "/run/gamma"], "bench-live-");
  const names = [...Deno.readDirSync(dir)].map((e) => e.name);
  const meta = await Deno.readFile(join(dir, names.find((n) => n.startsWith("covmeta."))!));
  const counters = await Deno.readFile(join(dir, names.find((n) => n.startsWith("covcounters."))!));
  const table = statementTable(meta);
  const covered = coveredSet(parseCounters(counters));
  console.log(JSON.stringify({
    units: table.stmts.length,
    coveredBlocks: covered.size,
    tableMs: timeMs(10, () => statementTable(meta)),
    measureMs: timeMs(100, () => liveCoverage(table, covered)),
    parsePerPullMs: timeMs(100, () => coveredSet(parseCounters(counters))),
  }));
  await Deno.remove(dir, { recursive: true });
}
