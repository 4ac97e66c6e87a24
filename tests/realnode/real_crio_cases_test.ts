/**
 * What CRI-O makes different, with the daemon on a real CRI-O node:
 * - a pod with one PID namespace (shareProcessNamespace): CRI-O runs a real infra container
 *   (inspectp info.pid set) and the server is not PID 1 of its namespace;
 * - a server in a grandchild of the container's first process, beside a sidecar in the same
 *   pod network (so the socket is found by the process tree, not by being the only container);
 * - a container whose process execs into a new binary (same PID, same start time, new identity):
 *   the old server's data stays as it was, the new one gets its own prefix.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { assertRoutes, eventually } from "../e2e/e2e_util.ts";
import { hitRoute, REAL_PORT, realTestOnEach, storedWhere, withRealNode } from "./real_run.ts";

await realTestOnEach(
  "run on a real CRI-O node: a shared PID namespace, a grandchild server, an exec into a new binary",
  (runtime) =>
    withRealNode("crio-cases", async (r) => {
      const { node } = r;
      // Shared PID namespace: a real infra container holds it.
      const shared = await node.runPod({ name: "shared", namespace: "real-c", sharedPid: true });
      const infra = JSON.parse(await node.crictlRun(["inspectp", shared.id]));
      assert.ok(Number(infra?.info?.pid) > 0, `infra container pid: ${JSON.stringify(infra.info)}`);
      const inShared = await node.startContainer(shared, {
        name: "app",
        coveragePort: REAL_PORT,
        env: { FIXTURE_BINARY_NAME: "real-shared" },
      });
      // A grandchild server beside a sidecar.
      const web = await node.runPod({ name: "nested", namespace: "real-c" });
      const nested = await node.startContainer(web, {
        name: "app",
        coveragePort: REAL_PORT,
        env: {
          FIXTURE_BINARY_NAME: "real-grandchild",
          FIXTURE_MODE: "wrapper",
          FIXTURE_WRAP_DEPTH: "2",
        },
      });
      const side = await node.startContainer(web, {
        name: "sidecar",
        coveragePort: REAL_PORT,
        env: { FIXTURE_BINARY_NAME: "real-nested-side" },
      });
      // The exec case: a fixed app port, so the new image answers where the old one did.
      const ex = await node.runPod({ name: "execer", namespace: "real-c" });
      const execer = await node.startContainer(ex, {
        name: "app",
        coveragePort: REAL_PORT,
        appPort: 18080,
        env: { FIXTURE_BINARY_NAME: "real-exec-a" },
      });

      await hitRoute(inShared, "alpha", 1, node);
      await hitRoute(nested, "beta", 1, node);
      await hitRoute(side, "gamma", 1, node);
      await hitRoute(execer, "alpha", 1, node);
      const c = await r.collector("run");

      const sharedAt = await storedWhere(r.out, "binary", "real-shared", c);
      assert.equal(sharedAt.info.containerId, inShared.id);
      assert.equal(sharedAt.info.hostPid, inShared.pid);
      assert.notEqual(sharedAt.info.pid, 1, "the infra container is PID 1 of the shared namespace");
      await assertRoutes(join(r.out, sharedAt.prefix), ["alpha"], sharedAt.prefix);

      const nestedAt = await storedWhere(r.out, "binary", "real-grandchild", c);
      assert.equal(
        nestedAt.info.containerId,
        nested.id,
        "filed under the container of its grandparent",
      );
      assert.equal(nestedAt.info.container, "app");
      assert.notEqual(nestedAt.info.hostPid, nested.pid, "the server is not the first process");
      await assertRoutes(join(r.out, nestedAt.prefix), ["beta"], nestedAt.prefix);
      const sideAt = await storedWhere(r.out, "binary", "real-nested-side", c);
      assert.equal(sideAt.info.containerId, side.id);
      await assertRoutes(join(r.out, sideAt.prefix), ["gamma"], sideAt.prefix);

      const before = await storedWhere(r.out, "binary", "real-exec-a", c);
      await assertRoutes(join(r.out, before.prefix), ["alpha"], before.prefix);
      const said = await node.get(`${execer.appUrl}/exec?name=real-exec-b`);
      assert.equal(said.status, 200, said.body);
      assert.match(said.body, /^exec \d+ as real-exec-b\n?$/);
      await eventually("the exec'd binary answers", async () => {
        const res = await node.get(`${execer.appUrl}/run/beta?n=2`).catch(() => null);
        return res?.status === 200 ? true : undefined;
      });
      const after = await storedWhere(r.out, "binary", "real-exec-b", c);
      assert.notEqual(after.prefix, before.prefix);
      assert.equal(after.info.containerId, execer.id);
      assert.equal(after.info.hostPid, execer.pid, "same PID after the exec");
      await assertRoutes(join(r.out, after.prefix), ["beta"], after.prefix);
      // The old server's data is whole: still alpha only, nothing of the new image in it.
      await assertRoutes(join(r.out, before.prefix), ["alpha"], before.prefix);
    }, runtime),
  ["crio"],
);
