/**
 * For realnode_sweep_test.ts: starts a node (containerd, or CRI-O when the second argument is
 * `crio`) with one running container, prints `ready <runId> <runDir> <containerHostPid>` and
 * waits to be killed (as a crashed test run would be).
 * Usage: deno run -A tests/realnode/abandoned_node.ts <crictl> [containerd|crio]
 */

import { RealNode } from "../harness/realnode/realnode.ts";
import { startCrio } from "../harness/realnode/crio_peers.ts";

const node = Deno.args[1] === "crio"
  ? await startCrio()
  : await RealNode.create({ crictl: Deno.args[0] });
const pod = await node.runPod({ name: "abandoned", namespace: "sweep" });
const c = await node.startContainer(pod, { name: "app", coveragePort: 57400 });
console.log(`ready ${node.runId} ${node.paths.dir} ${node.hostPidOf(c.pid)}`);
await new Promise(() => {}); // until SIGKILL
