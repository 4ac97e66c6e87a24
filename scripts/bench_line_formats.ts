/**
 * What `report --format cobertura | lcov | sonar` cost on a field-size program: the fixture built
 * with `-coverpkg=all` (~200 packages, the standard library too), its files written by Go's runtime.
 *
 *   nice -n 19 scripts/deno run -A scripts/bench_line_formats.ts [--repeat 3]
 *
 * Times each format (and `json`, the baseline) in this process, best of N wall times, and prints
 * one JSON line with the files, lines and bytes written. Goal: each format within 3× of `json`.
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { main } from "../src/cli.ts";
import { COMMANDS } from "../src/commands.ts";
import { fieldSizeRun } from "../tests/harness/gocoverdir.ts";

const { values } = parseArgs({ options: { repeat: { type: "string", default: "3" } } });
const repeat = Number(values.repeat);
const run = await fieldSizeRun(["/run/alpha", "/run/beta?n=2", "/run/gamma"], "bench-lines-");
const out = await Deno.makeTempDir({ prefix: "bench-lines-out-" });
const result: Record<string, unknown> = {};
try {
  for (const format of ["json", "cobertura", "lcov", "sonar"]) {
    const file = join(out, `report.${format}`);
    let best = Infinity, note = "";
    for (let i = 0; i < repeat; i++) {
      const t0 = performance.now();
      const code = await main(["report", "--format", format, "--out", file, run.dir], COMMANDS, {
        stdout: () => {},
        stderr: (s) => {
          if (s.startsWith(`report: ${format}: `)) note = s;
        },
        env: {},
      });
      if (code !== 0) throw new Error(`report --format ${format} exited ${code}`);
      best = Math.min(best, performance.now() - t0);
    }
    result[format] = { ms: Math.round(best), bytes: (await Deno.stat(file)).size, summary: note };
  }
} finally {
  await Deno.remove(out, { recursive: true });
  await Deno.remove(run.dir, { recursive: true });
}
console.log(JSON.stringify(result));
