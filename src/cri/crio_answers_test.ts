/**
 * Recorded answers of the real crictl v1.37.0 against CRI-O v1.34.0 (tests/testdata/crio/,
 * recorded by tests/realnode/record_crio.ts on the real-node tier's CRI-O node): they parse into
 * the same shapes as containerd's (containerd_answers_test.ts), with CRI-O's own differences —
 * imageRef is a repo digest, a sandbox has no pid unless a real infra container runs (shared PID
 * namespace), every sandbox is labelled as container "POD".
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { z } from "zod";
import { containerInfoOf } from "../discover/containers.ts";
import { InspectOutput, InspectpOutput, PsOutput } from "./schemas.ts";

const DATA = new URL("../../tests/testdata/crio/", import.meta.url);
const json = (name: string): unknown => JSON.parse(Deno.readTextFileSync(new URL(name, DATA)));

const APP = "9f2c0ccf62e91abc4cf1e0b9f8a30c11260434ef8dcae7fb16410143ce9a5450";
const SIDE = "5b64d1f9baac864ab52ac32def8f764c9bbf1bd4410c4caaadf12d51a74824e9";
const WEB_POD = "93dbe55ab989be9636aff3f7c4f918805728909cfda06b2e1cd4adddc35a57a8";
const HOST_POD = "cd9dc75c8d35ba1f5d2ee8a703c36bb2b4753314e946d2829d94dd3d69a0a3e5";
const SHARED_POD = "f12f1280084e30525a0bc9ade33ec995885fdf6999f7f2a9a8d332bb8cc3560a";
const IMAGE =
  "docker.io/ccpeers/covserver@sha256:435f9ea07ae0dbd0cd63015171a0e671fb59258472fe07b177a6c2208ffd236b";

Deno.test("crio ps: every running container, kubelet labels, a repo-digest imageRef", () => {
  const ps = PsOutput.parse(json("crictl_ps.json"));
  assertEquals(ps.containers.length, 4);
  const app = ps.containers.find((c) => c.id === APP)!;
  assertEquals(app.podSandboxId, WEB_POD);
  assertEquals(app.state, "CONTAINER_RUNNING");
  // CRI-O's imageRef is repo@digest of the manifest (containerd's: sha256:<config digest>).
  assertEquals(app.imageRef, IMAGE);
  assertEquals(app.labels["io.kubernetes.pod.name"], "web");
  assertEquals(app.labels["io.kubernetes.container.name"], "app");
});

Deno.test("crio inspect: info.pid is the node's PID and info.sandboxID the pod", () => {
  const inspect = InspectOutput.parse(json("crictl_inspect.json"));
  assertEquals(inspect.status.id, APP);
  assertEquals(inspect.info.pid, 172);
  assertEquals(inspect.info.sandboxID, WEB_POD);
  assertEquals(inspect.status.imageRef, IMAGE);
});

Deno.test("crio inspectp: no sandbox pid by default; a real infra container's with a shared PID namespace", () => {
  const pod = InspectpOutput.parse(json("crictl_inspectp_pod_network.json"));
  assertEquals(pod.status.id, WEB_POD);
  assertEquals(pod.status.network?.ip, "10.77.2.2");
  assertEquals(pod.status.linux?.namespaces?.options?.network, "POD");
  assertEquals(pod.status.labels["io.kubernetes.container.name"], "POD");
  const raw = json("crictl_inspectp_pod_network.json") as { info: Record<string, unknown> };
  assertEquals(Object.keys(raw.info), ["runtimeSpec"]); // drop_infra_ctr: no pause process
  const host = InspectpOutput.parse(json("crictl_inspectp_host_network.json"));
  assertEquals(host.status.id, HOST_POD);
  assertEquals(host.status.network?.ip, "");
  assertEquals(host.status.linux?.namespaces?.options?.network, "NODE");
  const shared = json("crictl_inspectp_shared_pid.json") as {
    info: { pid: number; image: string };
    status: { linux: { namespaces: { options: { pid: string } } } };
  };
  assertEquals(InspectpOutput.parse(shared).status.id, SHARED_POD);
  assertEquals(shared.status.linux.namespaces.options.pid, "POD");
  ok(shared.info.pid > 0);
  assertEquals(shared.info.image, "docker.io/ccpeers/pause:1");
});

Deno.test("crio answers make the ContainerInfo containerd's make, with CRI-O's imageRef", () => {
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
    podUid: "75330cac-74d4-4e64-86d0-794cd123dfb5",
    pid: 172,
    imageRef: IMAGE,
    network: "POD",
    podIp: "10.77.2.2",
    podIps: ["10.77.2.2"],
    coveragePort: 53700,
  });
  const hostCt = ps.containers.find((c) => c.podSandboxId === HOST_POD)!;
  const host = InspectpOutput.parse(json("crictl_inspectp_host_network.json"));
  const info = containerInfoOf(hostCt, inspect, host, 53700)!;
  assertEquals([info.network, info.podIp, info.podName], ["NODE", "", "hostweb"]);
});

Deno.test("crio inspect/inspectp with several IDs print one JSON array, in argument order", () => {
  const two = z.array(InspectOutput).parse(json("crictl_inspect_two_ids.json"));
  assertEquals(two.map((d) => d.status.id), [APP, SIDE]);
  const pods = z.array(InspectpOutput).parse(json("crictl_inspectp_two_ids.json"));
  assertEquals(pods.map((d) => d.status.id), [WEB_POD, HOST_POD]);
});
