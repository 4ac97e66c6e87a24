/**
 * The daemon on a real node: it stores a pod container's coverage as it runs, and after the
 * container restarts (same pod, new container ID and PID, as the kubelet does it) it collects the
 * new one under its new ID, with the old prefix kept as it was.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { assertRoutes, byPrefix, eventually, filesUnder } from "../e2e/e2e_util.ts";
import { hitRoute, REAL_PORT, realTestOnEach, withRealNode } from "./real_run.ts";

/** The stored prefix whose info.json names container `id`, once it shows `ran` covered. */
function storedFor(out: string, id: string, ran: string[]): Promise<string> {
  return eventually(`a prefix of container ${id.slice(0, 12)} covering ${ran}`, async () => {
    for (const prefix of byPrefix(await filesUnder(out)).keys()) {
      const info = JSON.parse(await Deno.readTextFile(join(out, prefix, "info.json")));
      if (info.containerId !== id) continue;
      await assertRoutes(join(out, prefix), ran, prefix);
      return prefix;
    }
    return undefined;
  }, 60_000);
}

await realTestOnEach(
  "run on a real node collects a restarted container under its new container ID and PID",
  (runtime) =>
    withRealNode("daemon", async (r) => {
      const { node } = r;
      const pod = await node.runPod({ name: "web", namespace: "real-b" });
      const spec = {
        name: "app",
        coveragePort: REAL_PORT,
        env: { FIXTURE_BINARY_NAME: "real-restart" },
      };
      const first = await node.startContainer(pod, spec);
      await hitRoute(first, "alpha", 1, node);
      const c = await r.collector("run");
      const before = await storedFor(r.out, first.id, ["alpha"])
        .catch((e) => assert.fail(`${e}\n${c.lines.slice(-30).join("\n")}`));

      const second = await node.restartContainer(first, spec);
      assert.notEqual(second.id, first.id);
      assert.notEqual(second.pid, first.pid);
      assert.equal(second.attempt, 1);
      await hitRoute(second, "beta", 1, node);
      const after = await storedFor(r.out, second.id, ["beta"])
        .catch((e) => assert.fail(`${e}\n${c.lines.slice(-30).join("\n")}`));
      assert.notEqual(after, before);
      const info = JSON.parse(await Deno.readTextFile(join(r.out, after, "info.json")));
      assert.equal(info.hostPid, second.pid);
      assert.equal(info.pod, "web");
      assert.equal(info.container, "app");
      // The first container's data stays where it was, alpha only.
      await assertRoutes(join(r.out, before), ["alpha"], before);
    }, runtime),
);
