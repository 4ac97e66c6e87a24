/**
 * `report --format cobertura | lcov | sonar` judged by the real consumers (Debian's diff-cover,
 * lcov's genhtml, libxml2's xmllint), from a real stored run of the `-cover` fixture and a real git
 * repository of its source with a change committed on top. The expected lines come from Go's own
 * `go tool covdata textfmt`, the expected rate from `go tool cover -func`.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import type { MetaPackage } from "../src/coverage/meta.ts";
import { ensureAptPackages } from "./harness/apt.ts";
import { encodeCounterFile } from "./harness/counterfile.ts";
import { hasGo, repoRoot } from "./harness/gobuild.ts";
import { HOSTILE, rawControls } from "./harness/hostile_text.ts";
import { encodeMetaFile } from "./harness/metafile.ts";
import { runReport } from "./harness/run_report.ts";
import { go, storeFixtureRun } from "./harness/stored.ts";

const TOOLS = [
  { pkg: "diff-cover", program: "/usr/bin/diff-cover" },
  { pkg: "lcov", program: "/usr/bin/genhtml" },
  { pkg: "libxml2-utils", program: "/usr/bin/xmllint" },
  { pkg: "git", program: "/usr/bin/git" },
];
const why = !(await hasGo())
  ? "no go toolchain on PATH"
  : await ensureAptPackages(TOOLS, "report_line_formats_test");
if (why) console.log(`report_line_formats_test: skipped: ${why}`);

const COBERTURA_DTD = join(repoRoot, "tests/testdata/cobertura-coverage-04.dtd");
const COBERTURA_SYSTEM_ID = "http://cobertura.sourceforge.net/xml/coverage-04.dtd";

/** SonarQube's generic coverage format, as its documentation lays it out, as a DTD. */
const SONAR_DTD = `<!ELEMENT coverage (file*)>
<!ATTLIST coverage version (1) #REQUIRED>
<!ELEMENT file (lineToCover*)>
<!ATTLIST file path CDATA #REQUIRED>
<!ELEMENT lineToCover EMPTY>
<!ATTLIST lineToCover lineNumber CDATA #REQUIRED>
<!ATTLIST lineToCover covered (true|false) #REQUIRED>
<!ATTLIST lineToCover branchesToCover CDATA #IMPLIED>
<!ATTLIST lineToCover coveredBranches CDATA #IMPLIED>
`;

const dec = new TextDecoder();

async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; out: string; err: string }> {
  const o = await new Deno.Command(cmd, {
    args,
    ...opts,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return { code: o.code, out: dec.decode(o.stdout), err: dec.decode(o.stderr) };
}

async function git(repo: string, ...args: string[]): Promise<string> {
  const r = await run("git", ["-c", "user.email=t@example.test", "-c", "user.name=t", ...args], {
    cwd: repo,
  });
  if (r.code !== 0) throw new Error(`git ${args.join(" ")}: ${r.err}`);
  return r.out.trim();
}

/** The fixture's source in a new git repository: a base commit, then the real alpha.go on top. */
async function fixtureRepo(dir: string): Promise<string> {
  const src = join(repoRoot, "tests/fixtures/covserver");
  const cp = await run("cp", ["-r", `${src}/.`, dir]);
  if (cp.code !== 0) throw new Error(cp.err);
  await git(dir, "init", "-q");
  const alpha = join(dir, "alpha/alpha.go");
  const real = await Deno.readTextFile(alpha);
  // The base lacks the even branch (lines 12-14) and says something else on line 15.
  const lines = real.split("\n");
  await Deno.writeTextFile(
    alpha,
    [...lines.slice(0, 11), '\treturn "alpha: positive"', ...lines.slice(15)].join("\n"),
  );
  await git(dir, "add", "-A");
  await git(dir, "commit", "-qm", "base");
  await Deno.writeTextFile(alpha, real);
  await git(dir, "commit", "-qam", "alpha: the even branch");
  return await git(dir, "rev-parse", "HEAD~1");
}

/** Lines of `file` in Go's profile: each block covers its lines, a line's count is the largest. */
function profileLines(profile: string, file: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const l of profile.split("\n")) {
    const m = /^(.+):(\d+)\.\d+,(\d+)\.\d+ (\d+) (\d+)$/.exec(l);
    if (!m || m[1] !== file) continue;
    for (let n = Number(m[2]); n <= Number(m[3]); n++) {
      out.set(n, Math.max(out.get(n) ?? 0, Number(m[5])));
    }
  }
  return out;
}

/** Lines added or changed in `file` between `base` and HEAD (the `+` side of -U0 hunks). */
async function changedLines(repo: string, base: string, file: string): Promise<number[]> {
  const diff = await git(repo, "diff", "-U0", base, "HEAD", "--", file);
  const out: number[] = [];
  for (const m of diff.matchAll(/^@@ -\S+ \+(\d+)(?:,(\d+))? @@/gm)) {
    const start = Number(m[1]), n = m[2] === undefined ? 1 : Number(m[2]);
    for (let i = 0; i < n; i++) out.push(start + i);
  }
  return out;
}

interface DiffCoverJson {
  src_stats: Record<string, { violation_lines: number[]; percent_covered: number }>;
  total_num_lines: number;
  total_num_violations: number;
}

async function diffCover(repo: string, report: string, base: string): Promise<DiffCoverJson> {
  const json = `${report}.diff-cover.json`;
  const r = await run("diff-cover", [report, `--compare-branch=${base}`, "--json-report", json], {
    cwd: repo,
  });
  ok(r.code === 0, `diff-cover ${report}: ${r.err}${r.out}`);
  return JSON.parse(await Deno.readTextFile(json));
}

/** xmllint validation of `file` against the DTD its DOCTYPE names, resolved by a local catalog. */
async function validCobertura(tmp: string, file: string): Promise<{ code: number; err: string }> {
  const catalog = join(tmp, "catalog.xml");
  await Deno.writeTextFile(
    catalog,
    `<?xml version="1.0"?>
<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">
  <system systemId="${COBERTURA_SYSTEM_ID}" uri="file://${COBERTURA_DTD}"/>
</catalog>
`,
  );
  const r = await run("xmllint", ["--noout", "--nonet", "--valid", file], {
    env: { XML_CATALOG_FILES: catalog },
  });
  return { code: r.code, err: r.err };
}

async function validSonar(tmp: string, file: string): Promise<{ code: number; err: string }> {
  const dtd = join(tmp, "sonar-generic-coverage.dtd");
  await Deno.writeTextFile(dtd, SONAR_DTD);
  const r = await run("xmllint", ["--noout", "--nonet", "--dtdvalid", dtd, file]);
  return { code: r.code, err: r.err };
}

Deno.test({
  name:
    "cobertura, lcov and sonar of a real run are read by diff-cover, genhtml and xmllint as Go sees the run",
  ignore: why !== null,
  async fn(t) {
    const tmp = await Deno.makeTempDir({ prefix: "report-line-formats-" });
    try {
      const store = join(tmp, "store"), repo = join(tmp, "repo");
      await Deno.mkdir(repo);
      const stored = await storeFixtureRun(store, {
        routes: ["/run/alpha?n=3", "/run/beta?n=20"],
        segments: ["node-1", "ns", "pod", "c", "20261122T100005Z", "img", "covserver"],
      });
      const base = await fixtureRepo(repo);
      const files: Record<string, string> = {
        cobertura: join(tmp, "coverage.xml"),
        lcov: join(tmp, "lcov.info"),
        sonar: join(tmp, "sonar.xml"),
      };
      const notes: Record<string, string> = {};
      for (const [format, out] of Object.entries(files)) {
        const r = await runReport(["--format", format, "--out", out, store]);
        assertEquals(r.code, 0, r.err);
        notes[format] = r.errLines.find((l) => l.startsWith(`report: ${format}: `)) ?? "";
      }
      // What Go says: the profile of the stored run, its lines of the changed file.
      const profile = join(tmp, "profile.txt");
      await go(["tool", "covdata", "textfmt", "-i", stored.leaf, "-o", profile]);
      const profileText = await Deno.readTextFile(profile);
      const goLines = profileLines(profileText, "example.test/covserver/alpha/alpha.go");
      const changed = await changedLines(repo, base, "alpha/alpha.go");
      assertEquals(changed, [12, 13, 14, 15]);
      const measured = changed.filter((l) => goLines.has(l));
      const uncovered = measured.filter((l) => goLines.get(l) === 0);
      ok(uncovered.length > 0 && uncovered.length < measured.length, JSON.stringify(uncovered));

      for (const format of ["cobertura", "lcov"]) {
        await t.step(
          `diff-cover on our ${format}: the changed lines Go ran and did not`,
          async () => {
            const dc = await diffCover(repo, files[format], base);
            assertEquals(Object.keys(dc.src_stats), ["alpha/alpha.go"]);
            assertEquals(dc.src_stats["alpha/alpha.go"].violation_lines, uncovered);
            assertEquals(dc.total_num_lines, measured.length);
            assertEquals(dc.total_num_violations, uncovered.length);
          },
        );
      }

      await t.step(
        "genhtml renders our lcov without a warning; its summary is report's",
        async () => {
          const r = await run("genhtml", [files.lcov, "-o", join(tmp, "html")], { cwd: repo });
          assertEquals(r.code, 0, r.err);
          const all = r.out + r.err;
          ok(!/warning|error/i.test(all), all);
          const m = /lines\.+: ([\d.]+)% \((\d+) of (\d+) lines\)/.exec(all);
          ok(m, all);
          const ours = /: \d+ files, (\d+) lines, (\d+) hit \(([\d.]+)%\)/.exec(notes.lcov);
          ok(ours, notes.lcov);
          assertEquals([m[3], m[2], m[1]], [ours[1], ours[2], ours[3]]);
          ok(Number(m[3]) > 100, all);
        },
      );

      await t.step(
        "our cobertura validates against the Cobertura 04 DTD; its rate is Go's",
        async () => {
          const v = await validCobertura(tmp, files.cobertura);
          assertEquals(v, { code: 0, err: "" });
          // The judge can fail: a class without its <methods/> is not Cobertura.
          const bad = join(tmp, "bad.xml");
          await Deno.writeTextFile(
            bad,
            (await Deno.readTextFile(files.cobertura)).replace("<methods/>", ""),
          );
          ok((await validCobertura(tmp, bad)).code !== 0);
          const xml = await Deno.readTextFile(files.cobertura);
          const rate = Number(/<coverage line-rate="([\d.]+)"/.exec(xml)![1]);
          const func = await run("go", ["tool", "cover", `-func=${profile}`], { cwd: repo });
          assertEquals(func.code, 0, func.err);
          const total = /total:\s+\(statements\)\s+([\d.]+)%/.exec(func.out)![1];
          assertEquals((rate * 100).toFixed(1), total);
        },
      );

      await t.step(
        "our sonar follows the generic coverage format; covered as Go's lines",
        async () => {
          assertEquals(await validSonar(tmp, files.sonar), { code: 0, err: "" });
          const xml = await Deno.readTextFile(files.sonar);
          ok(xml.includes('<coverage version="1">'), xml.slice(0, 200));
          const file = /<file path="alpha\/alpha.go">([\s\S]*?)<\/file>/.exec(xml);
          ok(file, xml);
          const toCover = [...file[1].matchAll(/lineNumber="(\d+)" covered="(true|false)"/g)]
            .map((m) => [Number(m[1]), m[2] === "true"]);
          ok(toCover.length > 0);
          for (const [line, covered] of toCover) {
            assertEquals(covered, (goLines.get(line as number) ?? -1) > 0, `line ${line}`);
          }
          for (const p of xml.matchAll(/<file path="([^"]+)">/g)) {
            ok((await Deno.stat(join(repo, p[1]))).isFile, p[1]);
          }
          // The judge can fail: a version other than 1 is refused.
          const bad = join(tmp, "bad-sonar.xml");
          await Deno.writeTextFile(bad, xml.replace('version="1"', 'version="2"'));
          ok((await validSonar(tmp, bad)).code !== 0);
        },
      );

      await t.step(
        "--path-map, --exclude-file (repeatable) shape the paths; a bad one is a usage error",
        async () => {
          const out = join(tmp, "mapped.info");
          const r = await runReport([
            "--format",
            "lcov",
            "--out",
            out,
            "--path-map",
            "example.test/covserver=svc",
            "--exclude-file",
            "**/covsrv/*.go",
            "--exclude-file",
            "freebind.go",
            store,
          ]);
          assertEquals(r.code, 0, r.err);
          const sf = (await Deno.readTextFile(out)).split("\n").filter((l) => l.startsWith("SF:"));
          assertEquals(sf, [
            "SF:svc/alpha/alpha.go",
            "SF:svc/app.go",
            "SF:svc/beta/beta.go",
            "SF:svc/gamma/gamma.go",
            "SF:svc/main.go",
            "SF:svc/wrapper.go",
          ]);
          const bad = await runReport(["--format", "sonar", "--path-map", "nothing", store]);
          assertEquals(bad.code, 2);
          assertEquals(
            bad.err,
            'coverage-collector report: --path-map "nothing" is not FROM=TO' +
              " (see coverage-collector report --help)",
          );
          const elsewhere = await runReport(["--format", "json", "--exclude-file", "*.go", store]);
          assertEquals(elsewhere.code, 2);
          assertEquals(
            elsewhere.err,
            "coverage-collector report: --exclude-file is for --format cobertura, lcov, sonar," +
              " codecov, --diff-base, --diff-file (see coverage-collector report --help)",
          );
        },
      );
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

const unit = { stLine: 3, stCol: 14, enLine: 5, enCol: 2, stmts: 1 };
const MARKUP = `example.test/x/a<b>&amp;"c'd]]>e.go`;

Deno.test({
  name:
    "hostile file names: markup is escaped, controls refused and named; the XML stays valid, the LCOV whole",
  ignore: why !== null,
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "report-line-hostile-" });
    try {
      const pkg: MetaPackage = {
        path: "example.test/x",
        name: "x",
        modulePath: "example.test/x",
        functions: [
          MARKUP,
          `example.test/x/n${HOSTILE.newline}.go`,
          `example.test/x/${HOSTILE.esc}.go`,
          `example.test/x/${HOSTILE.lineSep}.go`,
          `example.test/x/${HOSTILE.c1}.go`,
        ].map((file, i) => ({ name: `F${i}`, file, literal: false, units: [unit] })),
      };
      const given = "ab".repeat(16);
      const bytes = encodeMetaFile({ hash: given, mode: "count", granularity: 1, packages: [pkg] });
      const hash = Array.from(bytes.subarray(24, 40), (b) => b.toString(16).padStart(2, "0"))
        .join("");
      const dir = join(tmp, "store", "node-1", "ns", "p", "c", "20261122T100005Z", "img", "app");
      await Deno.mkdir(dir, { recursive: true });
      await Deno.writeFile(join(dir, `covmeta.${hash}`), bytes);
      await Deno.writeFile(
        join(dir, `covcounters.${hash}.1.1`),
        encodeCounterFile({
          hash,
          functions: pkg.functions.map((_, funcIdx) => ({ pkgIdx: 0, funcIdx, counters: [1] })),
        }),
      );
      for (const format of ["cobertura", "lcov", "sonar"]) {
        const out = join(tmp, `out.${format}`);
        const r = await runReport(["--format", format, "--out", out, join(tmp, "store")]);
        assertEquals(r.code, 1, r.err); // files were left out
        const left = r.errLines.filter((l) => l.includes(" left out: "));
        assertEquals(left.length, 4, r.err);
        ok(left.some((l) => l.includes("U+000A")) && left.some((l) => l.includes("U+2028")), r.err);
        assertEquals(rawControls(r.errLines.join(""), false), [], JSON.stringify(r.err));
        const text = await Deno.readTextFile(out);
        assertEquals(rawControls(text), [], `${format}: ${JSON.stringify(text)}`);
        if (format === "lcov") {
          for (const l of text.split("\n").filter((l) => l !== "")) {
            ok(/^(TN:|SF:.+|DA:\d+,\d+|LF:\d+|LH:\d+|end_of_record)$/.test(l), l);
          }
          assertEquals(text.split("\n").filter((l) => l.startsWith("SF:")), [
            `SF:${MARKUP.slice("example.test/x/".length)}`,
          ]);
          continue;
        }
        const valid = format === "cobertura"
          ? await validCobertura(tmp, out)
          : await validSonar(tmp, out);
        assertEquals(valid, { code: 0, err: "" });
        // The name read back by an XML reader is the name stored.
        const xpath = format === "cobertura" ? "string(//class/@filename)" : "string(//file/@path)";
        const name = await run("xmllint", ["--nonet", "--xpath", xpath, out]);
        assertEquals(name.out.replace(/\n$/, ""), MARKUP.slice("example.test/x/".length));
      }
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
