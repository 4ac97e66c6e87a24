import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../config.ts";
import { createSystem, RunError, type RunResult, type System } from "../system.ts";
import { renderReport, runDoctor } from "./doctor.ts";
import { checkCrictl, checkHealthAddr, checkHostRoot, checkRoot } from "./host.ts";
import { sampleText } from "../../tests/testdata/samples.ts";

const PS_JSON = sampleText("crictl-ps.json");
const PS_COUNT = JSON.parse(PS_JSON).containers.length;

/** A host root in a temp dir with PID 1 readable the way the collector reads it. */
async function fakeHost(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "cc-doctor-" });
  const p1 = join(root, "proc/1");
  await Deno.mkdir(join(p1, "net"), { recursive: true });
  await Deno.mkdir(join(p1, "fd"));
  await Deno.mkdir(join(root, "proc/42"));
  await Deno.mkdir(join(root, "proc/2"));
  await Deno.writeTextFile(join(root, "proc/2/status"), "Name:\tkthreadd\nPPid:\t0\n");
  await Deno.mkdir(join(root, "etc"));
  await Deno.writeTextFile(join(p1, "status"), "Name:\tsystemd\nPPid:\t0\nNSpid:\t1\n");
  await Deno.writeTextFile(join(p1, "comm"), "systemd\n");
  await Deno.writeTextFile(join(p1, "environ"), "HOME=/\0");
  await Deno.writeTextFile(join(p1, "cgroup"), "0::/init.scope\n");
  await Deno.writeTextFile(join(p1, "net/tcp6"), "  sl  local_address ...\n");
  await Deno.symlink("socket:[12345]", join(p1, "fd/3"));
  await Deno.mkdir(join(p1, "ns"));
  await Deno.symlink("net:[4026531840]", join(p1, "ns/net"));
  await Deno.writeTextFile(join(root, "etc/os-release"), 'PRETTY_NAME="Red Hat CoreOS 4.18"\n');
  return root;
}

function withRun(system: System, run: System["run"]): System {
  return { ...system, run };
}

Deno.test("root: uid 0 passes, others fail with how to fix", () => {
  assert.equal(checkRoot(0).status, "OK");
  const r = checkRoot(1000);
  assert.deepEqual([r.status, r.detail], ["FAIL", "running as uid 1000"]);
  assert.match(r.fix, /run as root/);
});

Deno.test("host root: a missing /proc under --host-root fails naming the path", async () => {
  const empty = await Deno.makeTempDir();
  try {
    const r = await checkHostRoot(createSystem(empty));
    assert.equal(r.status, "FAIL");
    assert.match(r.detail, new RegExp(`cannot read ${empty}/proc/1/status`));
    assert.match(r.fix, /mount the host's \/ at/);
  } finally {
    await Deno.remove(empty, { recursive: true });
  }
});

Deno.test("host root passes on a readable host, with the OS", async () => {
  const root = await fakeHost();
  try {
    assert.deepEqual(await checkHostRoot(createSystem(root)), {
      name: "host root",
      status: "OK",
      detail: `${root} (Red Hat CoreOS 4.18)`,
      fix: "",
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

const crictlConfig = { crictl: "/host/usr/bin/crictl", runtimeEndpoint: "", crictlTimeout: 5000 };

Deno.test("crictl: version and ps answer → runtime and container count", async () => {
  const calls: string[][] = [];
  const system = withRun(createSystem("/"), (_cmd, args): Promise<RunResult> => {
    calls.push(args);
    const stdout = args.includes("version")
      ? "Version:  0.1.0\nRuntimeName:  cri-o\nRuntimeVersion:  1.31.3\nRuntimeApiVersion:  v1\n"
      : PS_JSON;
    return Promise.resolve({ code: 0, stdout, stderr: "" });
  });
  const cfg = { ...crictlConfig, runtimeEndpoint: "unix:///host/run/crio/crio.sock" };
  const r = await checkCrictl(system, cfg, AbortSignal.timeout(5000));
  assert.deepEqual([r.status, r.detail], ["OK", `cri-o 1.31.3, ${PS_COUNT} running containers`]);
  assert.deepEqual(calls[0], ["--runtime-endpoint", "unix:///host/run/crio/crio.sock", "version"]);
});

Deno.test("crictl: not found and a dead runtime fail with the right fix", async () => {
  const missing = withRun(
    createSystem("/"),
    () => Promise.reject(new RunError("/host/usr/bin/crictl", "not-found", "not found")),
  );
  const m = await checkCrictl(missing, crictlConfig, AbortSignal.timeout(5000));
  assert.deepEqual([m.status, m.detail], ["FAIL", "/host/usr/bin/crictl not found"]);
  assert.match(m.fix, /--crictl \/host\/usr\/bin\/crictl/);
  const dead = withRun(createSystem("/"), () =>
    Promise.resolve({
      code: 1,
      stdout: "",
      stderr: 'time="x" level=fatal msg="validate service connection: connection refused"\n',
    }));
  const d = await checkCrictl(dead, crictlConfig, AbortSignal.timeout(5000));
  assert.equal(d.status, "FAIL");
  assert.match(d.detail, /version exited 1: .*connection refused/);
  assert.match(d.fix, /--runtime-endpoint/);
});

Deno.test("health address: free, taken by a collector, taken by something else", async () => {
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const freePort = (free.addr as Deno.NetAddr).port;
  free.close();
  const f = await checkHealthAddr({ hostname: "127.0.0.1", port: freePort });
  assert.deepEqual([f.status, f.detail], ["OK", `127.0.0.1:${freePort} is free`]);
  for (const [body, status] of [["ok\n", "OK"], ["hello\n", "FAIL"]]) {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      () => new Response(body),
    );
    try {
      const r = await checkHealthAddr({ hostname: "127.0.0.1", port: server.addr.port });
      assert.equal(r.status, status, r.detail);
      assert.match(r.detail, status === "OK" ? /running collector/ : /another program/);
    } finally {
      await server.shutdown();
    }
  }
});

Deno.test("runDoctor: one line per check, exit 1 when a check fails", async () => {
  const root = await fakeHost();
  try {
    const config = loadConfig({ "host-root": root, sink: "dir" }, {});
    const system = withRun(createSystem(root), (_c, args) =>
      Promise.resolve({
        code: 0,
        stdout: args.includes("version") ? "RuntimeName: cri-o\n" : PS_JSON,
        stderr: "",
      }));
    const deps = {
      config,
      system,
      address: { listen: () => {}, fetch: () => Promise.reject(new Error("unused")) },
      probeDir: () => Promise.resolve("coverage-data exists"),
    };
    const asRoot = await runDoctor({ ...deps, uid: () => 0 }, { writeTest: false });
    const names = asRoot.checks.map((c) => `${c.status} ${c.name}`);
    assert.deepEqual(names, [
      "OK root",
      "OK host root",
      "OK /proc access",
      "OK crictl",
      "OK health address",
      "WARN kube",
      "OK output dir",
    ]);
    assert.equal(asRoot.exitCode, 0);
    const asUser = await runDoctor({ ...deps, uid: () => 1000 }, { writeTest: false });
    assert.equal(asUser.exitCode, 1);
    const text = renderReport(asUser).split("\n");
    assert.equal(text.length, asUser.checks.length + 1);
    assert.match(text[0], /^FAIL {2}root +running as uid 1000 — fix: run as root/);
    assert.equal(text.at(-1), "doctor: 5 OK, 1 WARN, 1 FAIL");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
