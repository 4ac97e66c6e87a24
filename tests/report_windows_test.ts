/**
 * `report --windows` over a real run: the Go `-cover` fixture driven through three timed phases
 * (a different package's handler in each), stored with its timeline, reported per window. Each
 * phase's code must be attributed to that phase, judged against the packages the phases hit;
 * a window overlapping two phases shares their code with them.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join, relative } from "node:path";
import { hasGo } from "./harness/gobuild.ts";
import { type PhasedRun, storePhasedRun } from "./harness/phased_run.ts";
import { runReport } from "./harness/run_report.ts";
import { canRunS3, s3SinkOf, startS3, writeRegistryAuth } from "./harness/s3.ts";
import { covdataPercentOf } from "./harness/stored.ts";
import type { BinaryReport } from "../src/report/model.ts";
import type { FunctionPlace } from "../src/report/timeline_report.ts";

const noGo = !(await hasGo());
const PKG = "example.test/covserver";
const SEG = ["node-1", "ns", "pod-1", "app", "20261202T100000Z", "img", "covserver"];

const iso = (ms: number) => new Date(ms).toISOString();

/** Windows: one per phase, and `suite` over the last two. */
function windowsText(run: PhasedRun): string {
  const [a, b, c] = run.phases;
  return [
    "# three phases of a run, and a suite spanning two",
    `phase-alpha ${iso(a.began)} ${iso(a.pulledAt)}`,
    `phase-beta ${iso(b.began)} ${iso(b.pulledAt)}`,
    `phase-gamma ${iso(c.began)} ${iso(c.pulledAt)}`,
    `suite ${iso(b.began)} ${iso(c.pulledAt)}  # overlaps beta and gamma`,
  ].join("\n") + "\n";
}

/** `pkg.function` names of the report's covered functions in package `pkg`. */
function coveredFunctions(b: BinaryReport, pkg: string): string[] {
  const p = b.packages.find((x) => x.path === pkg);
  return (p?.functions ?? []).filter((f) => f.covered > 0).map((f) => f.name).sort();
}

function namesIn(fns: FunctionPlace[], pkg: string): string[] {
  return fns.filter((f) => f.package === pkg).map((f) => f.name).sort();
}

Deno.test({
  name: "report --windows attributes each phase's code to its phase and shares overlaps",
  ignore: noGo,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "report-windows-" });
    try {
      const run = await storePhasedRun(base, [["/run/alpha"], ["/run/beta?n=3"], [
        "/run/gamma",
      ]], SEG);
      const wfile = join(base, "windows.txt");
      await Deno.writeTextFile(wfile, windowsText(run));
      // covdata reads the prefix with the timeline beside it, unchanged.
      assertEquals((await covdataPercentOf(run.leaf)).code, 0);

      const r = await runReport([base, "--windows", wfile, "--format", "json"]);
      assertEquals(r.code, 0, r.err);
      const b: BinaryReport = JSON.parse(r.out).binaries[0];
      const t = b.timeline!;
      assertEquals([t.covered, t.untimed], [b.covered, 0]);
      assertEquals(t.curve[t.curve.length - 1].covered, b.covered);
      // What init and main covered was seen at the first pull, before every window.
      ok(t.firstPull > 0);
      assertEquals(t.outside, t.firstPull);

      const [alpha, beta, gamma, suite] = t.windows;
      assertEquals(alpha.name, "phase-alpha");
      ok(alpha.statements > 0 && beta.statements > 0 && gamma.statements > 0);
      assertEquals([alpha.only, alpha.shared], [alpha.statements, 0]);
      assertEquals([beta.only, gamma.only, suite.only], [0, 0, 0]);
      assertEquals(suite.shared, beta.statements + gamma.statements);
      assertEquals(alpha.statements + beta.statements + gamma.statements + t.outside, b.covered);

      // Judged against the handlers hit: every covered function of package alpha is alpha's
      // phase's, and none of beta's or gamma's is; beta's and gamma's are shared with the suite.
      const hit = (p: string) => coveredFunctions(b, `${PKG}/${p}`);
      ok(hit("alpha").length > 0 && hit("beta").length > 0 && hit("gamma").length > 0);
      assertEquals(namesIn(alpha.functions, `${PKG}/alpha`), hit("alpha"));
      assertEquals(namesIn(alpha.functions, `${PKG}/beta`), []);
      assertEquals(namesIn(alpha.functions, `${PKG}/gamma`), []);
      assertEquals(
        t.shared.map((s) => [s.windows, namesIn(s.functions, `${PKG}/${s.windows[0].slice(6)}`)]),
        [[["phase-beta", "suite"], hit("beta")], [["phase-gamma", "suite"], hit("gamma")]],
      );
      assertEquals(namesIn(suite.functions, `${PKG}/alpha`), []);
      // Each phase began after the previous pull: its step straddles the window's start.
      const [pa] = run.phases;
      assertEquals(alpha.precision.start, {
        statements: alpha.statements,
        widestMs: pa.pulledAt - run.firstPull,
        firstPull: 0,
      });
      assertEquals(alpha.precision.end.statements, 0);

      // Without --windows the page still draws the curve of a binary with a stored timeline.
      const page = await runReport([base, "--format", "html"]);
      ok(/<polyline class="curve"/.test(page.out) && !page.out.includes('class="windows"'));
      const text = await runReport([base, "--windows", wfile]);
      assertEquals(text.code, 0, text.err);
      ok(
        text.out.includes(`shared by phase-beta + suite: ${beta.statements} statements`),
        text.out,
      );
      ok(/phase-alpha .* exact/.test(text.out), text.out);

      // --covered-since the end of the first phase keeps what beta and gamma covered.
      const since = await runReport([
        base,
        "--format",
        "json",
        "--covered-since",
        iso(pa.pulledAt),
      ]);
      assertEquals(since.code, 0, since.err);
      const s: BinaryReport = JSON.parse(since.out).binaries[0];
      assertEquals(s.covered, beta.statements + gamma.statements);
      assertEquals(s.packages.find((p) => p.path === `${PKG}/alpha`)?.covered, 0);
      const until = await runReport([
        base,
        "--format",
        "json",
        "--covered-until",
        iso(pa.pulledAt),
      ]);
      assertEquals(JSON.parse(until.out).binaries[0].covered, t.firstPull + alpha.statements);
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
});

Deno.test({
  name: "a corrupt or oversized timeline is its prefix's error, named; the other prefixes are read",
  ignore: noGo,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "report-windows-bad-" });
    try {
      const run = await storePhasedRun(base, [["/run/alpha"]], SEG);
      const name = `covtimeline.${run.hash}.${run.pid}`;
      const copy = async (pod: string) => {
        const leaf = join(base, ...SEG.slice(0, 2), pod, ...SEG.slice(3));
        await Deno.mkdir(leaf, { recursive: true });
        for await (const e of Deno.readDir(run.leaf)) {
          await Deno.copyFile(join(run.leaf, e.name), join(leaf, e.name));
        }
        return leaf;
      };
      const flipped = await copy("pod-2");
      const bytes = await Deno.readFile(join(flipped, name));
      bytes[6] ^= 0xff;
      await Deno.writeFile(join(flipped, name), bytes);
      const big = await copy("pod-3");
      // The limit is the largest real file's size; pod-3's timeline is one byte over it.
      let limit = 0;
      for await (const e of Deno.readDir(run.leaf)) {
        limit = Math.max(limit, (await Deno.stat(join(run.leaf, e.name))).size);
      }
      await Deno.writeFile(join(big, name), new Uint8Array(limit + 1));

      const none = join(base, "no-windows.txt");
      await Deno.writeTextFile(none, "# no windows: the timeline figures alone\n");
      const r = await runReport([
        base,
        "--format",
        "json",
        "--max-body",
        String(limit),
        "--windows",
        none,
      ]);
      assertEquals(r.code, 1);
      const errs = JSON.parse(r.out).errors as { prefix: string; error: string }[];
      assertEquals(errs.map((e) => e.prefix.split("/")[2]), ["pod-2", "pod-3"]);
      ok(
        errs[0].error.includes(name) && /CRC-32|coverage timeline/.test(errs[0].error),
        errs[0].error,
      );
      ok(
        errs[1].error.includes(name) && errs[1].error.includes(`over the ${limit}-byte limit`),
        errs[1].error,
      );
      const b: BinaryReport = JSON.parse(r.out).binaries[0];
      assertEquals([b.prefixes, b.timeline?.untimed], [1, 0]);
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
});

Deno.test({
  name: "report --windows reads the timelines from s3://bucket/prefix as from the directory",
  ignore: noGo || !(await canRunS3()),
  sanitizeResources: false, // fetch keeps pooled connections
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "report-windows-s3-" });
    const s3 = await startS3();
    try {
      const base = join(tmp, "data");
      const run = await storePhasedRun(base, [["/run/alpha"], ["/run/beta"], ["/run/gamma"]], SEG);
      const sink = s3SinkOf(s3, { basePath: "ci/run-1" });
      for await (const e of Deno.readDir(run.leaf)) {
        const file = join(run.leaf, e.name);
        await sink.put(relative(base, file), await Deno.readFile(file));
      }
      const wfile = join(tmp, "windows.txt");
      await Deno.writeTextFile(wfile, windowsText(run));
      const auth = join(tmp, "auth.json");
      await writeRegistryAuth(auth, { ...s3, bucket: "not-this-one" });
      const remote = await runReport([
        "--format",
        "json",
        "--windows",
        wfile,
        "--credentials-file",
        auth,
        "--s3-endpoint",
        s3.endpoint,
        "--s3-path-style",
        `s3://${s3.bucket}/ci/run-1`,
      ]);
      assertEquals(remote.code, 0, remote.err);
      const local = await runReport([base, "--format", "json", "--windows", wfile]);
      const binaries = (out: string) => JSON.parse(out).binaries as BinaryReport[];
      const got = binaries(remote.out);
      assertEquals(got, binaries(local.out));
      ok(got[0].timeline!.windows[0].statements > 0 && got[0].timeline!.untimed === 0);
    } finally {
      await s3.close();
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
