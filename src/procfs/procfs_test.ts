import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { createSystem } from "../system.ts";
import { FakeProc } from "../../tests/doubles/fakeproc.ts";
import { containerIdOf, containerIdOfCgroup } from "./cgroup.ts";
import { coveragePortOf, readCoveragePort } from "./environ.ts";
import { socketInodeOfLink, socketInodesOf } from "./fds.ts";
import { parseStatus, readStatus } from "./status.ts";
import { readStartTime, startTimeOfStat } from "./stat.ts";
import { readProcessTable } from "./tree.ts";

import { SAMPLES } from "../../tests/testdata/samples.ts";
const ID = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";

Deno.test("parseStatus reads PPid and the NSpid list of the sample", () => {
  const s = parseStatus(Deno.readTextFileSync(new URL("proc-status.txt", SAMPLES)));
  assertEquals(s, { name: "bridge", pid: 48213, ppid: 48190, nspid: [48213, 1] });
});

Deno.test("parseStatus falls back to [pid] without NSpid", () => {
  assertEquals(parseStatus("Pid:\t5\nPPid:\t1\n").nspid, [5]);
});

Deno.test("readStatus of our own process: last NSpid is our pid; gone pid is null", async () => {
  const s = await readStatus(createSystem(), Deno.pid);
  assertEquals(s?.nspid.at(-1), Deno.pid);
  assertEquals(await readStatus(createSystem(), 2 ** 30), null);
});

Deno.test("coveragePortOf validates COVERAGE_PORT", () => {
  assertEquals(coveragePortOf("A=1\0COVERAGE_PORT=53800\0B=2\0"), 53800);
  assertEquals(coveragePortOf("COVERAGE_PORT=abc\0"), null);
  assertEquals(coveragePortOf("COVERAGE_PORT=70000\0"), null);
  assertEquals(coveragePortOf("COVERAGE_PORT=0\0"), null);
  assertEquals(coveragePortOf("XCOVERAGE_PORT=1\0"), null);
  assertEquals(coveragePortOf(""), null);
});

Deno.test("containerIdOfCgroup knows CRI-O, containerd and bare ids, not conmon", () => {
  assertEquals(
    containerIdOfCgroup(`0::/kubepods.slice/kubepods-burstable.slice/crio-${ID}.scope\n`),
    ID,
  );
  assertEquals(containerIdOfCgroup(`0::/kubepods.slice/crio-${ID}.scope/container\n`), ID);
  assertEquals(containerIdOfCgroup(`1:name=systemd:/x/cri-containerd-${ID}.scope\n`), ID);
  assertEquals(containerIdOfCgroup(`0::/kubepods/burstable/podabc/${ID}\n`), ID);
  assertEquals(containerIdOfCgroup(`0::/kubepods.slice/crio-conmon-${ID}.scope\n`), null);
  assertEquals(containerIdOfCgroup("0::/system.slice/kubelet.service\n"), null);
});

Deno.test("fd, environ, cgroup and tree readers over a fake /proc; vanished pids are skipped", async () => {
  const fake = new FakeProc();
  try {
    fake.add({ pid: 1, ppid: 0 });
    fake.add({ pid: 10, ppid: 1, sockets: [100, 101], environ: { COVERAGE_PORT: "53900" } });
    fake.add({ pid: 11, ppid: 10, sockets: [102] });
    fake.add({ pid: 12, ppid: 11, cgroup: `0::/k/crio-${ID}.scope\n` });
    fake.add({ pid: 20, ppid: 1 });
    const sys = createSystem(fake.root);
    assertEquals([...await socketInodesOf(sys, 10)].sort(), [100, 101]);
    assertEquals(await socketInodesOf(sys, 404), new Set());
    assertEquals(await readCoveragePort(sys, 10), 53900);
    assertEquals(await readCoveragePort(sys, 11), null);
    assertEquals(await containerIdOf(sys, 12), ID);
    assertEquals(await containerIdOf(sys, 11), null);
    const table = await readProcessTable(sys);
    assertEquals(table.treeOf(10), [10, 11, 12]);
    assertEquals(table.treeOf(404), []);
    assertEquals(table.treeOf(1), [1, 10, 20, 11, 12]);
    fake.remove(11);
    assertEquals((await readProcessTable(sys)).treeOf(10), [10]);
  } finally {
    fake.cleanup();
  }
});

Deno.test("socketInodeOfLink only accepts socket links", () => {
  assertEquals(socketInodeOfLink("socket:[42]"), 42);
  assertEquals(socketInodeOfLink("pipe:[42]"), null);
  assertEquals(socketInodeOfLink("/dev/null"), null);
});

Deno.test("socketInodesOf on the real /proc sees our own listening socket", async () => {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const inodes = await socketInodesOf(createSystem(), Deno.pid);
    assertEquals(inodes.size > 0, true);
  } finally {
    server.close();
  }
});

Deno.test("start time: field 22 counted after the last ')' of the name; null when gone or garbled", async () => {
  const line = "42 (my (app) x) S 1 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 98765 1 2";
  assertEquals(startTimeOfStat(line), "98765");
  assertEquals(startTimeOfStat("42 (x) S 1"), null);
  assertEquals(startTimeOfStat("garbage"), null);
  const own = await readStartTime(createSystem(), Deno.pid);
  assertEquals(typeof own === "string" && /^\d+$/.test(own), true);
  assertEquals(await readStartTime(createSystem(), Deno.pid), own);
  const fake = new FakeProc();
  try {
    fake.add({ pid: 7, ppid: 1, name: "a b)", start: 555 });
    assertEquals(await readStartTime(createSystem(fake.root), 7), "555");
    assertEquals(await readStartTime(createSystem(fake.root), 8), null);
  } finally {
    fake.cleanup();
  }
});
