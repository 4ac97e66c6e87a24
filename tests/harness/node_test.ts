import assert from "node:assert/strict";
import { CrictlInspect, CrictlInspectp, crictlJson, CrictlPs, runCrictl } from "./crictl_check.ts";
import { covserverBinary, hasGo } from "./gobuild.ts";
import { canSimulateNode, SimNode } from "./node.ts";
import { cgroupRoots } from "./simproc.ts";

const noNode = !(await hasGo()) || !(await canSimulateNode());
const skipNode = noNode ? " (skipped: needs root, ip netns, unshare, setsid, cgroups, Go)" : "";

function nsPids(pid: number): number[] {
  const line = Deno.readTextFileSync(`/proc/${pid}/status`).split("\n")
    .find((l) => l.startsWith("NSpid:"));
  return (line ?? "").split(/\s+/).slice(1).map(Number);
}

Deno.test({
  name: "SimNode: pod container in its own netns, PID ns and crio cgroup, seen by crictl" +
    skipNode,
  ignore: noNode,
  async fn() {
    const bin = await covserverBinary("simapp");
    const node = await SimNode.create({ name: "test" });
    try {
      const pod = await node.addPod({ name: "web-1", namespace: "demo" });
      assert.match(pod.ip, /^10\.244\.\d+\.\d+$/);
      const other = await node.addPod({ name: "web-2", namespace: "demo" });
      assert.notEqual(other.ip, pod.ip);
      await other.delete();
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

      const ps = CrictlPs.parse(await crictlJson(node.crictlPath, ["ps", "-o", "json"]));
      assert.deepEqual(ps.containers.map((x) => [x.id, x.podSandboxId]), [[c.id, pod.sandboxId]]);
      assert.deepEqual(ps.containers[0].labels["io.kubernetes.pod.uid"], pod.uid);
      const insp = CrictlInspect.parse(await crictlJson(node.crictlPath, ["inspect", c.id]));
      assert.deepEqual(insp.info.pid, c.hostPid);
      const sb = CrictlInspectp.parse(
        await crictlJson(node.crictlPath, ["inspectp", pod.sandboxId]),
      );
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
      assert.deepEqual((await runCrictl(node.crictlPath, ["ps", "-o", "json"])).code, 1);
      node.setCrictlFault(null);
      assert.deepEqual(await node.crictlCalls(), 4);

      c.kill("SIGTERM");
      assert.deepEqual((await c.exited).code, 0);
      assert.deepEqual(
        CrictlPs.parse(await crictlJson(node.crictlPath, ["ps", "-o", "json"])).containers,
        [],
      );
      await pod.delete();
      assert.deepEqual((await runCrictl(node.crictlPath, ["inspectp", pod.sandboxId])).code, 1);
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
      // A command that cannot run: addContainer or waitLine fails, naming what unshare said.
      const bad = await pod.addContainer({ name: "bad", command: "/nonexistent" })
        .then((b) => b.waitLine(/never/)).then(() => "", (e: Error) => e.message);
      assert.match(bad, /failed to execute \/nonexistent/);
      assert.deepEqual(
        Deno.readLinkSync(`/proc/${c.hostPid}/ns/net`),
        Deno.readLinkSync("/proc/self/ns/net"),
      );
      assert.deepEqual(nsPids(c.hostPid), [c.hostPid, 1]);
      const sb = CrictlInspectp.parse(
        await crictlJson(node.crictlPath, ["inspectp", pod.sandboxId]),
      );
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
