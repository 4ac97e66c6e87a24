/**
 * Only the real kubelet's kubeconfig: real processes that call themselves `kubelet` (exec -a),
 * started before the real one so their PIDs come first, in their own PID and mount namespaces
 * or in a CRI-O container cgroup, are never believed; a kubelet in `kubelet.service` is
 * preferred over a plain host process.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../src/config.ts";
import { createLogger } from "../src/log.ts";
import { createSystem } from "../src/system.ts";
import {
  findKubeconfig,
  kubeletKubeconfig,
  waitForKubeconfig,
} from "../src/kube/kubeconfig_source.ts";
import { cgroupRoots, childPid, removeCgroup, SimProcess } from "./harness/simproc.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const noSelf = () => Promise.resolve(enc("/bin/collector\0run\0"));
const hasUnshare = (await new Deno.Command("sh", { args: ["-c", "command -v unshare"] }).output())
  .success;
const roots = Deno.uid() === 0 ? cgroupRoots() : [];
const skip = Deno.uid() !== 0
  ? "needs root"
  : !hasUnshare
  ? "needs unshare (util-linux)"
  : roots.length === 0
  ? "needs a writable cgroup hierarchy"
  : "";

/** A `bash -c` line that becomes a process named kubelet with `--kubeconfig=<path>`. */
const asKubelet = (path: string) =>
  `exec -a kubelet bash -c 'echo ready; sleep 600; :' kubelet --kubeconfig=${path}`;

/** A shell line that moves the shell into `dir` under every cgroup root. */
const into = (dirs: string[]) => dirs.map((d) => `echo $$ > ${d}/cgroup.procs`).join(" && ");

Deno.test({
  name: `kubelet impostors in their own namespaces or a container cgroup are not trusted${
    skip ? ` (skipped: ${skip})` : ""
  }`,
  ignore: skip !== "",
  async fn() {
    const run = `cctrust-${crypto.randomUUID().slice(0, 8)}`;
    const tmp = await Deno.makeTempDir({ prefix: "cctrust-" });
    const id = "ab".repeat(32);
    const crio = roots.map((r) => join(r, run, `crio-${id}.scope`));
    const unit = roots.map((r) => join(r, run, "kubelet.service"));
    for (const d of [...crio, ...unit]) await Deno.mkdir(d, { recursive: true });
    // The impostors' kubeconfigs exist (a pod can write host paths it mounts); the real ones'
    // do not, so no other collector on this machine would ever use them.
    const evilNs = join(tmp, "evil-ns.kubeconfig");
    const evilCg = join(tmp, "evil-cgroup.kubeconfig");
    await Deno.writeTextFile(evilNs, "x");
    await Deno.writeTextFile(evilCg, "x");
    const procs: SimProcess[] = [];
    const start = async (label: string, argv: string[]) => {
      const p = new SimProcess({ label, argv });
      procs.push(p);
      await p.waitLine(/^ready$/);
      return p;
    };
    try {
      // Started first: lower PIDs, which the old "first kubelet in /proc" rule followed.
      const nsProc = await start("kubelet in its own pid+mnt namespaces", [
        "unshare",
        "--pid",
        "--mount",
        "--fork",
        "bash",
        "-c",
        asKubelet(evilNs),
      ]);
      const nsPid = await childPid(nsProc.pid, nsProc.exited);
      const cgPid = (await start("kubelet in a crio scope", [
        "bash",
        "-c",
        `${into(crio)} && ${asKubelet(evilCg)}`,
      ])).pid;
      const plain = await start("kubelet, plain host process", [
        "bash",
        "-c",
        asKubelet(join(tmp, "absent-plain")),
      ]);
      const svcPid = (await start("kubelet in kubelet.service", [
        "bash",
        "-c",
        `${into(unit)} && ${asKubelet(join(tmp, "absent-service"))}`,
      ])).pid;
      assert.ok(nsPid < cgPid && cgPid < plain.pid && plain.pid < svcPid);

      const system = createSystem("/");
      const scan = await kubeletKubeconfig(system);
      const of = (pid: number) => scan.verdicts.find((v) => v.pid === pid);
      assert.equal(of(nsPid)?.trusted, false);
      assert.match(of(nsPid)!.reason, /^not in the host's pid\/mnt namespace$/);
      assert.equal(of(nsPid)?.kubeconfig, evilNs);
      assert.equal(of(cgPid)?.trusted, false);
      assert.match(of(cgPid)!.reason, new RegExp(`container cgroup \\(crio-${id}\\.scope\\)`));
      assert.deepEqual(
        [of(plain.pid)?.trusted, of(plain.pid)?.preferred, of(svcPid)?.preferred],
        [true, false, true],
      );
      assert.equal(scan.chosen?.pid, svcPid, "kubelet.service first, though its PID is last");

      // Without the service one, the plain host process is next; never an impostor.
      await procs.pop()!.close();
      assert.equal((await kubeletKubeconfig(system)).chosen?.pid, plain.pid);
      await procs.pop()!.close();
      const left = await kubeletKubeconfig(system);
      assert.notEqual(left.chosen?.pid, nsPid);
      assert.notEqual(left.chosen?.pid, cgPid);

      // The whole lookup, as the daemon does it: the impostors' files are never chosen, and
      // the log names each process with why it was not trusted.
      const lines: string[] = [];
      const found = await findKubeconfig(system, loadConfig({}, {}), { selfCmdline: noSelf });
      assert.ok(found?.path !== evilNs && found?.path !== evilCg, JSON.stringify(found));
      const ac = new AbortController();
      await waitForKubeconfig({
        system,
        config: loadConfig({}, {}),
        log: createLogger({ write: (l) => lines.push(l) }),
      }, {
        signal: ac.signal,
        waitMs: 0,
        selfCmdline: noSelf,
        onHostOnly: () => ac.abort(),
        sleep: () => Promise.resolve(!ac.signal.aborted),
      });
      const about = (pid: number) => lines.find((l) => l.includes(`pid=${pid} `));
      assert.match(about(nsPid) ?? "", /kubelet-named process not trusted.*namespace/);
      assert.match(about(cgPid) ?? "", /kubelet-named process not trusted.*container cgroup/);
    } finally {
      for (const p of procs.reverse()) await p.close();
      for (const d of [...crio, ...unit]) await removeCgroup(d);
      for (const r of roots) await removeCgroup(join(r, run));
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
