/**
 * containerIdOfCgroup on what each runtime and cgroup driver writes: a real /proc/<pid>/cgroup of
 * a containerd container (cgroupfs driver, cgroup v1 hybrid, tests/testdata/containerd/), its v2
 * line alone, a real one of a CRI-O container and of its conmon (cgroupfs, tests/testdata/crio/),
 * and the systemd-driver forms of containerd and CRI-O on v1 and v2.
 */

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { containerIdOfCgroup } from "./cgroup.ts";

const REAL = Deno.readTextFileSync(
  new URL("../../tests/testdata/containerd/proc_pid_cgroup_v1_cgroupfs.txt", import.meta.url),
);
const REAL_ID = "c7a61f46688981e5a7fccb10e6ce6103d22e51fdac6989e97d98625d1a82516b";
const ID = "ab".repeat(32);
const POD = "kubepods-besteffort-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice";

Deno.test("containerd with cgroupfs on cgroup v1 (recorded): the leaf is the container ID", () => {
  assertEquals(REAL.split("\n").filter((l) => l !== "").length, 10);
  assertEquals(containerIdOfCgroup(REAL), REAL_ID);
});

Deno.test("containerd with cgroupfs on cgroup v2: the one 0:: line names the container", () => {
  const v2 = REAL.split("\n").filter((l) => l.startsWith("0::")).join("\n");
  assertEquals(containerIdOfCgroup(`${v2}\n`), REAL_ID);
  assertEquals(containerIdOfCgroup(`0::/kubepods/besteffort/pod0f1e/${ID}\n`), ID);
});

Deno.test("systemd driver: cri-containerd-<id>.scope and crio-<id>.scope on v1 and v2", () => {
  const slice = `/kubepods.slice/kubepods-besteffort.slice/${POD}`;
  for (const scope of [`cri-containerd-${ID}.scope`, `crio-${ID}.scope`]) {
    assertEquals(containerIdOfCgroup(`0::${slice}/${scope}\n`), ID, `v2 ${scope}`);
    const v1 = `12:memory:${slice}/${scope}\n1:name=systemd:${slice}/${scope}\n0::/\n`;
    assertEquals(containerIdOfCgroup(v1), ID, `v1 ${scope}`);
  }
  // CRI-O on v2 may nest the process one level below the scope.
  assertEquals(containerIdOfCgroup(`0::${slice}/crio-${ID}.scope/container\n`), ID);
});

const CRIO = (name: string) =>
  Deno.readTextFileSync(new URL(`../../tests/testdata/crio/${name}`, import.meta.url));
const CRIO_ID = "9f2c0ccf62e91abc4cf1e0b9f8a30c11260434ef8dcae7fb16410143ce9a5450";

Deno.test("CRI-O with cgroupfs on cgroup v1 (recorded): the leaf crio-<id> names the container", () => {
  const real = CRIO("proc_pid_cgroup_v1_cgroupfs.txt");
  assertEquals(real.split("\n").filter((l) => l !== "").length, 10);
  assertEquals(containerIdOfCgroup(real), CRIO_ID);
  const v2 = real.split("\n").filter((l) => l.startsWith("0::")).join("\n");
  assertEquals(containerIdOfCgroup(`${v2}\n`), CRIO_ID);
});

Deno.test("CRI-O's conmon (recorded, crio-conmon-<id> under the pod) names no container", () => {
  assertEquals(containerIdOfCgroup(CRIO("proc_conmon_cgroup_v1_cgroupfs.txt")), null);
});

Deno.test("host processes and runtime helpers name no container", () => {
  assertEquals(containerIdOfCgroup("0::/\n"), null);
  assertEquals(
    containerIdOfCgroup("4:memory:/process_api/c91d9d2dd06e9ccb383e8a777aa90b1a\n0::/\n"),
    null,
  );
  assertEquals(containerIdOfCgroup(`0::/kubepods.slice/crio-conmon-${ID}.scope\n`), null);
  assertEquals(containerIdOfCgroup("0::/system.slice/containerd.service\n"), null);
});
