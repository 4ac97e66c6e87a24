/**
 * The HTML page of a store whose names are hostile (markup, script, quotes and control
 * characters in the binary, package, file and function names, in info.json and in a source file
 * found under `--source`), opened in headless Chromium: every name is text, no element or script
 * came of any of it, no raw control is in the page or its DOM, and the binary's info.json facts
 * (source repository and commit, owner via its controller) are shown.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import type { MetaPackage } from "../src/coverage/meta.ts";
import { chromiumForTest, headless } from "./harness/chromium.ts";
import { encodeCounterFile } from "./harness/counterfile.ts";
import { HOSTILE, rawControls } from "./harness/hostile_text.ts";
import { encodeMetaFile } from "./harness/metafile.ts";
import { runReport } from "./harness/run_report.ts";

const { path: chromium, why: noChromium } = await chromiumForTest("report_html_hostile_test");
if (chromium === null) console.log(`report_html_hostile_test: skipped: ${noChromium}`);

const IMG = "<img src=x onerror=alert(1)>";
const FILE = `evil/${IMG}.go`;
const unit = (l: number) => ({ stLine: l, stCol: 2, enLine: l, enCol: 30, stmts: 1 });
const PKG: MetaPackage = {
  path: `evil<script>alert(1)</script>${HOSTILE.esc}`,
  name: "p",
  modulePath: "evil",
  functions: [
    { name: `<b>bold</b>"'&`, file: FILE, literal: false, units: [unit(1)] },
    { name: HOSTILE.osc8, file: FILE, literal: false, units: [unit(2)] },
    {
      name: `C${HOSTILE.bidi}`,
      file: `evil/c${HOSTILE.lineSep}${HOSTILE.c1}.go`,
      literal: false,
      units: [unit(1)],
    },
  ],
};
const SOURCE = `</script><script>document.title="pwned"</script>\n` +
  `  ${HOSTILE.esc}${HOSTILE.c1}${HOSTILE.bidi}<svg onload=alert(2)>\n`;

async function prefix(base: string, pod: string, binary: string, info: Record<string, unknown>) {
  const bytes = encodeMetaFile({
    hash: "ab".repeat(16),
    mode: "count",
    granularity: 1,
    packages: [PKG],
  });
  const hash = Array.from(bytes.subarray(24, 40), (b) => b.toString(16).padStart(2, "0")).join("");
  const dir = join(base, "node-1", "ns", pod, "c", "20261122T100005Z", "img", binary);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeFile(join(dir, `covmeta.${hash}`), bytes);
  await Deno.writeFile(
    join(dir, `covcounters.${hash}.1.1`),
    encodeCounterFile({
      hash,
      functions: [0, 1, 2].map((f) => ({ pkgIdx: 0, funcIdx: f, counters: [f === 1 ? 0 : 3] })),
    }),
  );
  await Deno.writeTextFile(join(dir, "info.json"), JSON.stringify(info));
}

Deno.test({
  name: "chromium: hostile names, info.json facts and source text are shown as text, never markup",
  ignore: chromium === null,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "report-html-hostile-" });
    try {
      const store = join(base, "store"), src = join(base, "src");
      const binary = `app<svg onload=alert(3)>${HOSTILE.esc}`;
      await prefix(store, "p1", binary, {
        source_url: `https://git.example/repo<b>x</b>${HOSTILE.esc}`,
        source_commit: "0123abcd",
        controllerKind: "ReplicaSet",
        controllerName: "web-5d9c",
        workloadKind: "Deployment",
        workloadName: "web",
      });
      // A hostile workload name is no owner: the pod is its own.
      await prefix(store, "p2", binary, { workloadKind: "Deployment", workloadName: "<i>w</i>" });
      await Deno.mkdir(src, { recursive: true });
      await Deno.writeTextFile(join(src, `${IMG}.go`), SOURCE);
      const page = join(base, "report.html");
      const r = await runReport([store, "--format", "html", "--source", src, "--out", page]);
      assertEquals(r.code, 0, r.err);
      const text = await Deno.readTextFile(page);
      assertEquals(rawControls(text), [], "a raw control in the page's bytes");

      const link = encodeURIComponent(FILE).replace(/%2F/g, "/");
      const dom = await headless(chromium!, ["--dump-dom", `file://${page}#${link}/2`]);
      ok(/data-ready-ms="\d+"/.test(dom), "the page's script did not finish");
      assertEquals(rawControls(dom), [], "a raw control in the DOM");
      ok(!dom.includes("pwned</title>"), "the source's script ran");
      for (const markup of ["<img", "<svg", "<b>bold", "<b>x", "<i>w", "<script>alert"]) {
        ok(!dom.includes(markup), `${markup} became markup`);
      }
      // Shown as text: the file (table and viewer), its functions, the source, the binary.
      ok(dom.includes(`<div class="viewer" data-binary="0" data-file="evil/&lt;img`), "not opened");
      ok(dom.includes("&lt;img src=x onerror=alert(1)&gt;.go</a>"), "file name");
      ok(dom.includes("&lt;b&gt;bold&lt;/b&gt;\"'&amp;</a>"), "function name");
      ok(dom.includes("\\x1b]8;;file:evil\\x07click"), "OSC 8 function name");
      // The source's text, its painted spans taken out.
      const code = [...dom.matchAll(/<code class="code">(.*?)<\/code>/g)].map((m) =>
        m[1].replace(/<span class="c[01]" title="\d+ runs?">|<\/span>/g, "")
      );
      assertEquals(code, [
        '&lt;/script&gt;&lt;script&gt;document.title="pwned"&lt;/script&gt;',
        "  \\x1b[31mred\\x1b[0m\\x9b2J\\x85\\u{202e}gnp.exe&lt;svg onload=alert(2)&gt;",
        "",
      ]);
      ok(dom.includes("app&lt;svg onload=alert(3)&gt;\\x1b[31mred"), "binary name");
      // A file name with controls is never looked up: figures only, said so.
      ok(
        dom.includes(
          `evil/cl\\u{2028}p\\u{2029}\\x9b2J\\x85.go</a><span class="nosrc-mark"> (no source)</span>`,
        ),
        "control file name",
      );
      // The level filter, set from the URL as the search is: only the fully covered file.
      const full = await headless(chromium!, ["--dump-dom", `file://${page}#level=full`]);
      const rows = [...full.matchAll(/<tr class="file" data-file="([^"]*)"[^>]*?( hidden="")?>/g)]
        .map((m) => [m[1].slice(0, 10), m[2] !== undefined]);
      assertEquals(rows, [["evil/&lt;i", true], ["evil/cl\\u{", false]]);
      ok(full.includes("1 of 2 files shown"), "count");
      // The facts of info.json.
      const dd = (k: string) => new RegExp(`<dd class="fact-${k}">(.*?)</dd>`).exec(dom)?.[1];
      assertEquals(
        dd("source"),
        "https://git.example/repo&lt;b&gt;x&lt;/b&gt;\\x1b[31mred\\x1b[0m @ 0123abcd",
      );
      assertEquals(dd("owners"), "ns/Deployment/web (via ReplicaSet/web-5d9c), ns/Pod/p2");
      assertEquals(dd("namespaces"), 'ns <span class="n">×2</span>');
      assertEquals(dd("nodes"), 'node-1 <span class="n">×2</span>');
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
});

Deno.test("report --source: only with --format html, and a missing directory is a usage error naming it", async () => {
  const store = await Deno.makeTempDir({ prefix: "report-html-flags-" });
  try {
    const json = await runReport([store, "--format", "json", "--source", store]);
    assertEquals(json.code, 2);
    ok(json.err.includes("--source is for --format html, not json"), json.err);
    const missing = join(store, "no-such-dir");
    const html = await runReport([store, "--format", "html", "--source", missing]);
    assertEquals(html.code, 2);
    ok(html.err.includes(`--source ${missing}:`), html.err);
  } finally {
    await Deno.remove(store, { recursive: true });
  }
});
