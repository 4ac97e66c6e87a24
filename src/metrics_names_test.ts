/**
 * Every metric the collector registers is named under `coverage_collector_`, in every mode (the
 * daemon test scrapes one mode; this reads every registration in the source).
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = fileURLToPath(new URL(".", import.meta.url));

async function* sources(dir: string): AsyncIterable<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* sources(p);
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) yield p;
  }
}

/** Names given to metrics.inc/set/counter/computed, constants resolved within the file. */
function metricNames(text: string): string[] {
  const consts = new Map<string, string>();
  for (const m of text.matchAll(/const ([A-Z_]+) = "([^"]*)";/g)) consts.set(m[1], m[2]);
  const names: string[] = [];
  const calls = /\b(?:m|metrics)\.(?:inc|set|counter|computed)\(\s*(?:"([^"]*)"|([A-Z_]+)\b)/g;
  for (const m of text.matchAll(calls)) {
    names.push(m[1] ?? consts.get(m[2]) ?? `unresolved constant ${m[2]}`);
  }
  return names;
}

Deno.test("every metric registered in src/ is named coverage_collector_*", async () => {
  const all: string[] = [];
  const bad: string[] = [];
  for await (const file of sources(SRC)) {
    if (file.endsWith("metrics.ts") && !file.includes("process_")) continue;
    for (const name of metricNames(await Deno.readTextFile(file))) {
      all.push(name);
      if (!/^coverage_collector_[a-z0-9_]+$/.test(name)) {
        bad.push(`${relative(SRC, file)}: ${name}`);
      }
    }
  }
  ok(all.length >= 25, `found only ${all.length} registrations: ${all.join(", ")}`);
  assertEquals(bad, []);
});

Deno.test("the name check sees literal, constant and multi-line registrations", () => {
  const names = metricNames(`const A = "x_total";\nm.inc(A, "h");\nmetrics.computed(\n  "y",\n);`);
  assertEquals(names, ["x_total", "y"]);
});
