/**
 * The HTML report of a field-size binary (the covserver fixture built with `-coverpkg=all`: ~200
 * packages, ~12,000 functions) with its sources on disk (`--source tests/fixtures/covserver
 * --source $(go env GOROOT)/src`), used in headless Chromium as a person would: the file table's
 * figures equal Go's own (`go tool covdata textfmt`, summed per file) and the JSON report's per
 * package; a deep link `#<file>/<line>` opens the file with an uncovered line marked uncovered and
 * a covered one covered (the lines chosen from Go's profile); `#search=` (what the page's search
 * box reads from the URL: `--dump-dom` cannot type) narrows the table; the screenshot is kept in
 * .cache/report-source.png.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { chromiumForTest, headless } from "./harness/chromium.ts";
import { repoRoot } from "./harness/gobuild.ts";
import { fieldSizeRun } from "./harness/gocoverdir.ts";
import { countColor, decodePng } from "./harness/png.ts";
import { runReport } from "./harness/run_report.ts";
import { go } from "./harness/stored.ts";

const { path: chromium, why: noChromium } = await chromiumForTest("report_html_source_test");
if (chromium === null) console.log(`report_html_source_test: skipped: ${noChromium}`);

const ALPHA = "example.test/covserver/alpha/alpha.go";

interface Block {
  file: string;
  sl: number;
  el: number;
  stmts: number;
  count: number;
}

/** Go's profile (`covdata textfmt`) as blocks. */
function blocksOf(textfmt: string): Block[] {
  return textfmt.trim().split("\n").slice(1).map((l) => {
    const m = /^(.+):(\d+)\.\d+,(\d+)\.\d+ (\d+) (\d+)$/.exec(l)!;
    return { file: m[1], sl: +m[2], el: +m[3], stmts: +m[4], count: +m[5] };
  });
}

/** The rows of the page's file table, in DOM order: [file, statements, covered, hidden]. */
function fileRows(dom: string): [string, number, number, boolean][] {
  return [...dom.matchAll(/<tr class="file" ([^>]*)>/g)].map((m) => {
    const attr = (n: string) => new RegExp(`${n}="([^"]*)"`).exec(m[1])?.[1] ?? "";
    return [
      attr("data-file"),
      +attr("data-statements"),
      +attr("data-covered"),
      /hidden/.test(m[1]),
    ];
  });
}

Deno.test({
  name:
    "chromium: the field-size page's files equal Go's figures; deep link, line marks, search, screenshot",
  ignore: chromium === null,
  async fn() {
    const run = await fieldSizeRun(["/run/alpha", "/run/beta?n=2"], "report-html-src-");
    assertEquals(run.status.code, 0, run.stderr);
    const dir = run.dir;
    try {
      const goroot = (await go(["env", "GOROOT"])).trim();
      const page = join(dir, "report.html");
      const html = await runReport([
        dir,
        "--format",
        "html",
        "--source",
        join(repoRoot, "tests", "fixtures", "covserver"),
        "--source",
        join(goroot, "src"),
        "--out",
        page,
      ]);
      assertEquals(html.code, 0, html.err);
      const text = await Deno.readTextFile(page);
      // Self-contained: outside its data (Go source says `http://` often), nothing to fetch.
      const markup = text.replace(/<script type="application\/json"[^>]*>[^<]*<\/script>/g, "");
      ok(markup.length < text.length / 4, "the data is not in application/json elements");
      ok(!/\b(src|href)=["']?[^"'#]|url\(|@import/i.test(markup), "the page refers to an asset");
      const json = await runReport([dir, "--format", "json"]);
      const bin = JSON.parse(json.out).binaries[0];
      ok(bin.packages.length > 150, `${bin.packages.length} packages`);

      const tf = join(dir, "go.txt");
      await go(["tool", "covdata", "textfmt", "-i", dir, "-o", tf]);
      const blocks = blocksOf(await Deno.readTextFile(tf));
      const goFiles = new Map<string, [number, number]>();
      for (const b of blocks) {
        const f = goFiles.get(b.file) ?? [0, 0];
        f[0] += b.stmts;
        if (b.count > 0) f[1] += b.stmts;
        goFiles.set(b.file, f);
      }

      // Every file's figures, as Go sums them, and each package's as the JSON report's.
      const dom = await headless(chromium!, ["--dump-dom", `file://${page}`]);
      ok(/data-ready-ms="\d+"/.test(dom), "the page's script did not finish");
      const rows = fileRows(dom);
      assertEquals(
        rows.map(([f, s, c]) => [f, s, c]).sort(),
        [...goFiles].map(([f, [s, c]]) => [f, s, c]).sort(),
      );
      const byPkg = new Map<string, [number, number]>();
      for (const [f, s, c] of rows) {
        const pkg = f.slice(0, f.lastIndexOf("/"));
        const p = byPkg.get(pkg) ?? [0, 0];
        byPkg.set(pkg, [p[0] + s, p[1] + c]);
      }
      assertEquals(
        [...byPkg].filter(([, [s]]) => s > 0).sort(),
        // A package without statements (only declarations) may have no file in the table.
        bin.packages.filter((p: { statements: number }) => p.statements > 0)
          .map((p: { path: string; statements: number; covered: number }) => [
            p.path,
            [p.statements, p.covered],
          ]).sort(),
      );
      const noSource = [
        ...dom.matchAll(
          /data-file="([^"]*)"[^>]*><td class="fname"><a[^>]*>[^<]*<\/a><span class="nosrc-mark">/g,
        ),
      ].map((m) => m[1]);
      assertEquals(noSource, [], "files of the fixture or GOROOT without source");

      // Lines of alpha.go that Go's profile says are run (only by blocks that ran) or not.
      const alpha = blocks.filter((b) => b.file === ALPHA);
      const on = (l: number) => alpha.filter((b) => b.sl <= l && l <= b.el);
      const only = (pred: (b: Block) => boolean) =>
        alpha.find((b) => b.sl === b.el && on(b.sl).every(pred))!.sl;
      const unrun = only((b) => b.count === 0), ran = only((b) => b.count > 0);
      const deep = await headless(chromium!, ["--dump-dom", `file://${page}#${ALPHA}/${unrun}`]);
      ok(deep.includes(`<div class="viewer" data-binary="0" data-file="${ALPHA}">`), "not opened");
      ok(
        deep.includes(`<div class="line unc target" data-line="${unrun}" data-hits="0">`),
        `line ${unrun} is not the target marked uncovered`,
      );
      const hits = Math.max(...on(ran).map((b) => b.count));
      ok(
        deep.includes(`<div class="line cov" data-line="${ran}" data-hits="${hits}">`),
        `line ${ran} is not marked covered with ${hits}`,
      );
      const m = /<div class="line unc target" data-line="\d+" data-hits="0">.*?<\/div>/.exec(deep);
      // The statement is painted uncovered from its start column to its end, as Go's span says.
      const src = await Deno.readTextFile(
        join(repoRoot, "tests/fixtures/covserver/alpha/alpha.go"),
      );
      const code = src.split("\n")[unrun - 1].trim();
      ok(m![0].includes(`<span class="c0" title="0 runs">${code}</span>`), m![0]);
      ok(!m![0].includes('class="c1"'), m![0]);

      // The search box, set from the URL: files named alpha or holding a function named so.
      const searched = fileRows(
        await headless(chromium!, ["--dump-dom", `file://${page}#search=alpha`]),
      );
      const shown = searched.filter((r) => !r[3]).map((r) => r[0]);
      ok(shown.includes(ALPHA) && shown.length < searched.length / 10, `${shown.length} shown`);
      assertEquals(searched.length, rows.length);
      for (const f of shown) {
        const fns = bin.packages.flatMap((p: { functions: { file: string; name: string }[] }) =>
          p.functions
        ).filter((fn: { file: string; name: string }) => fn.file === f);
        ok(
          f.includes("alpha") ||
            fns.some((fn: { name: string }) => fn.name.toLowerCase().includes("alpha")),
          `${f} matches no "alpha"`,
        );
      }

      await Deno.mkdir(join(repoRoot, ".cache"), { recursive: true });
      const shot = join(repoRoot, ".cache", "report-source.png");
      await Deno.remove(shot).catch(() => {});
      await headless(chromium!, [
        "--window-size=1100,800",
        `--screenshot=${shot}`,
        `file://${page}#${ALPHA}/${unrun}`,
      ]);
      const px = await decodePng(await Deno.readFile(shot));
      const green = countColor(px, [0xbb, 0xff, 0xbb]), red = countColor(px, [0xff, 0xbb, 0xbb]);
      ok(green > 100 && red > 100, `painted source: green ${green} red ${red}`);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});
