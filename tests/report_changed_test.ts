/**
 * Incremental coverage (`report --diff-base` / `--diff-file`) judged by diff-cover: a real stored
 * run of the `-cover` fixture, a git repository of its source with a change on top (lines added,
 * a new file, a rename with an edit, a deletion, a non-Go file), and diff-cover reading our
 * Cobertura and our LCOV of the same run must give the same lines not run and the same rates.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { ensureAptPackages } from "./harness/apt.ts";
import { hasGo, repoRoot } from "./harness/gobuild.ts";
import { runReport } from "./harness/run_report.ts";
import { storeFixtureRun } from "./harness/stored.ts";
import { GIT_TEST_ENV } from "./harness/git.ts";

const FIXTURE = join(repoRoot, "tests/fixtures/covserver");
const why = !(await hasGo()) ? "go is not installed" : await ensureAptPackages(
  [{ pkg: "diff-cover", program: "/usr/bin/diff-cover" }],
  "the incremental coverage test",
);
if (why) console.log(`report_changed_test: skipped: ${why}`);

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    env: GIT_TEST_ENV,
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: exit ${out.code}: ${dec.decode(out.stderr)}`);
  }
  return dec.decode(out.stdout);
}

async function copyTree(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true });
  for (const e of Deno.readDirSync(from)) {
    if (e.isDirectory) await copyTree(join(from, e.name), join(to, e.name));
    else if (e.isFile) await Deno.copyFile(join(from, e.name), join(to, e.name));
  }
}

/** Edits `file` (lines are 1-based) by `edit` of its lines. */
async function editLines(file: string, edit: (lines: string[]) => string[]): Promise<void> {
  const lines = (await Deno.readTextFile(file)).split("\n");
  await Deno.writeTextFile(file, edit(lines).join("\n"));
}

/**
 * A repository whose HEAD is the fixture's source and whose first commit (returned) is an older
 * state of it: the diff between them adds lines the stored run did and did not run.
 */
async function repository(dir: string): Promise<string> {
  await copyTree(FIXTURE, dir);
  await Deno.writeTextFile(join(dir, "NOTES.md"), "one\n");
  await Deno.writeTextFile(join(dir, "old.go"), "package main\n\nfunc old() {}\n");
  // The older state: alpha without its negative branch and another even line, app without
  // the gamma route, no beta at all, gamma under another name with one line different.
  await editLines(join(dir, "alpha/alpha.go"), (l) => {
    l[12] = '\t\treturn "alpha: even"';
    return [...l.slice(0, 8), ...l.slice(11)];
  });
  await editLines(join(dir, "app.go"), (l) => [...l.slice(0, 28), ...l.slice(35)]);
  await Deno.remove(join(dir, "beta/beta.go"));
  await editLines(join(dir, "gamma/gamma.go"), (l) => {
    l[9] = '\t\treturn "gamma: nothing"';
    return l;
  });
  await Deno.rename(join(dir, "gamma/gamma.go"), join(dir, "gamma/g.go"));
  await run("git", ["init", "-q"], dir);
  await run("git", ["add", "-A"], dir);
  await run("git", ["commit", "-q", "-m", "older"], dir);
  const base = (await run("git", ["rev-parse", "HEAD"], dir)).trim();
  // HEAD: the source the fixture was built from, and a change to a file with no code.
  await Deno.remove(join(dir, "gamma/g.go"));
  await Deno.remove(join(dir, "old.go"));
  await copyTree(FIXTURE, dir);
  await Deno.writeTextFile(join(dir, "NOTES.md"), "one\ntwo\n");
  await run("git", ["add", "-A"], dir);
  await run("git", ["commit", "-q", "-m", "the change"], dir);
  return base;
}

interface DiffCoverJson {
  src_stats: Record<string, { percent_covered: number; violation_lines: number[] }>;
  total_num_lines: number;
  total_num_violations: number;
  total_percent_covered: number;
}

interface Ours {
  changedFiles: number;
  binaries: {
    measured: number;
    notRun: number;
    percent: number | null;
    files: { path: string; run: number[]; notRun: number[]; percent: number }[];
  }[];
}

/** Our figures in diff-cover's JSON shape (its total is the floor of the rate). */
function asDiffCover(o: Ours): DiffCoverJson {
  const b = o.binaries[0];
  return {
    src_stats: Object.fromEntries(
      b.files.map((f) => [f.path, { percent_covered: f.percent, violation_lines: f.notRun }]),
    ),
    total_num_lines: b.measured,
    total_num_violations: b.notRun,
    total_percent_covered: b.percent === null ? 100 : Math.floor(b.percent),
  };
}

Deno.test({
  name:
    "report --diff-base and --diff-file give diff-cover's lines and rates, from our Cobertura and LCOV",
  ignore: why !== null,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "report-changed-" });
    try {
      const store = join(base, "store");
      await storeFixtureRun(store, {
        routes: ["/run/alpha", "/run/beta?n=3"],
        segments: ["node-1", "ns", "pod", "app", "20261122T100005Z", "img", "covserver"],
      });
      const repo = join(base, "repo");
      const ref = await repository(repo);

      const ours = await runReport([store, "--diff-base", ref, "--repo", repo, "--format", "json"]);
      assertEquals(ours.code, 0, ours.err);
      const parsed: Ours = JSON.parse(ours.out);
      assertEquals(parsed.binaries.length, 1);
      const got = asDiffCover(parsed);

      for (const format of ["cobertura", "lcov"]) {
        const file = join(base, format === "lcov" ? "lcov.info" : "coverage.xml");
        const r = await runReport([store, "--format", format, "--out", file]);
        assertEquals(r.code, 0, r.err);
        const json = join(base, `diff-cover-${format}.json`);
        await run("diff-cover", [file, `--compare-branch=${ref}`, `--json-report=${json}`], repo);
        const dc: DiffCoverJson = JSON.parse(await Deno.readTextFile(json));
        const want: DiffCoverJson = {
          src_stats: Object.fromEntries(
            Object.entries(dc.src_stats).map((
              [k, v],
            ) => [k, { percent_covered: v.percent_covered, violation_lines: v.violation_lines }]),
          ),
          total_num_lines: dc.total_num_lines,
          total_num_violations: dc.total_num_violations,
          total_percent_covered: dc.total_percent_covered,
        };
        assertEquals(got, want, format);
      }
      // The change is one a test can learn from: several files, lines run and not run in one.
      const files = parsed.binaries[0].files;
      assertEquals(files.map((f) => f.path), [
        "alpha/alpha.go",
        "app.go",
        "beta/beta.go",
        "gamma/gamma.go",
      ]);
      ok(files.some((f) => f.run.length > 0 && f.notRun.length > 0), JSON.stringify(files));

      // The same diff read from a file gives the same figures.
      const diffFile = join(base, "change.diff");
      await Deno.writeTextFile(diffFile, await run("git", ["diff", ref], repo));
      const fromFile = await runReport([store, "--diff-file", diffFile, "--format", "json"]);
      assertEquals(fromFile.code, 0, fromFile.err);
      assertEquals(asDiffCover(JSON.parse(fromFile.out)), got);

      // The path flags apply as for Cobertura.
      const excluded = await runReport([
        store,
        ...["--diff-base", ref, "--repo", repo, "--format", "json", "--exclude-file", "app.go"],
      ]);
      assertEquals(excluded.code, 0, excluded.err);
      assertEquals(
        JSON.parse(excluded.out).binaries[0].files.map((f: { path: string }) => f.path),
        ["alpha/alpha.go", "beta/beta.go", "gamma/gamma.go"],
      );

      const text = await runReport([store, "--diff-base", ref, "--repo", repo]);
      assertEquals(text.code, 0, text.err);
      ok(/alpha\/alpha\.go: not run 10/.test(text.out), text.out);
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
});

Deno.test("a bad ref, a missing repository or a malformed diff file is a usage error naming it", async () => {
  const base = await Deno.makeTempDir({ prefix: "report-changed-bad-" });
  try {
    const store = join(base, "store");
    await Deno.mkdir(store);
    const cases: [string[], RegExp][] = [
      [["--diff-base=--output=/tmp/x", "--repo", base], /starts with '-'/],
      [["--diff-base", "HEAD", "--repo", join(base, "nope")], /--diff-base: git diff "HEAD" in/],
      [["--diff-file", join(base, "nope.diff")], /--diff-file .*nope\.diff/],
    ];
    await Deno.writeTextFile(join(base, "bad.diff"), "--- a/x\n+++ b/x\n@@ -1 +1,3 @@\n+a\n");
    cases.push([
      ["--diff-file", join(base, "bad.diff")],
      /bad\.diff: line 4: the diff ends inside/,
    ]);
    for (const [args, want] of cases) {
      const r = await runReport([store, ...args]);
      assertEquals(r.code, 2, `${args.join(" ")}: ${r.err}`);
      ok(want.test(r.err), `${args.join(" ")}: ${r.err}`);
    }
  } finally {
    await Deno.remove(base, { recursive: true });
  }
});
