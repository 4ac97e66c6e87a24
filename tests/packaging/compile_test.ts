/** scripts/compile.ts: its pure helpers, the one-line failure without a runtime base, real builds. */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  archOf,
  baseDownloadFailure,
  CompileUsageError,
  denortHelp,
  elfArch,
  embeddedPermissions,
  parseCompileArgs,
  permissionMismatch,
  permissionPlan,
  stampVersion,
  v8FlagsOf,
} from "../../scripts/compile_lib.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;
const denoJson = JSON.parse(await Deno.readTextFile(join(repoRoot, "deno.json")));

// deno compile's own words when it cannot fetch denort (2.9.6, no DNS).
const NO_DNS = `Compile main.ts to out
Download https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip
error: Writing deno compile executable to temporary file 'out.tmp-a80060f7760318ab'

Caused by:
    0: Setting up base binary.
    1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): client error (Connect): dns error: failed to lookup address information: Name or service not known
    2: client error (Connect)
    3: dns error
    4: failed to lookup address information: Name or service not known

Stack backtrace:
   0: <unknown>
`;

Deno.test("compile arguments: both targets by default, short and full names, bad ones named", () => {
  assert.deepEqual(parseCompileArgs([]).archs, ["x86_64", "aarch64"]);
  assert.deepEqual(parseCompileArgs(["--target", "aarch64-unknown-linux-gnu"]).archs, ["aarch64"]);
  assert.deepEqual(parseCompileArgs(["--target=amd64", "--out-dir", "/o"]), {
    archs: ["x86_64"],
    outDir: "/o",
    help: false,
  });
  assert.equal(archOf("arm64"), "aarch64");
  assert.throws(() => parseCompileArgs(["--target", "riscv64"]), /unknown target "riscv64"/);
  assert.throws(() => parseCompileArgs(["--target"]), CompileUsageError);
  assert.throws(() => parseCompileArgs(["--fast"]), /unknown argument "--fast"/);
});

Deno.test("the commit is stamped into the real src/version.ts and nothing else changes", async () => {
  const source = await Deno.readTextFile(join(repoRoot, "src", "version.ts"));
  const stamped = stampVersion(source, "0123abcd4567-dirty");
  assert.match(stamped, /export const BUILD_COMMIT: string = "0123abcd4567-dirty";/);
  assert.equal(stamped.replace("0123abcd4567-dirty", "dev"), source);
  assert.throws(() => stampVersion(source, 'x"; evil()'), /not a plain revision name/);
  assert.throws(() => stampVersion("const x = 1;", "abc"), /no line .*BUILD_COMMIT/);
});

Deno.test("a failed runtime-base download becomes one line naming the target and DENORT_BIN", () => {
  const reason = baseDownloadFailure(NO_DNS);
  assert.equal(
    reason,
    "https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip: " +
      "failed to lookup address information: Name or service not known",
  );
  const line = denortHelp("x86_64", "2.9.6", reason!);
  assert.doesNotMatch(line, /\n/);
  assert.match(line, /^compile: cannot download the Deno runtime base \(denort\) for x86_64-/);
  assert.match(line, /set DENORT_BIN=\/path\/to\/denort-2\.9\.6-x86_64 /);
  assert.equal(baseDownloadFailure("error: TS2322 [ERROR]: Type 'string' is not ..."), null);
});

Deno.test("elfArch tells the architecture of a runtime base", async () => {
  const f = await Deno.open(Deno.execPath());
  const head = new Uint8Array(20);
  await f.read(head);
  f.close();
  const expected = Deno.build.arch === "x86_64" ? "x86_64" : "aarch64";
  assert.equal(elfArch(head), expected);
  assert.equal(elfArch(new TextEncoder().encode("#!/bin/sh\necho not elf at all")), null);
});

Deno.test("the V8 flags built in are those of the start task of deno.json", () => {
  const start: string = denoJson.tasks.start;
  const flags = v8FlagsOf(denoJson);
  assert.ok(flags.length > 0 && flags.every((f) => start.includes(f)), String(flags));
  assert.deepEqual(v8FlagsOf({ tasks: { start: "deno run -A main.ts" } }), []);
});

Deno.test("the permissions built in are those of the start task of deno.json", () => {
  const plan = permissionPlan(denoJson);
  const start: string = denoJson.tasks.start;
  for (const f of plan.flags) {
    assert.ok(start.includes(f) || f.startsWith("-P="), `${f} comes from the start task`);
  }
  assert.equal(plan.wanted.read, true);
  const all = permissionPlan({ tasks: { start: "deno run --no-prompt --allow-all main.ts" } });
  assert.deepEqual(all.flags, ["--allow-all"]);
  assert.equal(all.wanted.ffi, true);
  assert.deepEqual(
    permissionMismatch(all.wanted, { allow_read: [], allow_ffi: null, prompt: false }),
    [
      "write: wanted all, binary has undefined",
      "net: wanted all, binary has undefined",
      "env: wanted all, binary has undefined",
      "run: wanted all, binary has undefined",
      "sys: wanted all, binary has undefined",
      "ffi: wanted all, binary has null",
      "import: wanted all, binary has undefined",
    ],
  );
  const named = permissionPlan({ tasks: { start: "deno run --allow-read --allow-net=a:1 m.ts" } });
  assert.deepEqual(named.wanted, { read: true, net: ["a:1"] });
  const viaSet = permissionPlan({
    tasks: { start: "deno run -P=collector main.ts" },
    permissions: { collector: { read: true, net: ["a:1"] } },
  });
  assert.deepEqual(viaSet, { flags: ["-P=collector"], wanted: { read: true, net: ["a:1"] } });
  assert.throws(() => permissionPlan({ tasks: { start: "deno run main.ts" } }), /no -P=<set>/);
});

Deno.test("embedded permissions are found in compile metadata and compared", () => {
  const meta = '..{"argv":[],"permissions":{"allow_env":[],"allow_ffi":null,"allow_read":[],' +
    '"allow_net":["x:1"],"prompt":false},"location":null}..';
  const got = embeddedPermissions(meta)!;
  assert.deepEqual(permissionMismatch({ env: true, read: true, net: ["x:1"] }, got), []);
  assert.deepEqual(permissionMismatch({ ffi: true }, got), ["ffi: wanted all, binary has null"]);
  assert.equal(embeddedPermissions("no metadata here"), null);
});

/** Runs compile.ts with `env` (DENORT_BIN and proxies removed first) into a temp dir. */
async function compile(args: string[], env: Record<string, string>) {
  const clean = Deno.env.toObject();
  for (const k of Object.keys(clean)) {
    if (/^(DENORT_BIN|BUILD_COMMIT|(https?|all|no)_proxy)$/i.test(k)) delete clean[k];
  }
  const outDir = await Deno.makeTempDir({ prefix: "cc-compile-" });
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(repoRoot, "scripts", "compile.ts"), "--out-dir", outDir, ...args],
    env: { ...clean, ...env },
    clearEnv: true,
    cwd: repoRoot,
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr), outDir };
}

/** A loopback port nobody listens on: a proxy there refuses every connection at once. */
function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * A fresh Deno cache dir without `dl/` (where deno keeps downloaded runtime bases), so a base cached
 * on this machine cannot stand in for the download; its `npm/` is the machine's (no refetch).
 */
async function cacheWithoutBases(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "cc-deno-dir-" });
  const home = Deno.env.get("DENO_DIR") ?? join(Deno.env.get("HOME") ?? "/root", ".cache/deno");
  const npm = join(home, "npm");
  if (await Deno.stat(npm).then((s) => s.isDirectory, () => false)) {
    await Deno.symlink(npm, join(dir, "npm"));
  }
  return dir;
}

Deno.test({
  name: "compile without DENORT_BIN and no way to download prints one line and exits 1",
  async fn() {
    const proxy = `http://127.0.0.1:${closedPort()}`;
    // npm packages may still be fetched (a fresh cache); only the runtime base is cut off.
    const npm = [Deno.env.get("NPM_CONFIG_REGISTRY"), "https://registry.npmjs.org"]
      .filter((u): u is string => !!u).map((u) => new URL(u).hostname);
    const denoDir = await cacheWithoutBases();
    const r = await compile(["--target", "x86_64"], {
      DENO_DIR: denoDir,
      HTTPS_PROXY: proxy,
      HTTP_PROXY: proxy,
      NO_PROXY: npm.join(","),
    }).finally(() => Deno.remove(denoDir, { recursive: true }));
    await Deno.remove(r.outDir, { recursive: true });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr.trimEnd().split("\n").length, 1, r.stderr);
    assert.match(
      r.stderr,
      /^compile: cannot download the Deno runtime base \(denort\) for x86_64-unknown-linux-gnu: https:\/\/\S+denort-x86_64-unknown-linux-gnu\.zip: .*Connection refused.*; set DENORT_BIN=\/path\/to\/denort-\S+ .*\n$/,
    );
  },
});

Deno.test({
  name: "compile with a stand-in base embeds the start task's permissions and the commit",
  ignore: Deno.build.os !== "linux",
  async fn() {
    // The deno CLI is an ELF of the right shape for deno compile to append to; it cannot run
    // the result (only a real denort can), but what compile.ts builds in can be read back.
    const r = await compile(["--target", Deno.build.arch, "--commit", "feedc0ffee12"], {
      DENORT_BIN: Deno.execPath(),
    });
    try {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /commit feedc0ffee12/);
      const bin = await Deno.readFile(join(r.outDir, `coverage-collector-${Deno.build.arch}`));
      const tail = new TextDecoder("latin1").decode(bin.subarray(bin.length - (64 << 20)));
      const embedded = embeddedPermissions(tail);
      assert.ok(embedded, "metadata with permissions");
      const wanted = permissionPlan(denoJson).wanted;
      assert.deepEqual(permissionMismatch(wanted, embedded), []);
      // Nothing beyond the start task: a permission it does not grant is not granted.
      for (const [k, v] of Object.entries(embedded)) {
        // allow_import always holds deno's default hosts for static imports.
        if (!k.startsWith("allow_") || v === null || k === "allow_import") continue;
        assert.ok(k.slice(6) in wanted, k);
      }
      assert.ok(tail.includes('BUILD_COMMIT: string = "feedc0ffee12"'), "stamped version.ts");
      assert.ok(!tail.includes("_test.ts"), "no test files in the binary");
      // commands load their code with import(): deno compile must build those modules in too
      for (const f of ["runDaemon", "runOnce", "runReport", "runDoctorCommand"]) {
        assert.ok(tail.includes(`export async function ${f}(`), `${f} (loaded by import())`);
      }
    } finally {
      await Deno.remove(r.outDir, { recursive: true });
    }
  },
});

const realDenort = Deno.env.get("DENORT_BIN");
Deno.test({
  name: "a binary compiled with a real denort answers version and --help",
  // No denort can be had here (not in the npm registry; its download host is unreachable).
  ignore: !realDenort,
  async fn() {
    const r = await compile(["--target", Deno.build.arch, "--commit", "abc123"], {
      DENORT_BIN: realDenort!,
    });
    try {
      assert.equal(r.code, 0, r.stderr);
      const bin = join(r.outDir, `coverage-collector-${Deno.build.arch}`);
      const run = async (...args: string[]) =>
        new TextDecoder().decode((await new Deno.Command(bin, { args }).output()).stdout);
      assert.match(await run("version"), /^coverage-collector \S+ \(commit abc123, deno /);
      assert.match(await run("--help"), /usage: coverage-collector/);
    } finally {
      await Deno.remove(r.outDir, { recursive: true });
    }
  },
});
