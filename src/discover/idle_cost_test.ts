import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import type { Candidate } from "../target.ts";
import { ghostContainer, hex, testNode as node } from "../../tests/doubles/testnode.ts";
import { WIDE_LEARN_MS } from "./host.ts";

const signal = new AbortController().signal;
const fdDirs = (ops: string[]) =>
  ops.filter((o) => /^readDir \/proc\/\d+\/fd$/.test(o)).map((o) => Number(o.split("/")[2]))
    .sort((a, b) => a - b);
const statuses = (ops: string[]) => ops.filter((o) => /\/status$/.test(o));
const hosts = (cs: Candidate[]) =>
  cs.filter((c) => c.owner.kind === "host").map((c) => [c.host, c.port, c.pids]).sort();

Deno.test("an idle scan: one crictl ps, the listener tables and one stat per host server; nothing else", async () => {
  using n = node();
  const first = await n.d.scan(signal);
  n.ops.length = 0;
  const again = await n.d.scan(signal);
  assertEquals(again.candidates, first.candidates);
  assertEquals(n.ops.filter((o) => o.startsWith("run")), ["run ps -o json"]);
  // no process table, no fd dirs, no environ/cgroup/ns links
  assertEquals(statuses(n.ops), []);
  assertEquals(fdDirs(n.ops), []);
  assertEquals(n.ops.filter((o) => /environ|cgroup|ns\/net|^readDir \/proc$/.test(o)), []);
  // tcp + tcp6 of each network namespace (host, pod1), a stat per host server holder (400, 500)
  assertEquals(n.ops.filter((o) => !o.startsWith("run")).sort(), [
    "readText /proc/100/net/tcp",
    "readText /proc/100/net/tcp6",
    "readText /proc/200/net/tcp",
    "readText /proc/200/net/tcp6",
    "readText /proc/400/stat",
    "readText /proc/500/stat",
  ]);
});

Deno.test("a new in-range hostNetwork listener reads the process table and the fds of the NODE container trees only", async () => {
  using n = node();
  await n.d.scan(signal);
  n.fake.remove(201);
  n.fake.add({ pid: 201, ppid: 200, sockets: [705], cgroup: `0::/crio-${hex("b")}.scope` });
  n.fake.setNet("host", [
    ...[700, 701, 702, 703, 704].map((inode, i) => ({
      address: ["::", "0.0.0.0", "::1", "::", "0.0.0.0"][i],
      port: [53700, 53701, 53702, 6443, 60001][i],
      inode,
    })),
    { address: "0.0.0.0", port: 53703, inode: 705 },
  ]);
  n.ops.length = 0;
  const r = await n.d.scan(signal);
  const api = r.candidates.filter((c) =>
    c.owner.kind === "container" && c.owner.container.name === "kube-apiserver"
  );
  assertEquals(api.map((c) => [c.host, c.port]).sort(), [["127.0.0.1", 53703], ["::1", 53700]]);
  // apiserver (200, 201) and etcd (300) see the new host socket in their range; nobody else
  assertEquals(fdDirs(n.ops), [200, 201, 300]);
  ok(statuses(n.ops).length > 0, "the process table was read for the trees");
  n.ops.length = 0;
  await n.d.scan(signal);
  assertEquals([fdDirs(n.ops), statuses(n.ops)], [[], []]);
});

Deno.test("a new listener in the sole container of a pod network needs no fd read", async () => {
  using n = node();
  await n.d.scan(signal);
  n.fake.setNet("pod1", [
    { address: "::", port: 53700, inode: 501 },
    { address: "10.244.0.7", port: 53701, inode: 502 },
  ]);
  n.ops.length = 0;
  const r = await n.d.scan(signal);
  const web = r.candidates.filter((c) =>
    c.owner.kind === "container" && c.owner.container.name === "web"
  );
  // a wildcard listener is dialled at the pod IP, one bound to an address at that address
  assertEquals(web.map((c) => [c.host, c.port, c.pids]).sort(), [
    ["10.244.0.7", 53701, [100, 101]],
    ["fd00::17", 53700, [100, 101]],
  ]);
  assertEquals(fdDirs(n.ops), []);
});

Deno.test("a new host listener outside every known range waits for the wide walk (at most one per period)", async () => {
  using n = node();
  await n.d.scan(signal);
  n.fake.add({ pid: 600, ppid: 1, sockets: [800], environ: { COVERAGE_PORT: "61000" } });
  n.fake.add({ pid: 601, ppid: 1, sockets: [801] });
  const add = (more: { address: string; port: number; inode: number }[]) =>
    n.fake.setNet("host", [
      { address: "::", port: 53700, inode: 700 },
      { address: "0.0.0.0", port: 53701, inode: 701 },
      { address: "::1", port: 53702, inode: 702 },
      { address: "::", port: 6443, inode: 703 },
      { address: "0.0.0.0", port: 60001, inode: 704 },
      ...more,
    ]);
  add([{ address: "::", port: 61000, inode: 800 }]);
  n.ops.length = 0;
  let r = await n.d.scan(signal);
  assertEquals(fdDirs(n.ops), [], "no fd walk for a listener outside every known range");
  assertEquals(hosts(r.candidates).some((c) => c[1] === 61000), false);
  n.clock.now += WIDE_LEARN_MS / 2;
  add([{ address: "::", port: 61000, inode: 800 }, { address: "0.0.0.0", port: 9999, inode: 801 }]);
  r = await n.d.scan(signal);
  assertEquals(fdDirs(n.ops), []);
  n.clock.now += WIDE_LEARN_MS / 2;
  n.ops.length = 0;
  r = await n.d.scan(signal);
  ok(fdDirs(n.ops).length >= 10, "one wide walk learns both");
  // the moved range of 600 is found, the unrelated listener of 601 is not a candidate
  assertEquals(hosts(r.candidates).filter((c) => Number(c[1]) > 60001), [["::1", 61000, [600]]]);
  n.ops.length = 0;
  await n.d.scan(signal);
  assertEquals(fdDirs(n.ops), [], "learned once per listener");
});

Deno.test("a restarted host server in a known moved range is learned at once; a reused holder PID is relearned", async () => {
  using n = node();
  await n.d.scan(signal);
  // 500 (COVERAGE_PORT=60000) restarts as 510 with a new socket: its range is known
  n.fake.remove(500);
  n.fake.add({ pid: 510, ppid: 1, environ: { COVERAGE_PORT: "60000" }, sockets: [714] });
  const net = [
    { address: "::", port: 53700, inode: 700 },
    { address: "0.0.0.0", port: 53701, inode: 701 },
    { address: "::1", port: 53702, inode: 702 },
    { address: "0.0.0.0", port: 60002, inode: 714 },
  ];
  n.fake.setNet("host", net);
  let r = await n.d.scan(signal);
  assertEquals(hosts(r.candidates).filter((c) => c[1] === 60002), [["127.0.0.1", 60002, [510]]]);
  // 400 exits and its PID is reused by another process (another start time) holding 701/702
  n.fake.remove(401);
  n.fake.remove(400);
  n.fake.add({ pid: 400, ppid: 1, start: 99_999, sockets: [701, 702] });
  n.fake.setNet("host", net);
  n.ops.length = 0;
  r = await n.d.scan(signal);
  ok(fdDirs(n.ops).includes(400), "relearned");
  assertEquals(hosts(r.candidates).filter((c) => c[0] !== "127.0.0.1" || c[1] !== 60002), [
    ["127.0.0.1", 53701, [400]],
    ["::1", 53702, [400]],
  ]);
});

Deno.test("crictl down: a container whose PID now belongs to another process leaves the view", async () => {
  using n = node();
  await n.d.scan(signal);
  n.cri.fail = "exit";
  n.fake.remove(300); // etcd died; its PID went to a host process
  n.fake.add({ pid: 300, ppid: 1, cgroup: "0::/system.slice/other.service\n" });
  n.ops.length = 0;
  const r = await n.d.scan(signal);
  assertEquals(r.crictlOk, false);
  assertEquals(r.containers.map((c) => c.name), ["web", "kube-apiserver"]);
  assertEquals(n.ops.filter((o) => o.includes("cgroup")).length, 3, "one cgroup read each");
});

Deno.test("an inspect failure is logged again when its container ID comes back after leaving ps", async () => {
  using n = node();
  n.cri.containers.push(ghostContainer());
  const ghost = n.cri.containers.at(-1)!;
  const run = n.cri.run.bind(n.cri);
  n.cri.run = (cmd, args, t) =>
    args[0] === "inspect" && args.includes(hex("d"))
      ? Promise.resolve({ code: 1, stdout: "", stderr: "container not found" })
      : run(cmd, args, t);
  const logged = () => n.lines.filter((l) => l.includes("could not describe")).length;
  await n.d.scan(signal);
  await n.d.scan(signal);
  assertEquals(logged(), 1);
  n.cri.containers.pop();
  await n.d.scan(signal);
  n.cri.containers.push(ghost);
  await n.d.scan(signal);
  assertEquals(logged(), 2);
});

Deno.test("changed(): one crictl ps; true only when a container came or went; the scan reuses it", async () => {
  using n = node();
  await n.d.scan(signal);
  n.ops.length = 0;
  assertEquals(await n.d.changed(signal), false);
  assertEquals(n.ops, ["run ps -o json"], "a look is one crictl ps, no /proc reads");
  n.cri.containers = n.cri.containers.filter((c) => c.name !== "etcd");
  n.ops.length = 0;
  assertEquals(await n.d.changed(signal), true);
  await n.d.scan(signal);
  assertEquals(n.ops.filter((o) => o === "run ps -o json").length, 1, "the scan used that ps");
});
