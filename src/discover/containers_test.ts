import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { InspectOutput, InspectpOutput, PsOutput } from "../cri/schemas.ts";
import { containerInfoOf, ContainerScanner } from "./containers.ts";
import { ScanContext } from "./context.ts";
import { FakeProc } from "../../tests/doubles/fakeproc.ts";
import { createSystem } from "../system.ts";
import type { Candidate, ContainerInfo } from "../target.ts";
import { SAMPLES } from "../../tests/testdata/samples.ts";

const json = (name: string) => JSON.parse(Deno.readTextFileSync(new URL(name, SAMPLES)));

Deno.test("containerInfoOf builds the console container from the samples (POD, pod IP)", () => {
  const ps = PsOutput.parse(json("crictl-ps.json"));
  const info = containerInfoOf(
    ps.containers[1],
    InspectOutput.parse(json("crictl-inspect.json")),
    InspectpOutput.parse(json("crictl-inspectp-pod-network.json")),
    53700,
  );
  assertEquals(info, {
    id: "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0",
    sandboxId: "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
    name: "console",
    podName: "console-6b8d7c9f5-x2k4p",
    namespace: "openshift-console",
    podUid: "c0ffee00-1234-4abc-8def-0123456789ab",
    pid: 48213,
    imageRef:
      "quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:aa11bb22cc33dd44ee55ff6600778899aa11bb22cc33dd44ee55ff6600778899",
    network: "POD",
    podIp: "10.128.2.17",
    podIps: ["10.128.2.17"],
    coveragePort: 53700,
  });
});

Deno.test("containerInfoOf: hostNetwork sandbox is NODE with no IP; empty IP on POD is NODE too", () => {
  const ps = PsOutput.parse(json("crictl-ps.json"));
  const inspect = InspectOutput.parse(json("crictl-inspect.json"));
  const host = InspectpOutput.parse(json("crictl-inspectp-host-network.json"));
  const a = containerInfoOf(ps.containers[0], inspect, host, 53800);
  assertEquals([a?.network, a?.podIp, a?.name, a?.coveragePort], [
    "NODE",
    "",
    "kube-apiserver",
    53800,
  ]);
  const pod = json("crictl-inspectp-pod-network.json");
  pod.status.network.ip = "";
  const b = containerInfoOf(ps.containers[1], inspect, InspectpOutput.parse(pod), 53700);
  assertEquals([b?.network, b?.podIp], ["NODE", ""]);
});

Deno.test("containerInfoOf refuses a container without a process (pid 0)", () => {
  const ps = PsOutput.parse(json("crictl-ps.json"));
  const raw = json("crictl-inspect.json");
  raw.info.pid = 0;
  const pod = InspectpOutput.parse(json("crictl-inspectp-pod-network.json"));
  assertEquals(containerInfoOf(ps.containers[1], InspectOutput.parse(raw), pod, 53700), null);
});

/** A NODE (hostNetwork) container for the scanner: init `pid`, coverage range from 53700. */
const nodeContainer = (id: string, pid: number): ContainerInfo => ({
  id: id.repeat(64),
  sandboxId: id.repeat(64),
  name: `c-${id}`,
  podName: `p-${id}`,
  namespace: "ns",
  podUid: `uid-${id}`,
  pid,
  imageRef: "",
  network: "NODE",
  podIp: "",
  coveragePort: 53700,
});

Deno.test("a hostNetwork container owns only the host sockets its process tree holds", async () => {
  const fake = new FakeProc();
  try {
    // Every listener is in the host network namespace, which the containers share.
    fake.setNet("host", [
      { address: "::", port: 53700, inode: 700 }, // the container's child
      { address: "127.0.0.1", port: 53701, inode: 701 }, // the container's init
      { address: "0.0.0.0", port: 53702, inode: 702 }, // a host process
      { address: "::1", port: 53703, inode: 703 }, // a host process
      { address: "0.0.0.0", port: 53704, inode: 704 }, // another container's process
      { address: "0.0.0.0", port: 6443, inode: 705 }, // the container's, out of range
    ]);
    fake.add({ pid: 1, ppid: 0, name: "systemd" });
    fake.add({ pid: 200, ppid: 1, sockets: [701, 705] });
    fake.add({ pid: 201, ppid: 200, sockets: [700] });
    fake.add({ pid: 400, ppid: 1, name: "hostd", sockets: [702, 703] });
    fake.add({ pid: 300, ppid: 1, sockets: [704] });
    fake.add({ pid: 500, ppid: 1 }); // a hostNetwork container that holds nothing
    const scan = (containers: ContainerInfo[]) =>
      new ContainerScanner(100).scan(
        new ScanContext(createSystem(fake.root), new AbortController().signal),
        containers,
      );
    const row = (c: Candidate) => [
      c.owner.kind === "container" ? c.owner.container.name : "_host_",
      c.host,
      c.port,
      c.pids,
    ];

    // Alone in the host network namespace, it still gets only its own sockets.
    const alone = await scan([nodeContainer("a", 200)]);
    assertEquals(alone.candidates.map(row), [
      ["c-a", "127.0.0.1", 53701, [200, 201]],
      ["c-a", "::1", 53700, [200, 201]],
    ]);
    assertEquals([...alone.claimed].sort(), [700, 701]);
    assertEquals((await scan([nodeContainer("e", 500)])).candidates, []);

    // Beside others: each container its own; the host process's sockets are nobody's.
    const three = await scan([
      nodeContainer("e", 500),
      nodeContainer("a", 200),
      nodeContainer("b", 300),
    ]);
    assertEquals(three.candidates.map(row), [
      ["c-a", "127.0.0.1", 53701, [200, 201]],
      ["c-a", "::1", 53700, [200, 201]],
      ["c-b", "127.0.0.1", 53704, [300]],
    ]);
    assertEquals([...three.claimed].sort(), [700, 701, 704]);
  } finally {
    fake.cleanup();
  }
});
