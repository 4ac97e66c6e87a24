/**
 * The HTML report's coverage-over-time picture in headless Chromium, from a real phased run:
 * the windows' figures in the DOM equal the JSON report's, the step curve's last point is the
 * binary's covered total, the page stays self-contained, and a hostile window name is text, not
 * markup. The screenshot is kept in .cache/report-timeline.png.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import type { BinaryReport } from "../src/report/model.ts";
import { chromiumForTest, headless } from "./harness/chromium.ts";
import { repoRoot } from "./harness/gobuild.ts";
import { storePhasedRun } from "./harness/phased_run.ts";
import { countColor, decodePng } from "./harness/png.ts";
import { runReport } from "./harness/run_report.ts";

const { path: chromium, why: noChromium } = await chromiumForTest("report_timeline_html_test");
if (chromium === null) console.log(`report_timeline_html_test: skipped: ${noChromium}`);

const SEG = ["node-1", "ns", "pod-1", "app", "20261202T100000Z", "img", "covserver"];
const HOSTILE = `<i>evil</i>&"'`;
const iso = (ms: number) => new Date(ms).toISOString();

Deno.test({
  name: "chromium shows the step curve and the windows' figures of the JSON report",
  ignore: chromium === null,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "report-timeline-html-" });
    try {
      const run = await storePhasedRun(base, [["/run/alpha"], ["/run/beta"], ["/run/gamma"]], SEG);
      const [a, b, c] = run.phases;
      const wfile = join(base, "windows.txt");
      await Deno.writeTextFile(
        wfile,
        `install ${iso(a.began)} ${iso(a.pulledAt)}\n${HOSTILE} ${iso(b.began)} ${
          iso(c.pulledAt)
        }\n`,
      );
      const json = await runReport([base, "--windows", wfile, "--format", "json"]);
      assertEquals(json.code, 0, json.err);
      const bin: BinaryReport = JSON.parse(json.out).binaries[0];
      const t = bin.timeline!;
      const page = join(base, "report.html");
      const html = await runReport([base, "--windows", wfile, "--format", "html", "--out", page]);
      assertEquals(html.code, 0, html.err);
      const source = await Deno.readTextFile(page);
      // Its scripts are inline (the file table and source view): none is fetched.
      ok(
        !/\b(src|href)=["']?[^"'#]|url\(|@import|<script[^>]*\bsrc\b/i.test(source),
        "the page refers to an asset",
      );

      const dom = await headless(chromium!, ["--dump-dom", `file://${page}`]);
      // The window name is text: no <i> element came of it.
      ok(!dom.includes("<i>evil"), "a window name became markup");
      ok(dom.includes("&lt;i&gt;evil&lt;/i&gt;&amp;"), "the window name is not shown");
      const rows = [...dom.matchAll(
        /<tr class="window" data-index="(\d+)" data-statements="(\d+)" data-only="(\d+)" data-shared="(\d+)" data-first-pull="(\d+)">/g,
      )].map((m) => m.slice(1).map(Number));
      assertEquals(
        rows,
        t.windows.map((w, i) => [i, w.statements, w.only, w.shared, w.firstPull]),
      );
      ok(t.windows[0].statements > 0 && t.windows[1].statements > 0);
      const points = [
        ...dom.matchAll(/<circle class="point" data-at="([^"]+)" data-covered="(\d+)"/g),
      ]
        .map((m) => [m[1], Number(m[2])]);
      assertEquals(points, t.curve.map((p) => [p.at, p.covered]));
      assertEquals(points[points.length - 1][1], bin.covered);
      const bands = [...dom.matchAll(/<rect class="band"/g)].length;
      assertEquals(bands, 2);
      ok(/<polyline class="curve" points="[\d., ]+"/.test(dom), "no curve");

      await Deno.mkdir(join(repoRoot, ".cache"), { recursive: true });
      const shot = join(repoRoot, ".cache", "report-timeline.png");
      await Deno.remove(shot).catch(() => {});
      await headless(chromium!, [
        "--window-size=1000,700",
        `--screenshot=${shot}`,
        `file://${page}`,
      ]);
      const px = await decodePng(await Deno.readFile(shot));
      // The curve is drawn: pixels of its stroke colour.
      const blue = countColor(px, [0x1a, 0x5f, 0xb4]);
      ok(blue > 200, `curve pixels ${blue}`);
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
});
