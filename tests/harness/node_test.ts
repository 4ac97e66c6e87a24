import assert from "node:assert/strict";
import { z } from "zod";
import { CrictlState } from "./crictl_state.ts";
import { covserverBinary, hasGo } from "./gobuild.ts";
import { canSimulateNode, SimNode } from "./node.ts";
import { cgroupRoots } from "./simproc.ts";

const noGo = !(await hasGo());
const noNode = noGo || !(await canSimulateNode());
const skipNode = noNode ? " (skipped: needs root, ip netns, unshare, setsid, cgroups, Go)" : "";
const skipGo = noGo ? " (skipped: needs Go)" : "";

const Labels = z.object({
  "io.kubernetes.pod.name": z.string(),
  "io.kubernetes.pod.namespace": z.string(),
  "io.kubernetes.pod.uid": z.string(),
  "io.kubernetes.container.name": z.string(),
});
const Ps = z.object({
  containers: z.array(z.object({
    id: z.string().regex(/^[0-9a-f]{64}$/),
    podSandboxId: z.string(),
    metadata: z.object({ name: z.string(), attempt: z.number() }),
    imageRef: z.string(),
    state: z.literal("CONTAINER_RUNNING"),
    labels: Labels,
  })),
});
const Inspect = z.object({
  status: z.object({ id: z.string(), imageRef: z.string(), labels: Labels, state: z.string() }),
  info: z.object({ pid: z.number(), sandboxID: z.string() }),
});
const Inspectp = z.object({
  status: z.object({
    id: z.string(),
    metadata: z.object({ name: z.string(), namespace: z.string(), uid: z.string() }),
    state: z.literal("SANDBOX_READY"),
    network: z.object({ ip: z.string(), additionalIps: z.array(z.string()) }),
    linux: z.object({
      namespaces: z.object({ options: z.object({ network: z.enum(["POD", "NODE"]) }) }),
    }),
  }),
});

async function crictl(path: string, args: string[], timeoutMs = 5000) {
  const out = await new Deno.Command(path, {
    args,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    signal: out.signal,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

async function json(path: string, args: string[]): Promise<unknown> {
  const r = await crictl(path, args);
  assert.deepEqual(r.code, 0, `crictl ${args.join(" ")}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

Deno.test({
  name: "fakecrictl: ps/inspect/inspectp shapes, prefixes, unknown IDs, faults, call log" + skipGo,
  ignore: noGo,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ccsim-fc-" });
    try {
      const st = await CrictlState.create(dir);
      st.update((d) => {
        d.pods.push({
          id: "a".repeat(64),
          name: "web",
          namespace: "demo",
          uid: "u-1",
          ip: "10.244.9.2",
          hostNetwork: false,
          createdAt: 1,
        });
        d.containers.push({
          id: "c".repeat(64),
          podId: "a".repeat(64),
          name: "app",
          attempt: 1,
          image: "img@sha256:00",
          imageRef: "img@sha256:00",
          pid: 4242,
          createdAt: 1,
          args: ["/app"],
        }, { ...exitedContainer() });
      });
      const ps = Ps.parse(
        await json(st.path, ["--runtime-endpoint", "unix:///x.sock", "ps", "-o", "json"]),
      );
      assert.deepEqual(
        ps.containers.map((c) => c.id),
        ["c".repeat(64)],
        "exited ones are not listed",
      );
      assert.deepEqual(ps.containers[0].labels["io.kubernetes.pod.uid"], "u-1");
      assert.deepEqual(
        Ps.parse(await json(st.path, ["-r", "x", "ps", "--output=json"])).containers.length,
        1,
      );
      const insp = Inspect.parse(await json(st.path, ["inspect", "-o", "json", "cccc"]));
      assert.deepEqual([insp.info.pid, insp.info.sandboxID], [4242, "a".repeat(64)]);
      const pod = Inspectp.parse(await json(st.path, ["inspectp", "a".repeat(64)]));
      assert.deepEqual(pod.status.network.ip, "10.244.9.2");
      assert.deepEqual(pod.status.linux.namespaces.options.network, "POD");

      const missing = await crictl(st.path, ["inspect", "f".repeat(64)]);
      assert.deepEqual(missing.code, 1);
      assert.match(missing.stderr, /NotFound.*not found/);
      assert.deepEqual(
        (await crictl(st.path, ["ps", "-r", "x"])).code,
        1,
        "global flag after command",
      );

      st.update((d) => (d.endpoint = "unix:///right.sock"));
      assert.deepEqual(
        (await crictl(st.path, ["-r", "unix:///wrong.sock", "ps", "-o", "json"])).code,
        1,
      );
      assert.deepEqual(
        (await crictl(st.path, ["-r", "unix:///right.sock", "ps", "-o", "json"])).code,
        0,
      );
      st.update((d) => delete d.endpoint);

      st.update((d) => (d.fault = { mode: "exit1" }));
      const e1 = await crictl(st.path, ["ps", "-o", "json"]);
      assert.deepEqual(e1.code, 1);
      assert.match(e1.stderr, /connect/);
      st.update((d) => (d.fault = { mode: "garbage" }));
      const g = await crictl(st.path, ["ps", "-o", "json"]);
      assert.deepEqual(g.code, 0);
      assert.ok(!isJson(g.stdout), "garbage is not JSON");
      st.update((d) => (d.fault = { mode: "hang" }));
      const started = Date.now();
      const hung = await crictl(st.path, ["ps", "-o", "json"], 300);
      assert.equal(hung.signal, "SIGTERM", "killed at the timeout");
      assert.ok(Date.now() - started >= 290);
      st.update((d) => (d.fault = { mode: "exit1", commands: ["inspect"] }));
      assert.deepEqual((await crictl(st.path, ["ps", "-o", "json"])).code, 0);
      assert.deepEqual((await crictl(st.path, ["inspect", "c".repeat(64)])).code, 1);

      const calls = await st.calls();
      assert.deepEqual(calls.length, 13);
      assert.deepEqual(calls[0], "--runtime-endpoint unix:///x.sock ps -o json");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

function exitedContainer() {
  return {
    id: "e".repeat(64),
    podId: "a".repeat(64),
    name: "old",
    attempt: 0,
    image: "i",
    imageRef: "i",
    pid: 1,
    state: "CONTAINER_EXITED" as const,
    createdAt: 1,
    args: [],
  };
}

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

function nsPids(pid: number): number[] {
  const line = Deno.readTextFileSync(`/proc/${pid}/status`).split("\n")
    .find((l) => l.startsWith("NSpid:"));
  return (line ?? "").split(/\s+/).slice(1).map(Number);
}

Deno.test({
  name: "SimNode: pod container in its own netns, PID ns and crio cgroup, seen by crictl" +
    skipNode,
  ignore: noNode,
  sanitizeResources: false, // fetch keeps pooled connections to the pod
  async fn() {
    const bin = await covserverBinary("simapp");
    const node = await SimNode.create({ name: "test" });
    try {
      const pod = await node.addPod({ name: "web-1", namespace: "demo" });
      assert.match(pod.ip, /^10\.244\.\d+\.\d+$/);
      const c = await pod.addContainer({
        name: "app",
        command: bin,
        env: { COVERAGE_PORT: "53700" },
      });
      const covPort = Number((await c.waitLine(/coverage-port=(\d+)/))[1]);
      const appPort = Number((await c.waitLine(/app-port=(\d+)/))[1]);

      assert.deepEqual(nsPids(c.hostPid), [c.hostPid, 1], "init is PID 1 inside its namespace");
      const cgLines = Deno.readTextFileSync(`/proc/${c.hostPid}/cgroup`).split("\n")
        .filter((l) => l.endsWith(`/ccsim-${node.runId}/crio-${c.id}.scope`));
      assert.equal(cgLines.length, cgroupRoots().length, "in a crio-<id>.scope of every hierarchy");
      const nsLink = Deno.readLinkSync(`/proc/${c.hostPid}/ns/net`);
      assert.ok(nsLink !== Deno.readLinkSync("/proc/self/ns/net"), "container has its own netns");

      const ps = Ps.parse(await json(node.crictlPath, ["ps", "-o", "json"]));
      assert.deepEqual(ps.containers.map((x) => [x.id, x.podSandboxId]), [[c.id, pod.sandboxId]]);
      assert.deepEqual(ps.containers[0].labels["io.kubernetes.pod.uid"], pod.uid);
      const insp = Inspect.parse(await json(node.crictlPath, ["inspect", c.id]));
      assert.deepEqual(insp.info.pid, c.hostPid);
      const sb = Inspectp.parse(await json(node.crictlPath, ["inspectp", pod.sandboxId]));
      assert.deepEqual([sb.status.network.ip, sb.status.linux.namespaces.options.network], [
        pod.ip,
        "POD",
      ]);

      const app = await fetch(`http://${pod.ip}:${appPort}/run/alpha`);
      assert.deepEqual(app.status, 200);
      await app.body?.cancel();
      const health = await fetch(`http://${pod.ip}:${covPort}/health`);
      await health.body?.cancel();
      assert.deepEqual(health.headers.get("X-Art-Coverage-Pid"), "1");

      node.setCrictlFault("exit1");
      assert.deepEqual((await crictl(node.crictlPath, ["ps", "-o", "json"])).code, 1);
      node.setCrictlFault(null);
      assert.deepEqual(await node.crictlCalls(), 4);

      c.kill("SIGTERM");
      assert.deepEqual((await c.exited).code, 0);
      assert.deepEqual(Ps.parse(await json(node.crictlPath, ["ps", "-o", "json"])).containers, []);
      await pod.delete();
      assert.deepEqual((await crictl(node.crictlPath, ["inspectp", pod.sandboxId])).code, 1);
    } finally {
      await node.close();
    }
    assert.deepEqual(await node.leftovers(), { netns: [], links: [], cgroups: [] });
  },
});

Deno.test({
  name: "SimNode: hostNetwork pod and host process; close kills everything and leaves nothing" +
    skipNode,
  ignore: noNode,
  async fn() {
    const bin = await covserverBinary("simhost");
    const node = await SimNode.create();
    let hostPid = 0;
    try {
      const pod = await node.addPod({
        name: "static",
        namespace: "kube-system",
        hostNetwork: true,
      });
      const c = await pod.addContainer({
        name: "api",
        command: bin,
        env: { COVERAGE_PORT: "53760" },
      });
      await c.waitLine(/coverage-port=\d+/);
      assert.deepEqual(pod.ip, "");
      assert.deepEqual(
        Deno.readLinkSync(`/proc/${c.hostPid}/ns/net`),
        Deno.readLinkSync("/proc/self/ns/net"),
      );
      assert.deepEqual(nsPids(c.hostPid), [c.hostPid, 1]);
      const sb = Inspectp.parse(await json(node.crictlPath, ["inspectp", pod.sandboxId]));
      assert.deepEqual([sb.status.network.ip, sb.status.linux.namespaces.options.network], [
        "",
        "NODE",
      ]);

      const h = await node.addHostProcess({ command: bin, env: { COVERAGE_PORT: "53780" } });
      await h.waitLine(/coverage-port=\d+/);
      hostPid = h.hostPid;
      assert.deepEqual(nsPids(hostPid), [hostPid], "host process lives in the host PID namespace");
      // Leave the pod's container running: close() must take it down.
      await node.pods.values().next().value?.containers.values().next().value?.waitLine(/app-port/);
    } finally {
      await node.close();
    }
    assert.deepEqual(await node.leftovers(), { netns: [], links: [], cgroups: [] });
    assert.ok(!existsSync(`/proc/${hostPid}`), "host process killed by close()");
  },
});

function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
