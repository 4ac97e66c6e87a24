/**
 * The CRI-O node harness itself: while it runs, CRI-O, each container's conmon, its cgroups and
 * its run dir are there; its pods' network lives only inside the node (no link or address of it
 * on the host); after close() nothing is left and no host path CRI-O, skopeo or CNI would use by
 * default (/run/crio, /var/lib/containers, /etc/containers, /etc/cni, ...) changed.
 */

import assert from "node:assert/strict";
import { run } from "../harness/netns.ts";
import { HOST_PATHS, hostPathState } from "../harness/realnode/crionode.ts";
import { crioPeers, startCrio } from "../harness/realnode/crio_peers.ts";
import { REAL_PORT, realSkipReason, realTest } from "./real_run.ts";

const skip = (await realSkipReason()) ??
  (await crioPeers().then((p) => p.ok ? null : p.reason));

realTest(
  "crio node: runs in namespaces of its own, touches no host path, and leaves nothing",
  skip,
  async () => {
    const before = HOST_PATHS.map((p) => `${p}: ${hostPathState(p)}`);
    const hostAddrs = await run("ip", ["-o", "addr", "show"]);
    const node = await startCrio();
    try {
      const pod = await node.runPod({ name: "web", namespace: "harness" });
      const c = await node.startContainer(pod, { name: "app", coveragePort: REAL_PORT });
      assert.match(pod.ip, new RegExp(`^10\\.77\\.${node.lease.block}\\.\\d+$`));
      const during = await node.leftovers();
      assert.ok(during.processes.length >= 2, `crio and a conmon: ${during.processes}`);
      assert.deepEqual(during.links, [], "the bridge is inside the node, not on the host");
      assert.ok(during.cgroups.length > 0, "the pod cgroups");
      assert.deepEqual(during.paths, [node.paths.dir], "no host path changed while it runs");
      // The pod network exists inside the node only.
      assert.equal(await run("ip", ["-o", "addr", "show"]), hostAddrs);
      const inside = await run(
        node.inNode(["ip", "-o", "addr", "show"])[0],
        node.inNode(["ip", "-o", "addr", "show"]).slice(1),
      );
      assert.ok(inside.includes(`10.77.${node.lease.block}.1/24`), inside);
      // The app answers from inside the node.
      const res = await node.get(`${c.appUrl}/`);
      assert.ok(res.status > 0, `app answered ${res.status}`);
      // CRI-O's real shapes: the container's cgroup is crio-<id> under the pod's parent, its
      // parent process its own conmon.
      const hostPid = node.hostPidOf(c.pid);
      const cg = await Deno.readTextFile(`/proc/${hostPid}/cgroup`);
      assert.ok(cg.includes(`${node.cgroupParent}/pod${pod.uid}/crio-${c.id}`), cg);
      const stat = await Deno.readTextFile(`/proc/${hostPid}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      assert.match(await Deno.readTextFile(`/proc/${ppid}/comm`), /^conmon\n$/);
    } finally {
      await node.close();
    }
    assert.deepEqual(await node.leftovers(), { processes: [], links: [], cgroups: [], paths: [] });
    assert.deepEqual(HOST_PATHS.map((p) => `${p}: ${hostPathState(p)}`), before);
  },
);
