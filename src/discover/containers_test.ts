import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { InspectOutput, InspectpOutput, PsOutput } from "../cri/schemas.ts";
import { containerInfoOf } from "./containers.ts";

const SAMPLES = new URL("../../../shared/reference/samples/", import.meta.url);
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
