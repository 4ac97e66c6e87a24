/** scripts/install.sh into a temporary root, the systemd unit, and the generated env file. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { envName, type SettingKey, SETTINGS } from "../../src/config.ts";
import { ENV_FILE, renderEnvFile, UNIT_ENVIRONMENT } from "../../scripts/gen_env.ts";

const repoRoot = new URL("../../", import.meta.url).pathname;
const script = join(repoRoot, "scripts", "install.sh");
const unitFile = join(repoRoot, "scripts", "coverage-collector.service");

async function install(args: string[]) {
  const out = await new Deno.Command("bash", { args: [script, ...args] }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Every file under `dir` with its mode, e.g. {"usr/local/bin/coverage-collector": 0o755}. */
async function files(dir: string, prefix = ""): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for await (const e of Deno.readDir(join(dir, prefix))) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) Object.assign(found, await files(dir, rel));
    else found[rel] = (await Deno.stat(join(dir, rel))).mode! & 0o7777;
  }
  return found;
}

async function withRoot(fn: (root: string, binary: string) => Promise<void>) {
  const root = await Deno.makeTempDir({ prefix: "cc-install-" });
  const binary = join(await Deno.makeTempDir({ prefix: "cc-bin-" }), "coverage-collector");
  await Deno.writeTextFile(binary, "#!/bin/sh\necho fake collector\n");
  try {
    await fn(root, binary);
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(join(binary, ".."), { recursive: true });
  }
}

const INSTALLED = {
  "usr/local/bin/coverage-collector": 0o755,
  "etc/systemd/system/coverage-collector.service": 0o644,
  "etc/coverage-collector/coverage-collector.env": 0o600,
};

Deno.test("install.sh puts the binary, unit and env file in place with their modes", async () => {
  await withRoot(async (root, binary) => {
    const r = await install(["--root", root, "--binary", binary]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await files(root), INSTALLED);
    assert.equal((await Deno.stat(join(root, "var/lib/coverage-collector"))).mode! & 0o777, 0o700);
    assert.equal(
      await Deno.readTextFile(join(root, "usr/local/bin/coverage-collector")),
      await Deno.readTextFile(binary),
    );
    assert.equal(
      await Deno.readTextFile(join(root, "etc/systemd/system/coverage-collector.service")),
      await Deno.readTextFile(unitFile),
    );
  });
});

Deno.test("install.sh run twice changes nothing and keeps an edited env file", async () => {
  await withRoot(async (root, binary) => {
    assert.equal((await install(["--root", root, "--binary", binary])).code, 0);
    const env = join(root, "etc/coverage-collector/coverage-collector.env");
    await Deno.writeTextFile(env, "COVERAGE_COLLECTOR_SINK=dir\n");
    const again = await install(["--root", root, "--binary", binary]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /unchanged .*usr\/local\/bin\/coverage-collector/);
    assert.match(again.stdout, /kept .*coverage-collector\.env/);
    assert.equal(await Deno.readTextFile(env), "COVERAGE_COLLECTOR_SINK=dir\n");
    assert.deepEqual(await files(root), INSTALLED);
  });
});

Deno.test("install.sh replaces a changed binary", async () => {
  await withRoot(async (root, binary) => {
    assert.equal((await install(["--root", root, "--binary", binary])).code, 0);
    await Deno.writeTextFile(binary, "#!/bin/sh\necho new\n");
    const r = await install(["--root", root, "--binary", binary]);
    assert.match(r.stdout, /installed .*usr\/local\/bin\/coverage-collector/);
    assert.equal(
      await Deno.readTextFile(join(root, "usr/local/bin/coverage-collector")),
      "#!/bin/sh\necho new\n",
    );
  });
});

Deno.test("install.sh --uninstall removes its files, keeps data unless --purge", async () => {
  await withRoot(async (root, binary) => {
    assert.equal((await install(["--root", root, "--binary", binary])).code, 0);
    await Deno.writeTextFile(join(root, "var/lib/coverage-collector/kept"), "data");
    const r = await install(["--root", root, "--uninstall"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await files(root), { "var/lib/coverage-collector/kept": 0o644 });
    assert.equal(await Deno.stat(join(root, "etc/coverage-collector")).catch(() => null), null);
    const purge = await install(["--root", root, "--uninstall", "--purge"]);
    assert.equal(purge.code, 0, purge.stderr);
    assert.deepEqual(await files(root), {});
    assert.equal(await Deno.stat(join(root, "var/lib/coverage-collector")).catch(() => null), null);
  });
});

Deno.test("install.sh refuses a missing binary and an unknown flag with one clear line", async () => {
  await withRoot(async (root) => {
    const missing = await install(["--root", root, "--binary", join(root, "nope")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^install\.sh: --binary .*nope is not a file\n$/);
    const unknown = await install(["--bogus"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown argument "--bogus"/);
    assert.deepEqual(await files(root), {});
  });
});

/** `Key=value` lines of a unit file, in order. */
function unitValues(text: string, key: string): string[] {
  return text.split("\n").filter((l) => l.startsWith(`${key}=`)).map((l) =>
    l.slice(key.length + 1)
  );
}

Deno.test("the unit starts after kubelet and CRI-O, restarts on failure, reads the env file", async () => {
  const unit = await Deno.readTextFile(unitFile);
  assert.deepEqual(unitValues(unit, "After"), [
    "network-online.target kubelet.service crio.service",
  ]);
  assert.deepEqual(unitValues(unit, "Restart"), ["on-failure"]);
  assert.deepEqual(unitValues(unit, "RestartSec"), ["5s"]);
  assert.equal(unitValues(unit, "StartLimitBurst").length, 1);
  assert.deepEqual(unitValues(unit, "EnvironmentFile"), [
    "-/etc/coverage-collector/coverage-collector.env",
  ]);
  assert.deepEqual(unitValues(unit, "ExecStart"), ["/usr/local/bin/coverage-collector run"]);
  assert.deepEqual(unitValues(unit, "StateDirectory"), ["coverage-collector"]);
  assert.deepEqual(unitValues(unit, "ProtectSystem"), ["strict"]);
  assert.deepEqual(unitValues(unit, "NoNewPrivileges"), ["yes"]);
  // Reading other processes' /proc entries is the job: no hidepid-like settings.
  assert.deepEqual(unitValues(unit, "ProtectProc"), []);
  assert.deepEqual(unitValues(unit, "ProcSubset"), []);
  assert.deepEqual(unitValues(unit, "PrivateNetwork"), []);
  const env = unitValues(unit, "Environment");
  for (const [key, value] of Object.entries(UNIT_ENVIRONMENT)) {
    assert.ok(env.includes(`${envName(key as SettingKey)}=${value}`), `${key} in Environment=`);
    assert.ok(value.startsWith("/var/lib/coverage-collector/"), "data under StateDirectory");
  }
});

Deno.test("the committed env file is what gen_env.ts makes from the settings", async () => {
  const text = await Deno.readTextFile(ENV_FILE);
  assert.equal(text, renderEnvFile(), "run: scripts/deno run -A scripts/gen_env.ts");
  for (const key of Object.keys(SETTINGS) as SettingKey[]) {
    assert.match(text, new RegExp(`^#${envName(key)}=`, "m"), envName(key));
  }
  // Nothing is set: every value line is commented out.
  assert.deepEqual(text.split("\n").filter((l) => l !== "" && !l.startsWith("#")), []);
});
