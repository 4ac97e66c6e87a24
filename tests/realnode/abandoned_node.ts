/**
 * For realnode_sweep_test.ts: starts a RealNode with one running container, prints
 * `ready <runId> <runDir> <containerPid>` and waits to be killed (as a crashed test run would be).
 * Usage: deno run -A tests/realnode/abandoned_node.ts <crictl>
 */

import { RealNode } from "../harness/realnode/realnode.ts";

const node = await RealNode.create({ crictl: Deno.args[0] });
const pod = await node.runPod({ name: "abandoned", namespace: "sweep" });
const c = await node.startContainer(pod, { name: "app", coveragePort: 57400 });
console.log(`ready ${node.runId} ${node.paths.dir} ${c.pid}`);
await new Promise(() => {}); // until SIGKILL
