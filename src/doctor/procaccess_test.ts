import assert from "node:assert/strict";
import { join } from "node:path";
import { createSystem, type System } from "../system.ts";
import { checkProcAccess, pickSample } from "./procaccess.ts";

interface FakeProc {
  pid: number;
  name: string;
  ppid?: number;
  uid?: number;
  nspid?: number[];
}

/** A /proc in a temp dir: each process with status, environ, one fd link and ns/net. */
async function fakeProc(procs: FakeProc[], self = 999): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "cc-procaccess-" });
  for (const p of procs) {
    const dir = join(root, "proc", String(p.pid));
    await Deno.mkdir(join(dir, "fd"), { recursive: true });
    await Deno.mkdir(join(dir, "ns"));
    const uid = p.uid ?? 0;
    await Deno.writeTextFile(
      join(dir, "status"),
      `Name:\t${p.name}\nPid:\t${p.pid}\nPPid:\t${p.ppid ?? 1}\n` +
        `Uid:\t${uid}\t${uid}\t${uid}\t${uid}\nNSpid:\t${(p.nspid ?? [p.pid]).join("\t")}\n`,
    );
    await Deno.writeTextFile(join(dir, "comm"), `${p.name}\n`);
    await Deno.writeTextFile(join(dir, "environ"), "HOME=/\0");
    await Deno.symlink("socket:[1]", join(dir, "fd/3"));
    await Deno.symlink("net:[4026531840]", join(dir, "ns/net"));
  }
  await Deno.symlink(String(self), join(root, "proc/self"));
  return root;
}

const NODE: FakeProc[] = [
  { pid: 1, name: "systemd", ppid: 0 },
  { pid: 2, name: "kthreadd", ppid: 0 },
  { pid: 3, name: "kworker/0:0", ppid: 2 },
  { pid: 10, name: "sshd" },
  { pid: 11, name: "chronyd", uid: 994 },
  { pid: 12, name: "crio" },
  { pid: 500, name: "kubelet" },
  { pid: 700, name: "conmon" },
  { pid: 701, name: "server", ppid: 700, uid: 1000680000, nspid: [701, 1] },
  { pid: 702, name: "worker", ppid: 701, uid: 1000680000, nspid: [702, 7] },
  { pid: 999, name: "deno" },
];

/** `system` with reads under `/proc/<pid>/` of the given pids denied. */
function denying(system: System, pids: number[], what = /\/(environ|fd|ns)/): System {
  const denied = (p: string) => {
    const m = /^\/proc\/(\d+)(\/.*)$/.exec(p);
    return m !== null && pids.includes(Number(m[1])) && what.test(m[2]);
  };
  const no = (p: string) => Promise.reject(new Deno.errors.PermissionDenied(`EACCES ${p}`));
  return {
    ...system,
    readBytes: (p) => denied(p) ? no(p) : system.readBytes(p),
    readDir: (p) => denied(p) ? no(p) : system.readDir(p),
    readLink: (p) => denied(p) ? no(p) : system.readLink(p),
  };
}

async function withNode(fn: (system: System, root: string) => Promise<void>, procs = NODE) {
  const root = await fakeProc(procs);
  try {
    await fn(createSystem(root), root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("/proc access sample: kubelet, containers, other users first; never self or kthreads", async () => {
  await withNode(async (system) => {
    const s = await pickSample(system, NODE.map((p) => p.pid));
    assert.deepEqual(s, [
      { pid: 500, why: "kubelet" },
      { pid: 701, why: "in another PID namespace" },
      { pid: 702, why: "in another PID namespace" },
      { pid: 11, why: "owned by uid 994" },
      { pid: 10, why: "" },
      { pid: 12, why: "" },
    ]);
  });
});

Deno.test("/proc access: everything readable on a node → OK with what was tried", async () => {
  await withNode(async (system) => {
    const r = await checkProcAccess(system);
    assert.equal(r.status, "OK", r.detail);
    assert.equal(
      r.detail,
      "7 of 7 sampled processes readable (kubelet, in another PID namespace, owned by uid 994), " +
        "11 processes seen (PID 1 systemd)",
    );
  });
});

Deno.test("/proc access: only PID 1 unreadable (a sandbox's init) → WARN saying why", async () => {
  await withNode(async (system, root) => {
    const r = await checkProcAccess(denying(system, [1]));
    assert.equal(r.status, "WARN");
    assert.match(
      r.detail,
      new RegExp(
        `^6 of 7 sampled .*; cannot read ${root}/proc/1/environ: EACCES .*, though other ` +
          `processes are readable: PID 1 \\("systemd"\\) holds privileges this process lacks`,
      ),
    );
    assert.match(r.fix, /^nothing to do unless PID 1 runs coverage servers; .*CAP_SYS_PTRACE/);
  });
});

Deno.test("/proc access: containers' processes unreadable → WARN naming one", async () => {
  await withNode(async (system, root) => {
    const r = await checkProcAccess(denying(system, [701, 702], /\/fd/));
    assert.equal(r.status, "WARN");
    assert.match(
      r.detail,
      new RegExp(
        `cannot read ${root}/proc/701/fd: EACCES .* \\(PID 701 \\(in another PID namespace\\); ` +
          "2 of 6 denied\\)",
      ),
    );
    assert.match(r.fix, /CAP_SYS_PTRACE.*servers in processes it cannot read are missed/);
  });
});

Deno.test("/proc access: nothing readable → FAIL naming PID 1's environ", async () => {
  await withNode(async (system, root) => {
    const r = await checkProcAccess(denying(system, NODE.map((p) => p.pid)));
    assert.equal(r.status, "FAIL");
    assert.equal(
      r.detail,
      `cannot read ${root}/proc/1/environ: EACCES /proc/1/environ (nor any of 6 other processes)`,
    );
    assert.match(r.fix, /^run as root with CAP_SYS_PTRACE \(in a pod: privileged, hostPID: true/);
  });
});

Deno.test("/proc access: a container's PID namespace (no kernel threads) → WARN", async () => {
  const pod = [{ pid: 1, name: "sleep", ppid: 0 }, { pid: 7, name: "app" }];
  await withNode(async (system) => {
    const r = await checkProcAccess(system);
    assert.equal(r.status, "WARN");
    assert.match(
      r.detail,
      /no kernel threads seen: not the host's PID namespace, only 2 processes/,
    );
    assert.match(r.fix, /hostPID: true/);
  }, pod);
});

Deno.test("/proc access: a missing /proc fails naming it", async () => {
  const empty = await Deno.makeTempDir();
  try {
    const r = await checkProcAccess(createSystem(empty));
    assert.equal(r.status, "FAIL");
    assert.match(r.detail, new RegExp(`^cannot list ${empty}/proc: `));
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test({
  name: "/proc access on this host as root: never FAIL; another PID namespace's process is tried" +
    (Deno.uid() === 0 ? "" : " (skipped: needs root)"),
  ignore: Deno.uid() !== 0,
  async fn() {
    // A process in its own PID namespace, like a container's init.
    const child = new Deno.Command("unshare", {
      args: ["--pid", "--fork", "sh", "-c", "echo ready; exec sleep 60"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    try {
      const first = await child.stdout.pipeThrough(new TextDecoderStream()).getReader().read();
      assert.equal(first.value, "ready\n");
      const r = await checkProcAccess(createSystem("/"));
      assert.notEqual(r.status, "FAIL", r.detail);
      assert.match(r.detail, /sampled processes readable \(.*in another PID namespace/);
    } finally {
      child.kill("SIGKILL");
      await child.status;
    }
  },
});
