/**
 * `report --format codecov` from real stored runs of two `-cover` builds: one profile per source
 * repository and commit, judged by `go tool cover -func` in a checkout of the fixture's source
 * against Go's own profile of the same stored files (`go tool covdata textfmt`).
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join, resolve } from "node:path";
import { buildGo, hasGo, repoRoot } from "./harness/gobuild.ts";
import { runReport } from "./harness/run_report.ts";
import { go, storeFixtureRun } from "./harness/stored.ts";
import { profileFileName, UNKNOWN_SOURCE_FILE } from "../src/report/codecov.ts";

const noGo = !(await hasGo());
const FIXTURE = join(repoRoot, "tests/fixtures/covserver");
const MODULE = "example.test/covserver";
const C = (pod: string, time: string) => ["node-1", "ns", pod, "app", time, "img", "covserver"];
/** A hostile source: traversal, a query, backslashes, a long tail. */
const EVIL_URL = `https://github.com/org/../../../../etc/passwd?x=1#\\..\\..${"/a".repeat(300)}`;
const EVIL_COMMIT = "../../HEAD";

/** `go tool cover -func` of `profile`, run in `dir` (a module holding the fixture's source). */
async function coverFunc(dir: string, profile: string): Promise<string> {
  return await go(["tool", "cover", `-func=${profile}`], dir);
}

/** The profile with each file made `./`-relative (how go tool cover takes a path in `.`). */
async function dotted(src: string, to: string, strip = ""): Promise<string> {
  const text = await Deno.readTextFile(src);
  const out = text.split("\n").map((l) =>
    l === "" || l.startsWith("mode:") ? l : `./${l.startsWith(strip) ? l.slice(strip.length) : l}`
  ).join("\n");
  await Deno.writeTextFile(to, out);
  return to;
}

Deno.test({
  name: "codecov: one profile per repository and commit, read by go tool cover -func as Go's own",
  ignore: noGo,
  async fn() {
    const base = await Deno.makeTempDir({ prefix: "report-codecov-" });
    try {
      // Another build (fewer packages covered: another meta hash); Go writes counters at run
      // time only in atomic mode.
      const other = await buildGo({
        dir: FIXTURE,
        name: "covserver",
        cover: true,
        coverpkg: `${MODULE},${MODULE}/beta`,
      });
      const facts = { source_url: EVIL_URL, source_commit: EVIL_COMMIT };
      const a1 = await storeFixtureRun(base, {
        routes: ["/run/alpha", "/run/beta?n=3"],
        segments: C("pod-1", "20261122T100005Z"),
        info: facts,
      });
      const a2 = await storeFixtureRun(base, {
        routes: ["/run/gamma"],
        segments: C("pod-2", "20261122T110000Z"),
        info: facts,
      });
      // The same build stored once more without source facts (an older server): still repo A.
      const a3 = await storeFixtureRun(base, {
        routes: ["/run/alpha?n=-2"],
        segments: C("pod-4", "20261122T130000Z"),
      });
      const b = await storeFixtureRun(base, {
        routes: ["/run/beta?n=-1"],
        segments: C("pod-3", "20261122T120000Z"),
        binary: other,
        info: { source_url: "https://example.test/other\nforged: 1" }, // not one line: left out
      });
      ok(a1.hash !== b.hash, "the two builds have different meta hashes");
      const out = join(base, "out");
      const r = await runReport([join(base, "node-1"), "--format", "codecov", "--out", out]);
      assertEquals(r.code, 0, r.err);

      const manifest = JSON.parse(await Deno.readTextFile(join(out, "manifest.json")));
      const evil = profileFileName(EVIL_URL, EVIL_COMMIT);
      assertEquals(manifest, {
        format: "go-coverprofile",
        uploads: [
          {
            repo: EVIL_URL,
            commit: EVIL_COMMIT,
            file: evil,
            unknownSource: false,
            binaries: [{ binary: "covserver", hash: a1.hash }],
          },
          {
            repo: null,
            commit: null,
            file: UNKNOWN_SOURCE_FILE,
            unknownSource: true,
            binaries: [{
              binary: "covserver",
              hash: b.hash,
              why: "info.json has no source_url and no source_commit",
            }],
          },
        ],
      });
      // Every file written sits in `out` itself, named safely.
      const written = [...Deno.readDirSync(out)].map((e) => e.name).sort();
      assertEquals(written, [evil, "manifest.json", UNKNOWN_SOURCE_FILE].sort());
      ok(/^[a-z0-9._-]{1,150}$/.test(evil) && !evil.startsWith("."), evil);

      // Paths are repository paths (the module stripped), and go tool cover -func in a checkout
      // of the source gives what it gives for Go's own profile of the same stored directories.
      const evilText = await Deno.readTextFile(join(out, evil));
      ok(evilText.startsWith("mode: atomic\n"), evilText.slice(0, 40));
      ok(evilText.includes("\nalpha/alpha.go:") && !evilText.includes(MODULE), evilText);
      const checkout = join(base, "checkout");
      await Deno.mkdir(checkout);
      await go(["mod", "init", MODULE], checkout);
      for (const e of Deno.readDirSync(FIXTURE)) {
        if (e.isDirectory) await Deno.mkdir(join(checkout, e.name));
      }
      for (const rel of ["app.go", "main.go", "freebind.go", "wrapper.go"]) {
        await Deno.copyFile(join(FIXTURE, rel), join(checkout, rel));
      }
      for (const dir of ["alpha", "beta", "gamma", "covsrv"]) {
        for (const e of Deno.readDirSync(join(FIXTURE, dir))) {
          await Deno.copyFile(join(FIXTURE, dir, e.name), join(checkout, dir, e.name));
        }
      }
      for (
        const [ours, leaves] of [[evil, `${a1.leaf},${a2.leaf},${a3.leaf}`], [
          UNKNOWN_SOURCE_FILE,
          b.leaf,
        ]]
      ) {
        const goOwn = join(base, `go-${ours}`);
        await go(["tool", "covdata", "textfmt", "-i", leaves, "-o", goOwn]);
        const want = await coverFunc(
          checkout,
          await dotted(goOwn, resolve(base, `go-dotted-${ours}`), `${MODULE}/`),
        );
        const got = await coverFunc(
          checkout,
          await dotted(join(out, ours), resolve(base, `our-dotted-${ours}`)),
        );
        ok(want.includes("total:"), want);
        assertEquals(got, want, ours);
      }
    } finally {
      await Deno.remove(base, { recursive: true });
    }
  },
});

Deno.test("codecov file names: bounded, in [a-z0-9._-], never a dot file, distinct per source", () => {
  const names = new Set<string>();
  const cases: [string, string][] = [
    ["https://github.com/openshift/origin", "abc"],
    ["https://github.com/openshift/origin.git", "abc"],
    ["../../..", ".."],
    ["", ""],
    ["/", "/"],
    ["x".repeat(5000), "y".repeat(5000)],
    ["https://github.com/Org/Repo", "ABC"],
    ["https://github.com/org/repo", "abc"],
    ["ünï\u202ecode", "\u0000"],
  ];
  for (const [url, commit] of cases) {
    const n = profileFileName(url, commit);
    ok(/^[a-z0-9_][a-z0-9._-]{0,149}$/.test(n), JSON.stringify(n));
    ok(n !== "manifest.json" && n !== UNKNOWN_SOURCE_FILE);
    names.add(n);
  }
  assertEquals(names.size, cases.length);
});
