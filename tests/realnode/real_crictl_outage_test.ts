/**
 * crictl failing on a real node (the runtime restarting, say): the daemon keeps the last good
 * container view for each container whose PID still sits in the container's cgroup, so a
 * hostNetwork container's server stays filed under its container and is never taken for a host
 * process. On CRI-O with
 * the cgroupfs driver that cgroup is `crio-<id>` (no `.scope`): read wrong, every container was
 * dropped from the view and its server re-filed under `_host_`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { assertRoutes, byPrefix, eventually, filesUnder } from "../e2e/e2e_util.ts";
import { hitRoute, REAL_PORT, realTestOnEach, storedWhere, withRealNode } from "./real_run.ts";

await realTestOnEach(
  "run on a real node keeps a container's server under its container while crictl fails",
  (runtime) =>
    withRealNode("crictl-outage", async (r) => {
      const { node } = r;
      // hostNetwork: its socket is in the node's own table, where a host server would be.
      const pod = await node.runPod({ name: "agent", namespace: "real-o", hostNetwork: true });
      const ct = await node.startContainer(pod, {
        name: "app",
        coveragePort: REAL_PORT,
        env: { FIXTURE_BINARY_NAME: "real-outage" },
      });
      // crictl through a wrapper that fails once the flag file exists.
      const flag = join(r.dir, "crictl-down");
      const wrapper = join(r.dir, "crictl-flaky");
      await Deno.writeTextFile(
        wrapper,
        `#!/bin/sh\n[ -e '${flag}' ] && { echo "runtime down" >&2; exit 1; }\nexec '${node.crictl}' "$@"\n`,
        { mode: 0o755 },
      );
      await hitRoute(ct, "alpha", 1, node);
      const c = await r.collector("run", ["--crictl", wrapper, "--scan-interval", "1s"]);
      const { prefix } = await storedWhere(r.out, "containerId", ct.id, c);
      await Deno.writeTextFile(flag, "");
      await c.waitLine(/crictl failed; using the last good container view/);
      await hitRoute(ct, "beta", 1, node);
      // Pulled during the outage, still under its container.
      await eventually("beta stored under the container during the outage", async () => {
        try {
          await assertRoutes(join(r.out, prefix), ["alpha", "beta"], prefix);
          return true;
        } catch {
          return undefined;
        }
      }, 30_000).catch((e) => assert.fail(`${e}\n${c.lines.slice(-30).join("\n")}`));
      // No scan of the outage (one a second) filed the server under _host_.
      const hostPrefixes = [...byPrefix(await filesUnder(r.out)).keys()].filter((p) =>
        p.includes("/_host_/") && p.endsWith("/real-outage")
      );
      assert.deepEqual(hostPrefixes, [], c.lines.slice(-30).join("\n"));
    }, runtime),
);
