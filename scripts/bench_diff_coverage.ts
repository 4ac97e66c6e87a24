/**
 * What incremental coverage costs on a large change: a generated unified diff of `--files` files
 * with `--lines` added lines each (in hunks of 10), parsed, then matched against a line model of
 * the same files (every changed line holds code, every other one was run):
 *
 *   nice -n 19 scripts/deno run -A scripts/bench_diff_coverage.ts [--files 1000] [--lines 2000]
 *
 * Prints one JSON line: diff MiB, ms to parse, ms to match, changed lines.
 */

import { parseArgs } from "node:util";
import { changedOf } from "../src/report/changed_coverage.ts";
import type { FileLines } from "../src/report/lines.ts";
import { parseUnifiedDiff } from "../src/report/unified_diff.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      files: { type: "string", default: "1000" },
      lines: { type: "string", default: "2000" },
    },
  });
  const nFiles = Number(values.files), nLines = Number(values.lines);
  const parts: string[] = [];
  const model: FileLines[] = [];
  for (let f = 0; f < nFiles; f++) {
    const path = `pkg${f % 50}/file${f}.go`;
    parts.push(`diff --git a/${path} b/${path}\nindex 1..2 100644\n--- a/${path}\n+++ b/${path}\n`);
    for (let h = 0; h < nLines / 10; h++) {
      const at = 1 + h * 20;
      parts.push(
        `@@ -${at},1 +${at},10 @@\n-old\n` + "+\tx := f(y) // a changed line\n".repeat(10),
      );
    }
    const lines = [];
    for (let l = 1; l <= nLines * 2; l++) lines.push({ line: l, hits: l % 3, statements: 1 });
    model.push({ path, importPath: `m/${path}`, lines });
  }
  const text = parts.join("");
  const t0 = performance.now();
  const diff = parseUnifiedDiff(text);
  const t1 = performance.now();
  const c = changedOf(diff, model);
  const t2 = performance.now();
  console.log(JSON.stringify({
    diffMiB: Number((text.length / 2 ** 20).toFixed(1)),
    parseMs: Math.round(t1 - t0),
    matchMs: Math.round(t2 - t1),
    changedLines: diff.reduce((n, f) => n + f.lines.length, 0),
    measured: c.measured,
  }));
}
