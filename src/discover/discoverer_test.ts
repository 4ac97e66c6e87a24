import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Candidate } from "../target.ts";
import {
  ghostContainer,
  hex,
  NODE_CANDIDATES,
  testNode as node,
} from "../../tests/doubles/testnode.ts";

const summary = (cs: Candidate[]) =>
  cs.map((
    c,
  ) => [c.owner.kind === "host" ? "_host_" : c.owner.container.name, c.host, c.port, c.pids])
    .sort((a, b) => String(a) < String(b) ? -1 : 1);

Deno.test("scan files each listener once: pod IP, hostNetwork by inode, host processes with their range", async () => {
  using n = node();
  const r = await n.d.scan(new AbortController().signal);
  assertEquals(r.crictlOk, true);
  assertEquals(r.containers.map((c) => [c.name, c.network, c.podIp]), [
    ["web", "POD", "fd00::17"],
    ["kube-apiserver", "NODE", ""],
    ["etcd", "NODE", ""],
  ]);
  assertEquals(summary(r.candidates), [
    ["_host_", "127.0.0.1", 53701, [400, 401]],
    ["_host_", "127.0.0.1", 60001, [500]],
    ["_host_", "::1", 53702, [400, 401]],
    ["kube-apiserver", "::1", 53700, [200, 201]],
    ["web", "fd00::17", 53700, [100, 101]],
  ]);
  ok(r.candidates.every((c) => c.host !== ""));
  assertEquals(n.health.get("crictl")?.degraded, undefined);
});

Deno.test("a second scan inspects nothing again and does no fd scan of host processes", async () => {
  using n = node();
  const signal = new AbortController().signal;
  await n.d.scan(signal);
  const callsBefore = n.cri.calls.length;
  n.reads.length = 0;
  const r = await n.d.scan(signal);
  assertEquals(n.cri.calls.slice(callsBefore), ["ps -o json"]);
  assertEquals(n.reads.filter((p) => /^\/proc\/(400|500|1)\/fd$/.test(p)), []);
  assertEquals(r.candidates.length, 5);
});

Deno.test("empty pod IP is never dialled: the container is treated as hostNetwork", async () => {
  using n = node();
  n.cri.containers[0].ip = "";
  n.fake.setNet("pod1", []);
  n.fake.setNet("host", [{ address: "::", port: 53705, inode: 501 }]);
  // in its own network namespace: loopback there is not the host's, so nothing to dial
  const r = await n.d.scan(new AbortController().signal);
  assertEquals(r.containers[0].network, "NODE");
  assertEquals(summary(r.candidates), []);
  // really in the host's network namespace: dial loopback, never "" (a new agent: a container's
  // network namespace is fixed for its life, so a running one keeps what it read)
  for (const pid of [101, 100]) n.fake.remove(pid);
  n.fake.add({ pid: 100, ppid: 1, netns: "host", cgroup: `0::/crio-${hex("a")}.scope` });
  n.fake.add({ pid: 101, ppid: 100, sockets: [501], netns: "host" });
  const r2 = await n.fresh().scan(new AbortController().signal);
  assertEquals(summary(r2.candidates), [["web", "::1", 53705, [100, 101]]]);
});

Deno.test("processes vanishing mid-scan are skipped, not thrown", async () => {
  using n = node();
  // listed in /proc but already gone: no status, no fd, no net
  mkdirSync(join(n.fake.root, "proc", "777"));
  n.fake.remove(300); // etcd's process exited after crictl saw it
  n.fake.remove(401);
  const r = await n.d.scan(new AbortController().signal);
  assertEquals(r.containers.length, 3);
  assertEquals(summary(r.candidates).map((c) => c.slice(0, 3)), NODE_CANDIDATES);
});

Deno.test("crictl failure: one log line per distinct error, last good view, degraded, then recovery", async () => {
  using n = node();
  const signal = new AbortController().signal;
  await n.d.scan(signal);
  n.cri.fail = "exit";
  const a = await n.d.scan(signal);
  const b = await n.d.scan(signal);
  assertEquals([a.crictlOk, b.crictlOk], [false, false]);
  ok(a.crictlError?.includes("connection refused"), a.crictlError);
  assertEquals(b.containers.length, 3);
  assertEquals(b.candidates.length, 5);
  assertEquals(n.health.get("crictl")?.degraded, true);
  assertEquals(n.health.get("crictl")?.ready, true);
  assertEquals(n.lines.filter((l) => l.includes("crictl failed")).length, 1);
  n.cri.fail = "hang";
  await n.d.scan(signal);
  assertEquals(n.lines.filter((l) => l.includes("crictl failed")).length, 2);
  n.cri.fail = "none";
  const c = await n.d.scan(signal);
  assertEquals(c.crictlOk, true);
  assertEquals(n.health.get("crictl")?.degraded, undefined);
  assertEquals(n.lines.filter((l) => l.includes("crictl works again")).length, 1);
  assertEquals(n.metrics.value("coverage_collector_crictl_runs_total", { result: "exit" }), 2);
  assertEquals(n.metrics.value("coverage_collector_crictl_runs_total", { result: "timeout" }), 1);
});

Deno.test("without crictl at all the host scan still runs", async () => {
  using n = node();
  n.cri.fail = "missing";
  const r = await n.d.scan(new AbortController().signal);
  assertEquals(r.crictlOk, false);
  assertEquals(r.containers, []);
  // container processes are recognised by their cgroup, so their sockets are not filed as host
  assertEquals(summary(r.candidates).map((c) => c.slice(0, 3)), [
    ["_host_", "127.0.0.1", 53701],
    ["_host_", "127.0.0.1", 60001],
    ["_host_", "::1", 53702],
  ]);
});

Deno.test("scan rejects when the signal is aborted", async () => {
  using n = node();
  const ac = new AbortController();
  ac.abort();
  let threw = false;
  await n.d.scan(ac.signal).catch(() => threw = true);
  assertEquals(threw, true);
});

Deno.test("an unreadable /proc/1/ns/net (no ptrace access to init) still finds every server", async () => {
  using n = node((s) => ({
    ...s,
    readLink: (p) =>
      p === "/proc/1/ns/net"
        ? Promise.reject(new Deno.errors.PermissionDenied(`readlink '${p}'`))
        : s.readLink(p),
  }));
  const r = await n.d.scan(new AbortController().signal);
  assertEquals(summary(r.candidates).map((c) => c.slice(0, 3)), NODE_CANDIDATES);
});

Deno.test("a container without a process yet is asked about again; an undescribable one is skipped", async () => {
  using n = node();
  const signal = new AbortController().signal;
  n.cri.containers[0].pid = 0;
  n.cri.containers.push(ghostContainer());
  const run = n.cri.run.bind(n.cri);
  n.cri.run = (cmd, args, t) =>
    args[0] === "inspect" && args.includes(hex("d"))
      ? Promise.resolve({ code: 1, stdout: "", stderr: "container not found" })
      : run(cmd, args, t);
  const a = await n.d.scan(signal);
  assertEquals(a.containers.map((c) => c.name), ["kube-apiserver", "etcd"]);
  await n.d.scan(signal);
  assertEquals(n.lines.filter((l) => l.includes("could not describe")).length, 1);
  n.cri.containers[0].pid = 100;
  const b = await n.d.scan(signal);
  assertEquals(b.containers.map((c) => c.name), ["web", "kube-apiserver", "etcd"]);
  assertEquals(summary(b.candidates).filter((c) => c[0] === "web").length, 1);
});

Deno.test("a cold start with 250 containers runs crictl three times: ps, one inspect, one inspectp", async () => {
  using n = node();
  const signal = new AbortController().signal;
  for (let i = 0; i < 250; i++) {
    const id = `f${String(i).padStart(63, "0")}`;
    n.cri.containers.push({
      id,
      sandbox: `7${String(i).padStart(63, "0")}`,
      name: `c${i}`,
      pod: `p${i}`,
      pid: 300, // shares etcd's process: only the count of crictl runs matters here
      network: "NODE",
      ip: "",
    });
  }
  const r = await n.d.scan(signal);
  assertEquals(r.containers.length, 253);
  assertEquals(n.cri.calls.map((c) => c.split(" ")[0]), ["ps", "inspect", "inspectp"]);
  assertEquals(n.cri.calls[1].split(" ").length, 1 + 253);
});
