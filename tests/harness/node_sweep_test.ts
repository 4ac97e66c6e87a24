import assert from "node:assert/strict";
import { join } from "node:path";
import { covserverBinary, hasGo, repoRoot } from "./gobuild.ts";
import { canSimulateNode, SimNode } from "./node.ts";

const noNode = !(await hasGo()) || !(await canSimulateNode());

Deno.test({
  name: "SimNode.sweep: cleans what a crashed process left (netns, veth, cgroups, processes)" +
    (noNode ? " (skipped: needs root, ip netns, unshare, setsid, cgroups, Go)" : ""),
  ignore: noNode,
  async fn() {
    const bin = await covserverBinary("simcrash");
    const dir = await Deno.makeTempDir({ prefix: "ccsim-sweeptest-" });
    try {
      // A process that builds a node, starts a container and dies without close().
      const script = join(dir, "crash.ts");
      await Deno.writeTextFile(
        script,
        `import { SimNode } from ${JSON.stringify(join(repoRoot, "tests/harness/node.ts"))};
const node = await SimNode.create();
const pod = await node.addPod({ name: "p", namespace: "n" });
const c = await pod.addContainer({ name: "c", command: ${JSON.stringify(bin)} });
await c.waitLine(/app-port/);
console.log(JSON.stringify({ runId: node.runId, pid: c.hostPid }));
throw new Error("simulated crash");
`,
      );
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--no-prompt", script],
        cwd: repoRoot,
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(out.success, false, "the script crashed");
      const line = new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "";
      const { runId } = JSON.parse(line) as { runId: string; pid: number };
      const before = await SimNode.leftovers();
      assert.ok(before.netns.some((n) => n.startsWith(`ccsim-${runId}`)), "the crash left a netns");

      assert.ok((await SimNode.sweep()).includes(runId));
      const after = await SimNode.leftovers();
      const mine = (xs: string[]) => xs.filter((x) => x.includes(`ccsim-${runId}`));
      assert.deepEqual([mine(after.netns), mine(after.links), mine(after.cgroups)], [[], [], []]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
