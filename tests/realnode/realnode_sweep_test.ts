/**
 * A test process that dies without close() leaves the runtime (containerd and its shims, or CRI-O
 * and its conmons), a container, the bridge (containerd's is on the host; CRI-O's only inside its
 * node), cgroups and its run dir; the next lease (sweepStaleRuns) removes all of it.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { repoRoot } from "../harness/gobuild.ts";
import { pathExists, pidRunning } from "../harness/hostfs.ts";
import { startUntilReady } from "../harness/process.ts";
import { cgroupMounts, pidsMentioning, sweepStaleRuns } from "../harness/realnode/sys.ts";
import { run } from "../harness/netns.ts";
import { realCrictl, realTestOnEach } from "./real_run.ts";

async function leftOf(runId: string, dir: string, ctrPid: number) {
  const links = await run("ip", ["-o", "link", "show"]);
  return {
    processes: pidsMentioning(dir).length > 0,
    container: pidRunning(ctrPid),
    bridge: links.includes(` ccp-${runId}:`),
    cgroups: cgroupMounts().some((m) => pathExists(`${m}/ccpeers-${runId}`)),
    dir: pathExists(dir),
  };
}

await realTestOnEach(
  "a real node abandoned by a killed test process is swept by the next run",
  async (runtime) => {
    const child = await startUntilReady({
      command: Deno.execPath(),
      args: [
        "run",
        "-A",
        join(repoRoot, "tests/realnode/abandoned_node.ts"),
        await realCrictl(),
        runtime,
      ],
      what: "abandoned_node.ts",
      waitingFor: "its ready line",
      timeoutMs: 120_000,
      onLine: (l) => l.startsWith("ready ") ? l.split(" ").slice(1) : undefined,
    });
    const [runId, dir, pid] = child.ready;
    await child.stop(0); // SIGTERM, SIGKILL at once: no close(), no unload hook
    const bridge = runtime === "containerd"; // CRI-O's is inside its node only
    const all = { processes: true, container: true, bridge, cgroups: true, dir: true };
    assert.deepEqual(await leftOf(runId, dir, Number(pid)), all, "what a crash leaves");
    assert.ok((await sweepStaleRuns()).includes(runId));
    const none = { processes: false, container: false, bridge: false, cgroups: false, dir: false };
    assert.deepEqual(await leftOf(runId, dir, Number(pid)), none, "after the sweep");
  },
);
