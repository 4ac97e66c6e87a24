/**
 * The HTML report opened in a real headless browser (Debian's chromium): it renders the figures
 * of the JSON report, with bars, from one self-contained file. The screenshot is kept in .cache/.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { main } from "../src/app/cli.ts";
import { COMMANDS } from "../src/app/commands.ts";
import { repoRoot } from "./harness/gobuild.ts";
import { chromiumForTest, headless as headlessRun } from "./harness/chromium.ts";
import { countColor, decodePng } from "./harness/png.ts";
import { storeFixtureRun } from "./harness/stored.ts";

const { path: chromium, why: noChromium } = await chromiumForTest("report_html_test");
if (chromium === null) console.log(`report_html_test: skipped: ${noChromium}`);
const headless = (args: string[]) => headlessRun(chromium!, args);

async function report(args: string[]): Promise<string> {
  const out: string[] = [];
  const code = await main(["report", ...args], COMMANDS, {
    stdout: (s) => out.push(s),
    stderr: () => {},
    env: {},
  });
  assertEquals(code, 0);
  return out.join("\n");
}

Deno.test({
  name: "chromium renders the HTML report's figures and bars (screenshot in .cache/report.png)",
  ignore: chromium === null,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "report-html-" });
    const seg = (
      pod: string,
    ) => ["node-1", "ns", pod, "app", "20261122T100005Z", "img", "covserver"];
    await storeFixtureRun(base, { routes: ["/run/alpha", "/run/gamma"], segments: seg("p1") });
    await storeFixtureRun(base, { routes: ["/run/beta?n=3"], segments: seg("p2") });
    const json = JSON.parse(await report(["--format", "json", base]));
    const page = join(base, "report.html");
    await report(["--format", "html", "--out", page, base]);
    const html = await Deno.readTextFile(page);
    // Self-contained: nothing to fetch.
    // Self-contained: its links are fragments of the page itself (`href="#…"`), nothing to fetch.
    ok(
      !/\b(src|href)=["']?[^"'#]|url\(|@import/i.test(html),
      "the page refers to an external asset",
    );

    const dom = await headless(["--dump-dom", `file://${page}`]);
    const b = json.binaries[0];
    ok(dom.includes(`<b>covserver</b>`), dom.slice(0, 500));
    ok(
      dom.includes(`${b.percent}%</span> <span class="n">${b.covered}/${b.statements}</span>`),
      "binary figures",
    );
    for (const p of b.packages) {
      ok(dom.includes(`${p.path}</span>`) && dom.includes(`${p.percent}%`), `package ${p.path}`);
    }

    await Deno.mkdir(join(repoRoot, ".cache"), { recursive: true });
    const shot = join(repoRoot, ".cache", "report.png");
    await Deno.remove(shot).catch(() => {});
    await headless(["--window-size=1000,700", `--screenshot=${shot}`, `file://${page}`]);
    const px = await decodePng(await Deno.readFile(shot));
    assertEquals([px.width, px.height], [1000, 700]);
    // The bars: covered green and uncovered red.
    const green = countColor(px, [0x33, 0xaa, 0x33]);
    const red = countColor(px, [0xee, 0x66, 0x66]);
    ok(green > 100 && red > 100, `green ${green} red ${red}`);
  },
});
