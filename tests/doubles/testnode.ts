/** A simulated node for discovery tests: FakeProc + FakeCri, with every System call counted. */

import { createSystem, type System } from "../../src/system.ts";
import { createLogger } from "../../src/log.ts";
import { Metrics } from "../../src/metrics.ts";
import { Health } from "../../src/health.ts";
import { FakeProc } from "./fakeproc.ts";
import { type FakeContainer, FakeCri } from "./fakecri.ts";
import { Discoverer } from "../../src/discover/discoverer.ts";

/** A 64-hex container ID made of one repeated character. */
export const hex = (c: string): string => c.repeat(64);

/** A container crictl lists whose process /proc does not know (pid 900): inspect-only trouble. */
export const ghostContainer = (): FakeContainer => ({
  id: hex("d"),
  sandbox: hex("9"),
  name: "ghost",
  pod: "ghost",
  pid: 900,
  network: "POD",
  ip: "10.244.0.9",
});

/** The candidates the test node's scan finds: [owner, dial host, port]. */
export const NODE_CANDIDATES: [string, string, number][] = [
  ["_host_", "127.0.0.1", 53701],
  ["_host_", "127.0.0.1", 60001],
  ["_host_", "::1", 53702],
  ["kube-apiserver", "::1", 53700],
  ["web", "fd00::17", 53700],
];
const config = {
  crictl: "crictl",
  runtimeEndpoint: "",
  crictlTimeout: 1000,
  portStart: 53700,
  portSpan: 100,
};

/**
 * A node: an ordinary pod, a hostNetwork pod (two containers), and host processes. `reads` lists
 * every readDir path; `ops` lists every System call as `readText /proc/1/stat`, `run ps -o json`;
 * `clock.now` is the System clock (ms).
 *
 * @example using n = testNode(); await n.d.scan(signal); n.ops.length
 */
export function testNode(wrap: (s: System) => System = (s) => s) {
  const fake = new FakeProc();
  const cri = new FakeCri();
  fake.add({ pid: 1, ppid: 0, name: "systemd" });
  // ordinary pod: own netns, IPv6-any listener held by the child of the container init
  fake.setNet("pod1", [{ address: "::", port: 53700, inode: 501 }]);
  fake.add({
    pid: 100,
    ppid: 1,
    nspid: [100, 1],
    netns: "pod1",
    cgroup: `0::/crio-${hex("a")}.scope`,
  });
  fake.add({
    pid: 101,
    ppid: 100,
    nspid: [101, 2],
    netns: "pod1",
    sockets: [501],
    cgroup: `0::/crio-${hex("a")}.scope`,
  });
  // host netns: apiserver (hostNetwork) on 53700, a host program on 53701, etcd (hostNetwork) none
  fake.setNet("host", [
    { address: "::", port: 53700, inode: 700 },
    { address: "0.0.0.0", port: 53701, inode: 701 },
    { address: "::1", port: 53702, inode: 702 },
    { address: "::", port: 6443, inode: 703 },
    { address: "0.0.0.0", port: 60001, inode: 704 },
  ]);
  fake.add({ pid: 200, ppid: 1, sockets: [700, 703], cgroup: `0::/crio-${hex("b")}.scope` });
  fake.add({ pid: 201, ppid: 200, cgroup: `0::/crio-${hex("b")}.scope` });
  fake.add({ pid: 300, ppid: 1, cgroup: `0::/crio-${hex("c")}.scope` });
  fake.add({ pid: 400, ppid: 1, name: "hostd", sockets: [701, 702] });
  fake.add({ pid: 401, ppid: 400, name: "hostd-child" });
  fake.add({ pid: 500, ppid: 1, environ: { COVERAGE_PORT: "60000" }, sockets: [704] });
  cri.containers = [
    {
      id: hex("a"),
      sandbox: hex("1"),
      name: "web",
      pod: "web-1",
      pid: 100,
      network: "POD",
      ip: "fd00::17",
      additionalIps: ["10.244.0.7"],
    },
    {
      id: hex("b"),
      sandbox: hex("2"),
      name: "kube-apiserver",
      pod: "api",
      pid: 200,
      network: "NODE",
      ip: "",
    },
    {
      id: hex("c"),
      sandbox: hex("3"),
      name: "etcd",
      pod: "etcd",
      pid: 300,
      network: "NODE",
      ip: "",
    },
  ];
  const lines: string[] = [];
  const health = new Health();
  const metrics = new Metrics();
  const reads: string[] = [];
  const ops: string[] = [];
  const clock = { now: 1_000_000 };
  const base = createSystem(fake.root);
  const counted: System = {
    ...base,
    readDir: (p) => {
      reads.push(p);
      ops.push(`readDir ${p}`);
      return base.readDir(p);
    },
    readText: (p) => (ops.push(`readText ${p}`), base.readText(p)),
    readLink: (p) => (ops.push(`readLink ${p}`), base.readLink(p)),
    now: () => clock.now,
    monotonic: () => clock.now, // one test clock for both: tests move it by hand
  };
  const crictl = cri.system(counted);
  const system: System = {
    ...crictl,
    run: (c, a, o) => (ops.push(`run ${a.join(" ")}`), crictl.run(c, a, o)),
  };
  const fresh = () =>
    new Discoverer({
      system: wrap(system),
      config,
      log: createLogger({ write: (l) => lines.push(l) }),
      metrics,
      health,
    });
  const d = fresh();
  return {
    fake,
    cri,
    d,
    fresh,
    lines,
    health,
    metrics,
    reads,
    ops,
    clock,
    [Symbol.dispose]: () => fake.cleanup(),
  };
}
