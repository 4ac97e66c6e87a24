import assert from "node:assert/strict";
import { z } from "zod";
import { hasGo } from "./gobuild.ts";
import { FakePodSchema } from "./kubepod.ts";
import { canSimulateNode } from "./node.ts";
import { allServers, buildScenario } from "./scenario.ts";

const skip = !(await hasGo()) || !(await canSimulateNode());

const PodList = z.object({ items: z.array(FakePodSchema) });

Deno.test({
  name: "scenario: pods of coverage servers, kube list in sync, flags, clean close" +
    (skip ? " (skipped: needs root, netns, cgroups, Go)" : ""),
  ignore: skip,
  async fn() {
    const sc = await buildScenario({ pods: 2, serversPerPod: 2, hostNetworkEvery: 2, kube: true });
    try {
      assert.equal(allServers(sc).length, 4);
      const [podNet, hostNet] = sc.pods;
      assert.match(podNet.pod.ip, /^10\.244\.\d+\.\d+$/);
      assert.equal(hostNet.pod.hostNetwork, true);
      // Two servers in one netns take two ports of the range.
      const ports = podNet.servers.map((s) => s.coveragePort).sort();
      assert.deepEqual(ports, [53700, 53701]);
      const res = await fetch(`http://${podNet.pod.ip}:${ports[0]}/coverage`, { method: "HEAD" });
      await res.body?.cancel();
      assert.equal(res.headers.get("x-art-coverage-binary"), "covserver");

      const list = async () =>
        PodList.parse(await (await fetch(`${sc.kube!.controlUrl}/pods`)).json()).items;
      const items = await list();
      assert.deepEqual(
        items.map((p) => p.metadata.uid).sort(),
        sc.pods.map((p) => p.pod.uid).sort(),
      );
      const first = items.find((p) => p.metadata.name === podNet.pod.name)!;
      assert.equal(first.spec.nodeName, sc.node.name);
      assert.equal(first.status.podIP, podNet.pod.ip);
      assert.deepEqual(
        first.status.containerStatuses.map((c) => c.containerID),
        podNet.servers.map((s) => `cri-o://${s.container.id}`),
      );
      assert.ok(sc.collectorArgs.includes(sc.node.crictlPath));
      assert.ok(sc.collectorArgs.includes(sc.kube!.kubeconfigPath));

      const added = await sc.addPod({ servers: 1 });
      assert.equal((await list()).length, 3);
      await sc.deletePod(added, { graceMs: 0 });
      assert.equal((await list()).length, 2);
      assert.equal(sc.pods.length, 2);
    } finally {
      await sc.close();
    }
    assert.deepEqual(await sc.node.leftovers(), { netns: [], links: [], cgroups: [] });
  },
});
