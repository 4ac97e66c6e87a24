/**
 * Meta-data decode cost and event-loop stall: `deno run -A scripts/bench_meta.ts [--meta FILE]
 * [--runs 5]`.
 *
 * FILE defaults to the meta-data Go writes for the field-size fixture (versitygw with the AWS SDK
 * instrumented, 1.35 MB; built into the cache the first time, minutes). Beside it, the hostile
 * file of issue #17 (2000 function offsets into one function of 2000 units: 18 KB that decoded as
 * 4 million units). For each: the time of a decode (best of `runs`) and the longest event-loop
 * stall while it runs (a 5 ms timer's lateness), three ways:
 *
 * - `idle`: no decoding for 100 ms: the lateness the machine gives by itself (the noise floor);
 * - `sync`: parseMeta, the whole object tree in one go (what report does; a CLI);
 * - `table`: statementTable, the compact table in one go (no yielding);
 * - `verify`: verifyMeta, what the collector does on a full pull: the table and hashes decoded in
 *   steps that yield every 10 ms (fresh tables each run, so nothing is shared).
 */

import { parseArgs } from "node:util";
import { join } from "node:path";
import { verifyMeta } from "../src/collect/coverage.ts";
import { statementTable, StatementTables } from "../src/coverage/live.ts";
import { parseMeta } from "../src/coverage/meta.ts";
import { bigCoverBinary, startBigServer } from "../tests/harness/bigcover.ts";
import { overlappingMeta } from "../tests/harness/metafile.ts";
import { startStallProbe } from "./bench_lib.ts";

/** One measured way of decoding one file. */
export interface MetaBenchRow {
  file: string;
  bytes: number;
  way: "idle" | "sync" | "table" | "verify";
  outcome: string;
  bestMs: number;
  /** The longest stall of each run: on a shared machine the median is the figure to read. */
  medianStallMs: number;
  longestStallMs: number;
}

/** The meta-data Go writes at start for the big field-size server. */
async function fieldMeta(): Promise<Uint8Array> {
  const dir = await Deno.makeTempDir({ prefix: "bench-meta-" });
  try {
    const big = await startBigServer(await bigCoverBinary(), 54700, { GOCOVERDIR: dir });
    await big.stop();
    const name = [...Deno.readDirSync(dir)].find((e) => e.name.startsWith("covmeta."))!.name;
    return await Deno.readFile(join(dir, name));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function measure(run: () => unknown | Promise<unknown>): Promise<[number, number, string]> {
  const stall = startStallProbe();
  await new Promise((r) => setTimeout(r, 20));
  stall.reset();
  const t0 = performance.now();
  let outcome = "ok";
  try {
    await run();
  } catch (e) {
    outcome = `${(e as { kind?: string }).kind ?? "error"}: ${(e as Error).name}`;
  }
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 20));
  stall.stop();
  return [ms, stall.longest(), outcome];
}

/**
 * Measures every way on every file.
 * @example const rows = await runMetaBench({ field: bytes, hostile: overlappingMeta(2000, 2000) }, 5);
 */
export async function runMetaBench(
  files: Record<string, Uint8Array>,
  runs: number,
): Promise<MetaBenchRow[]> {
  const rows: MetaBenchRow[] = [];
  for (const [file, bytes] of Object.entries(files)) {
    const ways = {
      // No work for 100 ms: the timer's lateness a busy machine gives by itself.
      idle: () => new Promise((r) => setTimeout(r, 100)),
      sync: () => parseMeta(bytes),
      table: () => statementTable(bytes),
      verify: () => verifyMeta(bytes, { tables: new StatementTables() }),
    };
    for (const [way, run] of Object.entries(ways)) {
      let best = Infinity, outcome = "";
      const stalls: number[] = [];
      for (let i = 0; i < runs; i++) {
        const [ms, longest, out] = await measure(run);
        best = Math.min(best, ms);
        stalls.push(longest);
        outcome = out;
      }
      stalls.sort((a, b) => a - b);
      rows.push({
        file,
        bytes: bytes.length,
        way: way as MetaBenchRow["way"],
        outcome,
        bestMs: Math.round(best),
        medianStallMs: Math.round(stalls[Math.floor(stalls.length / 2)]),
        longestStallMs: Math.round(stalls[stalls.length - 1]),
      });
    }
  }
  return rows;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { meta: { type: "string" }, runs: { type: "string", default: "5" } },
  });
  const field = values.meta ? await Deno.readFile(values.meta) : await fieldMeta();
  const rows = await runMetaBench(
    { field, hostile: overlappingMeta(2000, 2000) },
    Number(values.runs),
  );
  console.log(
    "file     bytes     way     outcome                      best ms  stall ms: median  longest",
  );
  for (const r of rows) {
    console.log(
      `${r.file.padEnd(8)} ${String(r.bytes).padStart(8)}  ${r.way.padEnd(7)} ${
        r.outcome.padEnd(28)
      } ${String(r.bestMs).padStart(7)}  ${String(r.medianStallMs).padStart(16)}  ${
        String(r.longestStallMs).padStart(7)
      }`,
    );
  }
  console.log(`BENCH_META_JSON ${JSON.stringify(rows)}`);
}
