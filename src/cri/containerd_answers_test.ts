/**
 * Recorded answers of the real crictl v1.37.0 against containerd 1.6 (tests/testdata/containerd/,
 * recorded by the real-node tier's harness): the collector reads them as it reads CRI-O's.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { z } from "zod";
import { containerInfoOf } from "../discover/containers.ts";
import { InspectOutput, InspectpOutput, PsOutput } from "./schemas.ts";

const DATA = new URL("../../tests/testdata/containerd/", import.meta.url);
const json = (name: string): unknown => JSON.parse(Deno.readTextFileSync(new URL(name, DATA)));

const APP = "c7a61f46688981e5a7fccb10e6ce6103d22e51fdac6989e97d98625d1a82516b";
const SIDE = "63847897b799";
const WEB_POD = "fd2450cb9e004ca90100cf4cb0086f4b3e2d3764c9cfaf78b51d2123e7cc611b";
const HOST_POD = "4590038b9b9cd3c01b2e0adae9a2bc82654da57579c25cefb01b9ec88af2b719";
const IMAGE = "sha256:a74f81786d1e8ced95d76a09521e05acd386037c659e365bc655cc834c87ffa1";

Deno.test("containerd ps: every running container with its sandbox, kubelet labels and image ID", () => {
  const ps = PsOutput.parse(json("crictl_ps.json"));
  assertEquals(ps.containers.length, 3);
  const app = ps.containers.find((c) => c.id === APP)!;
  assertEquals(app.podSandboxId, WEB_POD);
  assertEquals(app.state, "CONTAINER_RUNNING");
  // containerd's imageRef is the image ID (sha256:<config digest>), not a repo@digest like CRI-O's.
  assertEquals(app.imageRef, IMAGE);
  assertEquals(app.labels["io.kubernetes.pod.name"], "web");
  assertEquals(app.labels["io.kubernetes.container.name"], "app");
});

Deno.test("containerd inspect: info.pid is the host PID and info.sandboxID the pod", () => {
  const inspect = InspectOutput.parse(json("crictl_inspect.json"));
  assertEquals(inspect.status.id, APP);
  assertEquals(inspect.info.pid, 31277);
  assertEquals(inspect.info.sandboxID, WEB_POD);
  // What is kept is small: runtimeSpec and config are stripped.
  ok(JSON.stringify(inspect).length < 1000);
});

Deno.test("containerd inspectp: pod network IP and POD/NODE network mode", () => {
  const pod = InspectpOutput.parse(json("crictl_inspectp_pod_network.json"));
  assertEquals(pod.status.id, WEB_POD);
  assertEquals(pod.status.network?.ip, "10.77.1.2");
  assertEquals(pod.status.linux?.namespaces?.options?.network, "POD");
  assertEquals(pod.status.state, "SANDBOX_READY");
  const host = InspectpOutput.parse(json("crictl_inspectp_host_network.json"));
  assertEquals(host.status.id, HOST_POD);
  assertEquals(host.status.network?.ip, "");
  assertEquals(host.status.linux?.namespaces?.options?.network, "NODE");
});

Deno.test("containerd answers make the same ContainerInfo a CRI-O node gives", () => {
  const ps = PsOutput.parse(json("crictl_ps.json"));
  const inspect = InspectOutput.parse(json("crictl_inspect.json"));
  const pod = InspectpOutput.parse(json("crictl_inspectp_pod_network.json"));
  const app = ps.containers.find((c) => c.id === APP)!;
  assertEquals(containerInfoOf(app, inspect, pod, 53700), {
    id: APP,
    sandboxId: WEB_POD,
    name: "app",
    podName: "web",
    namespace: "default",
    podUid: "800507a1-d7eb-4cf2-b7e7-9b994c69cf8d",
    pid: 31277,
    imageRef: IMAGE,
    network: "POD",
    podIp: "10.77.1.2",
    podIps: ["10.77.1.2"], // containerd lists no additionalIps on a single-stack pod
    coveragePort: 53700,
  });
  const hostCt = ps.containers.find((c) => c.podSandboxId === HOST_POD)!;
  const host = InspectpOutput.parse(json("crictl_inspectp_host_network.json"));
  const info = containerInfoOf(hostCt, inspect, host, 53700)!;
  assertEquals([info.network, info.podIp, info.podName], ["NODE", "", "hostweb"]);
});

Deno.test("crictl inspect/inspectp with several IDs print one JSON array, in argument order", () => {
  // What batching (one run for several IDs) must parse; a single ID prints a bare object.
  const two = z.array(InspectOutput).parse(json("crictl_inspect_two_ids.json"));
  assertEquals(two.map((c) => c.status.id.slice(0, 12)), [APP.slice(0, 12), SIDE]);
  ok(two.every((c) => c.info.pid > 0));
  const pods = z.array(InspectpOutput).parse(json("crictl_inspectp_two_ids.json"));
  assertEquals(pods.map((p) => p.status.id), [WEB_POD, HOST_POD]);
  ok(!InspectOutput.safeParse(json("crictl_inspect_two_ids.json")).success);
});
