/**
 * Size and load time of the HTML report of a field-size binary with its sources present.
 *
 *   nice -n 19 scripts/deno run -A scripts/bench_html.ts [--runs 3] [--out page.html]
 *
 * The field-size fixture (tests/harness/gocoverdir.ts: the covserver fixture built with
 * `-coverpkg=all`, ~200 packages, ~12,000 functions) runs once; `report --format html --source
 * tests/fixtures/covserver --source $(go env GOROOT)/src` writes the page (timed in this process),
 * then headless Chromium loads it `--runs` times, plain and with a deep link that opens the
 * largest file: the page's own `data-ready-ms` (navigation start to the end of its script) and the
 * wall time of the whole Chromium run (start-up included). Prints one JSON line.
 * Goal: the page opens in under 2 s.
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromiumPath, headless } from "../tests/harness/chromium.ts";
import { fieldSizeRun } from "../tests/harness/gocoverdir.ts";
import { runReport } from "../tests/harness/run_report.ts";
import { go } from "../tests/harness/stored.ts";

const root = new URL("..", import.meta.url).pathname;
const args = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string" }, out: { type: "string" } },
});
const runs = Number(args.values.runs ?? "3");
const chromium = await chromiumPath();
if (chromium === null) {
  throw new Error("bench_html: no chromium on PATH (apt-get install chromium)");
}

const run = await fieldSizeRun(["/run/alpha", "/run/beta?n=2", "/run/gamma"], "bench-html-");
if (run.status.code !== 0) throw new Error(`field-size run failed: ${run.stderr}`);
const goroot = (await go(["env", "GOROOT"])).trim();
const page = args.values.out ?? join(run.dir, "report.html");
const t0 = performance.now();
const r = await runReport([
  run.dir,
  "--format",
  "html",
  "--source",
  join(root, "tests", "fixtures", "covserver"),
  "--source",
  join(goroot, "src"),
  "--out",
  page,
]);
const reportMs = performance.now() - t0;
if (r.code !== 0) throw new Error(`report failed: ${r.err}`);
const html = await Deno.readTextFile(page);
const data = JSON.parse(
  /<script type="application\/json" id="cc-data">(.*?)<\/script>/s.exec(html)![1],
);
const files = data.binaries[0].files as { f: string; src: number | null; s: number; fns: [] }[];
const functions = files.reduce((n, f) => n + f.fns.length, 0);
const withSource = files.filter((f) => f.src !== null);
const biggest = withSource.reduce((a, b) => (b.s > a.s ? b : a));

let unfinished = 0;
async function load(url: string): Promise<{ readyMs: number; scriptMs: number; wallMs: number }> {
  for (;;) {
    const t = performance.now();
    const dom = await headless(chromium!, ["--dump-dom", url]);
    const wallMs = performance.now() - t;
    const ready = /data-script-ms="(\d+)" data-ready-ms="(\d+)"/.exec(dom);
    // Chromium dumped the DOM before the script ran (seen once under a load average of 27):
    // counted, and the run repeated.
    if (!ready) {
      if (++unfinished > 3) throw new Error("the page's script did not finish, 4 times");
      continue;
    }
    return { scriptMs: Number(ready[1]), readyMs: Number(ready[2]), wallMs: Math.round(wallMs) };
  }
}
const plain = [], deep = [];
for (let i = 0; i < runs; i++) {
  plain.push(await load(`file://${page}`));
  deep.push(await load(`file://${page}#${biggest.f}/1`));
}
const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(JSON.stringify({
  files: files.length,
  filesWithSource: withSource.length,
  functions,
  bytes: html.length,
  mib: Number((new TextEncoder().encode(html).length / 2 ** 20).toFixed(1)),
  reportMs: Math.round(reportMs),
  readyMs: median(plain.map((p) => p.readyMs)),
  scriptMs: median(plain.map((p) => p.scriptMs)),
  chromiumWallMs: median(plain.map((p) => p.wallMs)),
  deepLinkFile: biggest.f,
  deepLinkReadyMs: median(deep.map((p) => p.readyMs)),
  deepLinkScriptMs: median(deep.map((p) => p.scriptMs)),
  unfinished,
  loadAverage: (await Deno.readTextFile("/proc/loadavg")).split(" ")[0],
  deepLinkChromiumWallMs: median(deep.map((p) => p.wallMs)),
}));
await Deno.remove(run.dir, { recursive: true }).catch(() => {});
