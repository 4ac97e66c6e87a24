/**
 * The real node harness itself: while it runs, its containerd, shims, bridge, cgroups and run dir
 * are there (so `leftovers()` can see them); after close() none is, and the host never got a
 * /run/containerd or /var/lib/cni of ours.
 */

import assert from "node:assert/strict";
import { pathExists } from "../harness/hostfs.ts";
import { RealNode } from "../harness/realnode/realnode.ts";
import { REAL_PORT, realCrictl, realSkipReason, realTest } from "./real_run.ts";

const skip = await realSkipReason();

realTest(
  "real node: what it makes is seen while it runs and gone after close()",
  skip,
  async () => {
    const hostHad = [pathExists("/run/containerd"), pathExists("/var/lib/cni")];
    const node = await RealNode.create({ crictl: await realCrictl() });
    try {
      const pod = await node.runPod({ name: "web", namespace: "harness" });
      const c = await node.startContainer(pod, { name: "app", coveragePort: REAL_PORT });
      const during = await node.leftovers();
      assert.ok(during.processes.length >= 2, `containerd and a shim: ${during.processes}`);
      assert.deepEqual(during.links, [node.bridge]);
      assert.ok(during.cgroups.length > 0, "the pod cgroups");
      assert.ok(during.paths.includes(node.paths.dir));
      // The shim sockets and libcni's cache went to the overlays in the run dir, not the host.
      assert.deepEqual([pathExists("/run/containerd"), pathExists("/var/lib/cni")], hostHad);
      const ctrCgroup = await Deno.readTextFile(`/proc/${c.pid}/cgroup`);
      assert.ok(ctrCgroup.includes(`${node.cgroupParent}/pod-${pod.uid}/${c.id}`), ctrCgroup);
    } finally {
      await node.close();
    }
    assert.deepEqual(await node.leftovers(), { processes: [], links: [], cgroups: [], paths: [] });
  },
);
