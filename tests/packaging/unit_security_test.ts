/**
 * The systemd unit grants no more than the collector needs: it never starts the kubelet or
 * CRI-O, its exposure as systemd rates it stays low, it verifies clean, and its capability
 * bounding set is exactly what reading other users' /proc entries takes (each one needed, both
 * enough), tried on a real process of another user.
 */

import assert from "node:assert/strict";
import { join } from "node:path";

const repoRoot = new URL("../../", import.meta.url).pathname;
const unitFile = join(repoRoot, "scripts", "coverage-collector.service");
const probe = join(repoRoot, "tests", "packaging", "proc_probe.ts");
/** The highest `systemd-analyze security` exposure we accept (it was 6.7 MEDIUM). */
const MAX_EXPOSURE = 4.5;

const dec = new TextDecoder();
async function run(cmd: string, args: string[]) {
  const out = await new Deno.Command(cmd, { args, stdin: "null" }).output();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
async function has(cmd: string): Promise<boolean> {
  return (await run("sh", ["-c", `command -v ${cmd}`])).code === 0;
}
const analyze = await has("systemd-analyze");
const NO_ANALYZE = "systemd-analyze missing (Debian: apt-get install systemd; .ci/run does it)";
const isRoot = Deno.uid() === 0;
const canSetpriv = isRoot && await has("setpriv");
const NO_SETPRIV = "needs root and setpriv (util-linux)";
/** A test name that carries, when the test cannot run here, the one-line reason. */
const named = (name: string, skip: string | false) => skip ? `${name} (skipped: ${skip})` : name;

/** `Key=value` lines of a unit file, in order. */
function unitValues(text: string, key: string): string[] {
  return text.split("\n").filter((l) => l.startsWith(`${key}=`)).map((l) =>
    l.slice(key.length + 1)
  );
}

Deno.test("the unit orders after the kubelet and CRI-O but never pulls them up", async () => {
  const unit = await Deno.readTextFile(unitFile);
  const pulls = ["Wants", "Requires", "Requisite", "BindsTo", "Upholds", "PartOf"]
    .flatMap((k) => unitValues(unit, k)).join(" ");
  assert.doesNotMatch(pulls, /kubelet|crio/);
  assert.match(unitValues(unit, "After").join(" "), /kubelet\.service.*crio\.service/);
  assert.deepEqual(unitValues(unit, "UMask"), ["0077"]);
});

Deno.test({
  name: named(
    `systemd-analyze security rates the unit at most ${MAX_EXPOSURE}`,
    !analyze && NO_ANALYZE,
  ),
  ignore: !analyze,
  async fn() {
    const r = await run("systemd-analyze", ["security", "--offline=true", "--no-pager", unitFile]);
    const m = /Overall exposure level for [^:]+: (\d+\.\d+) (\w+)/.exec(r.stdout + r.stderr);
    assert.ok(m, `no exposure figure in:\n${r.stdout}${r.stderr}`);
    const figure = Number(m[1]);
    console.log(`systemd-analyze security: ${m[1]} ${m[2]}`);
    assert.ok(figure <= MAX_EXPOSURE, `exposure ${figure} ${m[2]} > ${MAX_EXPOSURE}`);
  },
});

Deno.test({
  name: named(
    "systemd-analyze verify finds nothing wrong with the installed unit",
    !analyze && NO_ANALYZE,
  ),
  ignore: !analyze,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "cc-unit-" });
    try {
      const binary = join(root, "collector-build");
      await Deno.writeTextFile(binary, "#!/bin/sh\n");
      const inst = await run("bash", [
        join(repoRoot, "scripts", "install.sh"),
        "--root",
        root,
        "--binary",
        binary,
      ]);
      assert.equal(inst.code, 0, inst.stderr);
      // The targets the unit depends on by default (sysinit.target, …), from this machine.
      const sysUnits = ["/usr/lib/systemd/system", "/lib/systemd/system"].find((d) => {
        try {
          return Deno.statSync(join(d, "sysinit.target")).isFile;
        } catch {
          return false;
        }
      });
      assert.ok(sysUnits, "systemd-analyze is installed but no sysinit.target was found");
      await Deno.mkdir(join(root, "usr/lib/systemd"), { recursive: true });
      const cp = await run("cp", ["-a", sysUnits, join(root, "usr/lib/systemd/system")]);
      assert.equal(cp.code, 0, cp.stderr);
      const r = await run("systemd-analyze", [
        "verify",
        `--root=${root}`,
        "/etc/systemd/system/coverage-collector.service",
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.stdout + r.stderr, "", "verify says nothing about a clean unit");
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

/** setpriv's spelling of the unit's `CapabilityBoundingSet=`: CAP_SYS_PTRACE → sys_ptrace. */
function boundingSet(unit: string): string[] {
  const values = unitValues(unit, "CapabilityBoundingSet");
  assert.equal(values.length, 1, "one CapabilityBoundingSet= line");
  return values[0].split(/\s+/).filter(Boolean).map((c) => c.replace(/^CAP_/, "").toLowerCase());
}

/** What the probe could read of `pid` with only `caps` in the bounding set (and no new privs). */
async function probeWith(caps: string[], pid: number): Promise<Record<string, string>> {
  const r = await run("setpriv", [
    `--bounding-set=${["-all", ...caps.map((c) => `+${c}`)].join(",")}`,
    "--no-new-privs",
    "--",
    Deno.execPath(),
    "run",
    "-A",
    "--no-prompt",
    probe,
    String(pid),
  ]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

Deno.test({
  name: named(
    "the unit's capabilities read another user's /proc entries, and each one is needed",
    !canSetpriv && NO_SETPRIV,
  ),
  ignore: !canSetpriv,
  async fn() {
    const caps = boundingSet(await Deno.readTextFile(unitFile));
    assert.deepEqual([...caps].sort(), ["dac_read_search", "sys_ptrace"]);
    // A process of another user, like a container's: discovery reads its environ, fds, netns.
    const other = new Deno.Command("setpriv", {
      args: ["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--"]
        .concat(["env", "COVERAGE_PORT=53799", "sleep", "600"]),
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      // Wait until the process is `sleep` as that user (setpriv and env exec into it).
      const pid = other.pid;
      // (No event tells us; the exec chain takes milliseconds.)
      let ready = false;
      for (let i = 0; i < 500 && !ready; i++) {
        const status = await Deno.readTextFile(`/proc/${pid}/status`);
        ready = /^Name:\s*sleep$/m.test(status) && /^Uid:\s*65534\b/m.test(status);
        if (!ready) await new Promise((r) => setTimeout(r, 10));
      }
      assert.ok(ready, "the other user's process never became `sleep` as uid 65534");
      const all = await probeWith(caps, pid);
      assert.deepEqual(all, { environ: "ok", fd: "ok", netns: "ok" });
      for (const dropped of caps) {
        const fewer = await probeWith(caps.filter((c) => c !== dropped), pid);
        const denied = Object.entries(fewer).filter(([, v]) => v !== "ok");
        assert.ok(denied.length > 0, `without ${dropped} everything was still readable`);
        for (const [, v] of denied) assert.match(v, /Permission denied/);
      }
    } finally {
      other.kill();
      await other.status;
    }
  },
});
