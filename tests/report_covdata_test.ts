/**
 * `report` and the covmeta decoder judged by `go tool covdata` on real `-cover` data: the fixture
 * run in several processes (different routes), stored in the collector's layout.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { parseMeta } from "../src/coverage/meta.ts";
import { hasGo } from "./harness/gobuild.ts";
import { funcRows, packagePercents } from "./harness/report_rows.ts";
import { go, type StoredRun, storeFixtureRun } from "./harness/stored.ts";
import { runReport } from "./harness/run_report.ts";

const noGo = !(await hasGo());

const C = (ns: string, pod: string, time: string) => [
  "node-1",
  ns,
  pod,
  "app",
  time,
  "quay.io-x-sha256-1",
  "covserver",
];

/** Three processes of the same build: two in ns-a, one in ns-b. */
async function storeRuns(base: string): Promise<StoredRun[]> {
  return [
    await storeFixtureRun(base, {
      routes: ["/run/alpha", "/run/alpha?n=0"],
      segments: C("ns-a", "pod-1", "20261122T100005Z"),
    }),
    await storeFixtureRun(base, {
      routes: ["/run/beta?n=3", "/run/gamma"],
      segments: C("ns-a", "pod-2", "20261122T110000Z"),
    }),
    await storeFixtureRun(base, {
      routes: ["/run/gamma?s=", "/run/beta?n=-1"],
      segments: C("ns-b", "pod-3", "20261123T000000Z"),
    }),
  ];
}

const report = runReport;

/** `go tool covdata percent` lines as path → "xx.x". */
function goPercent(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\n")) {
    const r = /^\s*(\S+)\s+coverage: ([\d.]+)% of statements/.exec(line);
    if (r) m.set(r[1], r[2]);
  }
  return m;
}

/** `go tool covdata percent -i <dirs>` (comma-separated) as path → "xx.x". */
async function goPercentOf(dirs: string): Promise<Map<string, string>> {
  return goPercent(await go(["tool", "covdata", "percent", "-i", dirs]));
}

/** `go tool covdata textfmt -i <dirs> -o <file>`. */
async function goTextfmt(dirs: string, file: string): Promise<void> {
  await go(["tool", "covdata", "textfmt", "-i", dirs, "-o", file]);
}

/** The leaf directories of `runs`, comma-separated (what `-i` takes). */
const leaves = (runs: StoredRun[]) => runs.map((r) => r.leaf).join(",");

/** `go tool covdata func` lines as [file:line, name, pct] (the total line included). */
function goFunc(text: string): string[][] {
  return text.trim().split("\n").map((l) => l.split(/\t+/).map((s) => s.trim()))
    .map(([a, b, c]) => [a, b, c]);
}

let shared: Promise<{ base: string; runs: StoredRun[] }> | undefined;
function fixture() {
  shared ??= (async () => {
    const base = await Deno.makeTempDir({ prefix: "report-covdata-" });
    return { base, runs: await storeRuns(base) };
  })();
  return shared;
}

Deno.test({
  name: "parseMeta reads the fixture's meta-data as go tool covdata debugdump lists it",
  ignore: noGo,
  async fn() {
    const { runs } = await fixture();
    const r = runs[0];
    const meta = parseMeta(await Deno.readFile(join(r.leaf, `covmeta.${r.hash}`)));
    assertEquals([meta.hash, meta.mode], [r.hash, "atomic"]);
    const dump = await go(["tool", "covdata", "debugdump", "-i", r.leaf]);
    const want: string[] = [];
    for (const line of dump.split("\n")) {
      if (/^(Package path|Package name|Module path|Func|Srcfile|Literal):/.test(line)) {
        want.push(line);
      }
      const u = /^(\d+): L(\d+):C(\d+) -- L(\d+):C(\d+) NS=(\d+)/.exec(line);
      if (u) want.push(u.slice(1).join(" "));
    }
    const got: string[] = [];
    for (const p of meta.packages) {
      got.push(
        `Package path: ${p.path}`,
        `Package name: ${p.name}`,
        `Module path: ${p.modulePath}`,
      );
      for (const f of p.functions) {
        got.push(`Func: ${f.name}`, `Srcfile: ${f.file}`, `Literal: ${f.literal}`);
        f.units.forEach((u, i) =>
          got.push([i, u.stLine, u.stCol, u.enLine, u.enCol, u.stmts].join(" "))
        );
      }
    }
    ok(want.length > 50, `debugdump listed only ${want.length} lines`);
    assertEquals(got, want);
  },
});

Deno.test({
  name: "report's package and function figures equal go tool covdata percent and func",
  ignore: noGo,
  async fn() {
    const { base, runs } = await fixture();
    const dirs = leaves(runs);
    const pct = await goPercentOf(dirs);
    const funcs = goFunc(await go(["tool", "covdata", "func", "-i", dirs]));
    const res = await report(["--format", "json", base]);
    assertEquals(res.code, 0, res.err);
    const rep = JSON.parse(res.out);
    assertEquals(rep.binaries.length, 1);
    const b = rep.binaries[0];
    assertEquals([b.binary, b.prefixes, b.processes, b.pods], ["covserver", 3, 3, 3]);
    ok(pct.size >= 5, `go listed ${pct.size} packages`);
    assertEquals(packagePercents(b), pct);
    assertEquals(funcRows(b), funcs);
    // Some of everything: not all covered, not nothing.
    ok(b.covered > 0 && b.covered < b.statements, `${b.covered}/${b.statements}`);
  },
});

Deno.test({
  name: "report --format textfmt equals go tool covdata textfmt, line for line",
  ignore: noGo,
  async fn() {
    const { base, runs } = await fixture();
    const tmp = await Deno.makeTempDir({ prefix: "report-textfmt-" });
    await goTextfmt(leaves(runs), join(tmp, "go.txt"));
    const res = await report(["--format", "textfmt", "--out", join(tmp, "ours.txt"), base]);
    assertEquals(res.code, 0, res.err);
    const goText = await Deno.readTextFile(join(tmp, "go.txt"));
    assertEquals(await Deno.readTextFile(join(tmp, "ours.txt")), goText);
    ok(goText.startsWith("mode: atomic\n"));
  },
});

Deno.test({
  name: "report --format covdata writes files that go tool covdata percent reads with our figures",
  ignore: noGo,
  async fn() {
    const { base, runs } = await fixture();
    const out = await Deno.makeTempDir({ prefix: "report-out-" });
    const res = await report(["--format", "covdata", "--out", out, base]);
    assertEquals(res.code, 0, res.err);
    const fromOurs = await goPercentOf(out);
    const fromInputs = await goPercentOf(leaves(runs));
    assertEquals(fromOurs, fromInputs);
    const json = JSON.parse((await report(["--format", "json", base])).out);
    assertEquals(fromOurs, packagePercents(json.binaries[0]));
    // And textfmt of the merged files equals textfmt of the inputs (count mode adds up).
    await goTextfmt(out, join(out, "a.txt"));
    await goTextfmt(leaves(runs), join(out, "b.txt"));
    assertEquals(
      await Deno.readTextFile(join(out, "a.txt")),
      await Deno.readTextFile(join(out, "b.txt")),
    );
  },
});

Deno.test({
  name: "report filters by namespace and time, and agrees with go on the subset",
  ignore: noGo,
  async fn() {
    const { base, runs } = await fixture();
    const cases: [string[], StoredRun[]][] = [
      [["--namespace", "ns-a"], [runs[0], runs[1]]],
      [["--since", "2026-11-22T10:30:00Z"], [runs[1], runs[2]]],
      [["--until", "20261122T100005Z", "--node", "node-1"], [runs[0]]],
      [["--binary", "covserver", "--namespace", "ns-b"], [runs[2]]],
    ];
    for (const [flags, want] of cases) {
      const res = await report(["--format", "json", ...flags, base]);
      assertEquals(res.code, 0, res.err);
      const b = JSON.parse(res.out).binaries[0];
      const pct = await goPercentOf(leaves(want));
      assertEquals(b.prefixes, want.length, flags.join(" "));
      assertEquals(packagePercents(b), pct, flags.join(" "));
    }
    const none = await report(["--namespace", "nope", base]);
    assertEquals(none.code, 0);
    ok(none.out.startsWith("no coverage data found"), none.out);
  },
});

Deno.test({
  name: "an unreadable prefix is named on stderr and the others are still reported",
  ignore: noGo,
  async fn() {
    const { runs } = await fixture();
    const base = await Deno.makeTempDir({ prefix: "report-bad-" });
    // A copy of one good prefix, one whose counters are cut short, one with huge counters.
    for (const [name, how] of [["good", ""], ["torn", "cut"], ["huge", "pad"]] as const) {
      const leaf = join(base, ...C("ns-c", name, "20261124T000000Z"));
      await Deno.mkdir(leaf, { recursive: true });
      for await (const e of Deno.readDir(runs[0].leaf)) {
        let bytes = await Deno.readFile(join(runs[0].leaf, e.name));
        if (e.name.startsWith("covcounters") && how === "cut") {
          bytes = bytes.subarray(0, bytes.length - 9);
        }
        if (e.name.startsWith("covcounters") && how === "pad") bytes = new Uint8Array(200 << 10);
        await Deno.writeFile(join(leaf, e.name), bytes);
      }
    }
    const res = await report(["--max-body", "128KiB", base]);
    assertEquals(res.code, 1);
    ok(/^covserver\s+\w{12}\s+1\s+5\s+\d+\s+\d+\s+[\d.]+%$/m.test(res.out), res.out);
    ok(res.out.includes("3 of 3 prefixes"), res.out);
    ok(/unreadable prefix node-1\/ns-c\/huge\/.*over the 131072-byte limit/.test(res.err), res.err);
    ok(/unreadable prefix node-1\/ns-c\/torn\/.*counter data/.test(res.err), res.err);
  },
});

Deno.test({
  name: "report --diff tells per package what one run covers that the other does not",
  ignore: noGo,
  async fn() {
    const { base } = await fixture();
    const res = await report(["--diff", base, "--namespace", "ns-a", "--format", "json", base]);
    assertEquals(res.code, 0, res.err);
    const d = JSON.parse(res.out).binaries[0];
    assertEquals(d.in, "both");
    // Same source on both sides: no difference at all.
    ok(
      d.packages.every((p: { onlyHere: number; onlyThere: number }) =>
        p.onlyHere === 0 && p.onlyThere === 0
      ),
    );
    const a = await Deno.makeTempDir({ prefix: "report-diff-a-" });
    const b = await Deno.makeTempDir({ prefix: "report-diff-b-" });
    await storeFixtureRun(a, {
      routes: ["/run/alpha"],
      segments: C("ns", "p", "20261122T100005Z"),
    });
    await storeFixtureRun(b, {
      routes: ["/run/gamma"],
      segments: C("ns", "p", "20261122T100005Z"),
    });
    const text = await report(["--diff", b, a]);
    assertEquals(text.code, 0, text.err);
    ok(
      /covserver\s+\w{12}\s+example\.test\/covserver\/alpha\s+[1-9]\d*\s+0$/m.test(text.out),
      text.out,
    );
    ok(
      /covserver\s+\w{12}\s+example\.test\/covserver\/gamma\s+0\s+[1-9]\d*$/m.test(text.out),
      text.out,
    );
  },
});

Deno.test("report without a source, or with a bad flag value, exits 2 with one line", async () => {
  for (
    const [args, want] of [
      [[], /missing <source>/],
      [["--format", "pdf", "."], /--format "pdf" is not one of/],
      [["--since", "yesterday", "."], /--since "yesterday" is not a time/],
      [["/nonexistent-dir-xyz"], /source \/nonexistent-dir-xyz/],
      [["--format", "covdata", "."], /needs --out DIR/],
      [["s3:/x"], /is not s3:\/\/bucket\/prefix/],
    ] as [string[], RegExp][]
  ) {
    const res = await report(args);
    assertEquals(res.code, 2, args.join(" "));
    ok(want.test(res.err), res.err);
  }
});
