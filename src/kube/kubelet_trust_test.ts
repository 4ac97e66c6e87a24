import assert from "node:assert/strict";
import { chooseKubelet, containerCgroup, judgeKubelet, type Namespaces } from "./kubelet_trust.ts";

const host: Namespaces = { pid: "pid:[1]", net: "net:[2]", mnt: "mnt:[3]" };
const id = "0123456789abcdef".repeat(4);

Deno.test("container cgroups are recognised in every runtime's spelling, v1 and v2", () => {
  for (
    const text of [
      `0::/kubepods.slice/kubepods-burstable.slice/kubepods-pod1.slice/crio-${id}.scope\n`,
      `12:pids:/kubepods/besteffort/pod1/${id}\n0::/\n`,
      `0::/system.slice/docker-${id}.scope\n`,
      `0::/machine.slice/libpod-${id}.scope/container\n`,
      `0::/system.slice/crio-conmon-${id}.scope\n`,
      `0::/system.slice/cri-containerd-${id}.scope\n`,
    ]
  ) assert.ok(containerCgroup(text), text);
  for (
    const text of [
      "0::/system.slice/kubelet.service\n",
      "1:name=systemd:/\n0::/\n",
      "0::/user.slice/user-0.slice/session-3.scope\n",
    ]
  ) assert.equal(containerCgroup(text), undefined, text);
});

Deno.test("judgeKubelet: foreign namespaces, container cgroups and unreadable ones are refused", () => {
  const unit = "0::/system.slice/kubelet.service\n";
  assert.deepEqual(judgeKubelet({ pid: 9, ns: host, cgroup: unit }, host), {
    pid: 9,
    trusted: true,
    preferred: true,
    reason: "host namespaces, kubelet.service cgroup",
  });
  const inPod = judgeKubelet({ pid: 3, ns: { ...host, pid: "pid:[7]" }, cgroup: unit }, host);
  assert.deepEqual([inPod.trusted, inPod.reason], [false, "not in the host's pid namespace"]);
  const netOnly = judgeKubelet({ pid: 3, ns: { ...host, net: "net:[8]" }, cgroup: unit }, host);
  assert.equal(netOnly.reason, "not in the host's net namespace");
  const scoped = judgeKubelet({ pid: 4, ns: host, cgroup: `0::/x/crio-${id}.scope` }, host);
  assert.deepEqual([scoped.trusted, scoped.reason], [
    false,
    `in a container cgroup (crio-${id}.scope)`,
  ]);
  assert.equal(
    judgeKubelet({ pid: 5, ns: { error: "EACCES" }, cgroup: unit }, host).trusted,
    false,
  );
  assert.equal(judgeKubelet({ pid: 5, ns: host, cgroup: { error: "gone" } }, host).trusted, false);
  assert.match(
    judgeKubelet({ pid: 5, ns: host, cgroup: unit }, { error: "EACCES" }).reason,
    /^host namespaces unknown/,
  );
});

Deno.test("chooseKubelet: trusted only, kubelet.service first, then the lowest PID", () => {
  const v = (pid: number, trusted: boolean, preferred: boolean) => ({
    pid,
    trusted,
    preferred,
    reason: "",
  });
  assert.equal(chooseKubelet([v(2, false, true), v(5, true, false), v(9, true, true)])?.pid, 9);
  assert.equal(chooseKubelet([v(7, true, false), v(5, true, false)])?.pid, 5);
  assert.equal(chooseKubelet([v(2, false, true)]), undefined);
});
