/**
 * `report` over a store whose names are hostile (a binary directory, package paths, function and
 * file names with a newline, ESC and OSC 8 sequences, C1 CSI, U+2028, a bidi override): no raw
 * control reaches stdout or stderr in any format, and the textfmt profile has no forged line,
 * neither to a line-by-line reader as Go's nor to `go tool cover -func` itself.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import type { MetaPackage } from "../src/coverage/meta.ts";
import { encodeCounterFile } from "./harness/counterfile.ts";
import { hasGo } from "./harness/gobuild.ts";
import { ALL_HOSTILE, HOSTILE, rawControls } from "./harness/hostile_text.ts";
import { encodeMetaFile } from "./harness/metafile.ts";
import { runReport } from "./harness/run_report.ts";

const unit = { stLine: 3, stCol: 14, enLine: 5, enCol: 2, stmts: 1 };

/** A file name that, written raw, is two profile lines: a forged covered block, then a.go's. */
const FORGING = "example.test/x/forged.go:3.14,5.2 1 1\nexample.test/x/a.go";

const SAFE_PKG: MetaPackage = {
  path: "example.test/x",
  name: "x",
  modulePath: "example.test/x",
  functions: [
    { name: "A", file: "example.test/x/a.go", literal: false, units: [unit] },
    { name: "G", file: FORGING, literal: false, units: [unit] },
  ],
};

const EVIL_PKG: MetaPackage = {
  path: `evil/${HOSTILE.esc}${HOSTILE.c1}`,
  name: "p",
  modulePath: "evil",
  functions: [
    { name: HOSTILE.osc8, file: `evil/c${HOSTILE.lineSep}.go`, literal: false, units: [unit] },
    { name: `B${HOSTILE.bidi}`, file: `evil/${HOSTILE.c1}d.go`, literal: false, units: [unit] },
    { name: "C", file: `evil/${HOSTILE.esc}${HOSTILE.del}.go`, literal: false, units: [unit] },
  ],
};

const BINARY = `app${HOSTILE.esc}${HOSTILE.c1}${HOSTILE.lineSep}${HOSTILE.newline}`;

/**
 * The meta-data file of `packages` and its hash, read from its header (bytes 24..40): whatever
 * the harness puts there (the hash the runtime would compute, when it computes one) names it.
 */
function metaOf(packages: MetaPackage[]): { bytes: Uint8Array; hash: string } {
  // A harness that does not compute hashes writes this one: distinct per package list.
  const given = Array.from(new TextEncoder().encode(packages.map((p) => p.path).join()))
    .reduce((h, b) => (h * 31 + b) >>> 0, 7).toString(16).padStart(8, "0").repeat(4);
  const bytes = encodeMetaFile({ hash: given, mode: "count", granularity: 1, packages });
  const hash = Array.from(bytes.subarray(24, 40), (b) => b.toString(16).padStart(2, "0")).join("");
  return { bytes, hash };
}

/** One server's prefix: meta-data of `packages`, counters `covered` (per package, per function);
 * the meta hash. */
async function storePrefix(
  base: string,
  opts: { binary: string; pod: string; packages: MetaPackage[]; covered: number[][] },
): Promise<string> {
  const dir = join(base, "node-1", "ns", opts.pod, "c", "20261122T100005Z", "img", opts.binary);
  await Deno.mkdir(dir, { recursive: true });
  const { bytes, hash } = metaOf(opts.packages);
  await Deno.writeFile(join(dir, `covmeta.${hash}`), bytes);
  await Deno.writeFile(
    join(dir, `covcounters.${hash}.1.1`),
    encodeCounterFile({
      hash,
      functions: opts.covered.flatMap((fns, pkgIdx) =>
        fns.map((n, funcIdx) => ({ pkgIdx, funcIdx, counters: [n] }))
      ),
    }),
  );
  return hash;
}

const report = runReport;

/** Go's rule (x/tools/cover parseLine): the numbers from the end, the file name is the rest. */
function profileFiles(text: string): string[] {
  const lines = text.split("\n").filter((l) => l !== "");
  ok(lines[0].startsWith("mode: "), lines[0]);
  const files = new Set<string>();
  for (const l of lines.slice(1)) {
    const m = /^(.+):\d+\.\d+,\d+\.\d+ \d+ \d+$/.exec(l);
    ok(m, `not a profile line: ${JSON.stringify(l)}`);
    files.add(m[1]);
  }
  return [...files].sort();
}

async function hostileStores(): Promise<{ tmp: string; a: string; b: string; hash: string }> {
  const tmp = await Deno.makeTempDir({ prefix: "hostile-report-" });
  const a = join(tmp, "a"), b = join(tmp, "b");
  const packages = [SAFE_PKG, EVIL_PKG];
  const hash = await storePrefix(a, {
    binary: BINARY,
    pod: "p1",
    packages,
    covered: [[1, 0], [1, 1, 0]],
  });
  // Torn counters under a hostile pod name: an unreadable prefix, named on stderr.
  const torn = join(a, "node-1", "ns", `pod${HOSTILE.osc8}`, "c", "20261122T100005Z", "img", "x");
  await Deno.mkdir(torn, { recursive: true });
  await Deno.writeFile(join(torn, `covcounters.${hash}.1.1`), new Uint8Array(40));
  await Deno.writeFile(join(torn, `covmeta.${hash}`), metaOf(packages).bytes);
  await storePrefix(b, { binary: BINARY, pod: "p1", packages, covered: [[0, 0], [0, 0, 1]] });
  await storePrefix(b, {
    binary: `only${HOSTILE.osc8}`,
    pod: "p2",
    packages: [EVIL_PKG],
    covered: [[1, 1, 1]],
  });
  return { tmp, a, b, hash };
}

Deno.test("report text, json, html and --diff of hostile names: no raw control on stdout or stderr", async () => {
  const { tmp, a, b } = await hostileStores();
  try {
    for (
      const args of [
        ["--format", "text", a],
        ["--format", "json", a],
        ["--format", "html", a],
        ["--format", "text", "--diff", b, a],
        ["--format", "json", "--diff", b, a],
      ]
    ) {
      const r = await report(args);
      const what = args.slice(0, -1).join(" ");
      assertEquals(r.code, 1, `${what}: ${r.err}`); // the torn prefix
      assertEquals(rawControls(r.out), [], `${what}: stdout ${JSON.stringify(r.out)}`);
      assertEquals(
        rawControls(r.errLines.join(""), false),
        [],
        `${what}: ${JSON.stringify(r.err)}`,
      );
      for (const line of r.errLines) ok(!line.includes("\n"), `${what}: ${JSON.stringify(line)}`);
      ok(r.errLines.some((l) => l.includes("unreadable prefix node-1/ns/pod")), r.err);
    }
    // The text table has its header, one row, a blank line and the summary: no forged row.
    const text = await report(["--format", "text", a]);
    assertEquals(text.out.split("\n").length, 4, text.out);
    ok(
      text.out.includes("app\\x1b[31mred\\x1b[0m\\x9b2J\\x85l\\u{2028}p\\u{2029}a\\x0ab"),
      text.out,
    );
    // JSON is escaped, not changed: a reader gets the names as stored.
    const json = JSON.parse((await report(["--format", "json", a])).out);
    assertEquals(json.binaries[0].binary, BINARY);
    assertEquals(json.binaries[0].packages[0].path, EVIL_PKG.path);
    const fns = json.binaries[0].packages[0].functions.map((f: { name: string }) => f.name);
    ok(fns.includes(HOSTILE.osc8), JSON.stringify(fns));
    const diff = await report(["--format", "text", "--diff", b, a]);
    ok(diff.out.includes("only\\x1b]8;;file:evil\\x07click"), diff.out);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test("report --format textfmt leaves out files whose names would break a profile line, naming them, exit 1", async () => {
  const { tmp, a, hash } = await hostileStores();
  try {
    const r = await report(["--format", "textfmt", a]);
    assertEquals(r.code, 1, r.err);
    assertEquals(rawControls(r.out), [], JSON.stringify(r.out));
    assertEquals(rawControls(r.errLines.join(""), false), [], JSON.stringify(r.err));
    assertEquals(profileFiles(r.out), ["example.test/x/a.go"]);
    assertEquals(r.out.split("\n").filter((l) => l.includes("forged")), []);
    const refused = r.errLines.filter((l) => l.startsWith("report: textfmt: "));
    assertEquals(refused.length, 4, r.err);
    ok(refused.every((l) => l.includes(`binary app\\x1b[31m`) && l.includes(hash.slice(0, 12))));
    ok(refused.some((l) => /package example\.test\/x: file .*forged\.go.*U\+000A/.test(l)), r.err);
    ok(refused.some((l) => /package evil\/\\x1b\[31mred.*U\+2028/.test(l)), r.err);
    ok(refused.some((l) => /U\+009B/.test(l)) && refused.some((l) => /U\+001B/.test(l)), r.err);
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});

Deno.test({
  name: "go tool cover -func on report's textfmt does not see a file forged by a newline in a name",
  ignore: !(await hasGo()),
  async fn() {
    const tmp = await Deno.makeTempDir({ prefix: "hostile-cover-" });
    try {
      // The module the profile's files belong to; forged.go exists, so a forged line would count.
      const mod = join(tmp, "mod");
      await Deno.mkdir(mod);
      await Deno.writeTextFile(join(mod, "go.mod"), "module example.test/x\n\ngo 1.22\n");
      await Deno.writeTextFile(join(mod, "a.go"), "package x\n\nfunc A() int {\n\treturn 1\n}\n");
      await Deno.writeTextFile(
        join(mod, "forged.go"),
        "package x\n\nfunc Forged() int {\n\treturn 2\n}\n",
      );
      const store = join(tmp, "store");
      await storePrefix(store, {
        binary: "app",
        pod: "p1",
        packages: [SAFE_PKG],
        covered: [[1, 0]],
      });
      const profile = join(tmp, "profile.txt");
      const r = await report(["--format", "textfmt", "--out", profile, store]);
      const cover = await new Deno.Command("go", {
        args: ["tool", "cover", `-func=${profile}`],
        cwd: mod,
        env: { GOFLAGS: "-mod=mod", GOPROXY: "off", GOTOOLCHAIN: "local", GOWORK: "off" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const out = new TextDecoder().decode(cover.stdout);
      assertEquals(cover.code, 0, new TextDecoder().decode(cover.stderr) + out);
      const rows = out.trim().split("\n").map((l) => l.split(/\s+/).join(" "));
      assertEquals(rows, ["example.test/x/a.go:3: A 100.0%", "total: (statements) 100.0%"]);
      assertEquals(r.code, 1, r.err); // and the left-out file was said
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

Deno.test("rawControls sees every hostile name (the checks above can fail)", () => {
  for (const [k, v] of Object.entries(HOSTILE)) ok(rawControls(v, false).length > 0, k);
  ok(rawControls(ALL_HOSTILE).length > Object.keys(HOSTILE).length);
});
