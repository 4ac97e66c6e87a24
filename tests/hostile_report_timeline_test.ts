/**
 * `report --windows` over a store whose package, file and function names are hostile (controls,
 * markup): the windows' function lists reach no terminal raw in text, stay names in JSON, and the
 * HTML page and its SVG stay well-formed (xmllint parses the SVG) with the names as text.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { CLIENT_SCRIPT } from "../src/report/html_client.ts";
import type { MetaPackage } from "../src/coverage/meta.ts";
import { encodeTimeline, timelineName } from "../src/coverage/timeline.ts";
import { encodeCounterFile } from "./harness/counterfile.ts";
import { HOSTILE, rawControls } from "./harness/hostile_text.ts";
import { encodeMetaFile } from "./harness/metafile.ts";
import { runReport } from "./harness/run_report.ts";
import { renderTimelineText } from "../src/report/timeline_text.ts";

const unit = { stLine: 3, stCol: 14, enLine: 5, enCol: 2, stmts: 2 };
const MARKUP = `</svg><script>x</script>&amp;"'`;

const PKG: MetaPackage = {
  path: `evil/${HOSTILE.esc}${MARKUP}`,
  name: "p",
  modulePath: "evil",
  functions: [
    {
      name: `${HOSTILE.osc8}${MARKUP}`,
      file: `evil/c${HOSTILE.lineSep}.go`,
      literal: false,
      units: [unit],
    },
    {
      name: `B${HOSTILE.bidi}`,
      file: `evil/${HOSTILE.c1}${MARKUP}.go`,
      literal: false,
      units: [unit],
    },
  ],
};

async function hostileStore(
  t0 = Date.UTC(2026, 11, 2, 10, 0, 0),
): Promise<{ dir: string; windows: string }> {
  const dir = await Deno.makeTempDir({ prefix: "hostile-timeline-" });
  const leaf = join(dir, "node-1", "ns", "p1", "c", "20261202T100000Z", "img", "app");
  await Deno.mkdir(leaf, { recursive: true });
  const bytes = encodeMetaFile({
    hash: "ab".repeat(16),
    mode: "count",
    granularity: 1,
    packages: [PKG],
  });
  const hash = Array.from(bytes.subarray(24, 40), (b) => b.toString(16).padStart(2, "0")).join("");
  await Deno.writeFile(join(leaf, `covmeta.${hash}`), bytes);
  await Deno.writeFile(
    join(leaf, `covcounters.${hash}.7.1`),
    encodeCounterFile({
      hash,
      functions: [{ pkgIdx: 0, funcIdx: 0, counters: [3] }, {
        pkgIdx: 0,
        funcIdx: 1,
        counters: [1],
      }],
    }),
  );
  await Deno.writeFile(
    join(leaf, timelineName(hash, 7)),
    encodeTimeline({
      steps: [
        { after: null, at: t0, units: [0] },
        { after: t0, at: t0 + 5000, units: [1] },
      ],
    }, 2),
  );
  const windows = join(dir, "windows.txt");
  await Deno.writeTextFile(
    windows,
    `<b>a&amp;</b> 2026-12-02T09:59:00Z 2026-12-02T10:00:06Z\n` +
      `ov"'</svg> 2026-12-02T10:00:01Z 2026-12-02T10:00:09Z\n`,
  );
  return { dir, windows };
}

Deno.test("report --windows of hostile names: no raw control in text, names kept in JSON, well-formed HTML and SVG", async () => {
  const { dir, windows } = await hostileStore();
  try {
    const text = await runReport([dir, "--windows", windows]);
    assertEquals(text.code, 0, text.err);
    assertEquals(rawControls(text.out), [], JSON.stringify(text.out));
    ok(text.out.includes("shared by <b>a&amp;</b> + ov\"'</svg>: 2 statements"), text.out);

    const json = JSON.parse((await runReport([dir, "--windows", windows, "--format", "json"])).out);
    const t = json.binaries[0].timeline;
    assertEquals(t.windows.map((w: { name: string }) => w.name), ["<b>a&amp;</b>", `ov"'</svg>`]);
    assertEquals(t.shared[0].functions[0].name, `B${HOSTILE.bidi}`);
    assertEquals(
      t.windows[0].functions.map((f: { file: string }) => f.file).sort(),
      [
        `evil/${HOSTILE.c1}${MARKUP}.go`,
        `evil/c${HOSTILE.lineSep}.go`,
      ].sort(),
    );

    // The renderer itself escapes (the CLI's stdout escapes again, in depth).
    const direct = renderTimelineText(json.binaries[0].binary, json.binaries[0].hash, t);
    assertEquals(rawControls(direct), [], JSON.stringify(direct));
    const html = (await runReport([dir, "--windows", windows, "--format", "html"])).out;
    assertEquals(rawControls(html), [], "raw control in the page");
    // The page's own scripts (its data as JSON with every `<` escaped, and its client script)
    // are the only ones: with them taken out, no script and no markup of a name is left.
    const own = html
      .replace(/<script type="application\/json" id="cc-[a-z0-9-]+">[^<]*<\/script>/g, "")
      .replace(`<script>${CLIENT_SCRIPT}</script>`, "");
    ok(!/<script|<b>a&/.test(own), "markup got in");
    assertEquals(html.split("</svg>").length, 2, "a name closed the SVG");
    const svgs = html.match(/<svg [^]*?<\/svg>/g) ?? [];
    assertEquals(svgs.length, 1);
    const file = join(dir, "curve.svg");
    await Deno.writeTextFile(file, svgs[0]);
    const lint = await new Deno.Command("xmllint", { args: ["--noout", file], stderr: "piped" })
      .output().catch(() => null);
    if (lint === null) {
      console.log(
        "hostile_report_timeline_test: SVG not parsed: no xmllint (apt-get install libxml2-utils)",
      );
    } else assertEquals(lint.code, 0, new TextDecoder().decode(lint.stderr));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a timeline with a time no Date holds is its prefix's error, not a crash", async () => {
  // The codec takes times up to 2^53 ms; a Date ends at 8.64e15.
  const { dir, windows } = await hostileStore(2 ** 53 - 10_000);
  try {
    for (const format of ["text", "json", "html"]) {
      const r = await runReport([dir, "--windows", windows, "--format", format]);
      assertEquals(r.code, 1, r.err);
      ok(
        /unreadable prefix .*covtimeline\.[0-9a-f]+\.7: step at \d+ ms is past/.test(r.err),
        r.err,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
