/**
 * `coverage-collector once` end to end on a simulated node: a pod-network pod, a hostNetwork pod
 * whose server is a wrapper's child, a pod with COVERAGE_PORT moved and two servers, and a host
 * process; each server runs different app routes, and `go tool covdata` judges what was stored.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  assertRoutes,
  e2eSkipReason,
  e2eTest,
  exercise,
  reportedPid,
  startServer,
} from "./e2e_util.ts";
import { assertOnceOk, assertStored, expectHost, expectPod, runOnce, withNode } from "./e2e_run.ts";

const skip = await e2eSkipReason();
const PORT = 56100;
const MOVED = 56300;
const IMG = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

e2eTest(
  "once stores every server of a node under its layout prefix, readable by covdata",
  skip,
  () =>
    withNode("e2e-once", async (r) => {
      const { node } = r;
      const ns = "e2e-a";
      const podNet = await node.addPod({ name: "web", namespace: ns });
      const hostNet = await node.addPod({ name: "agent", namespace: ns, hostNetwork: true });
      const moved = await node.addPod({ name: "pair", namespace: ns });
      const img = (n: string) => `quay.io/e2e/${n}@${IMG}`;
      const web = await startServer({ pod: podNet, container: "app", imageRef: img("web") }, {
        binary: "web-srv",
        env: { COVERAGE_PORT: String(PORT) },
      });
      const wrapped = await startServer(
        { pod: hostNet, container: "agent", imageRef: img("agent") },
        { binary: "wrapped-srv", env: { COVERAGE_PORT: String(PORT), FIXTURE_MODE: "wrapper" } },
      );
      const one = await startServer({ pod: moved, container: "one", imageRef: img("one") }, {
        binary: "moved-one",
        env: { COVERAGE_PORT: String(MOVED) },
      });
      const two = await startServer({ pod: moved, container: "two", imageRef: img("two") }, {
        binary: "moved-two",
        env: { COVERAGE_PORT: String(MOVED) },
      });
      const host = await startServer({ host: node }, {
        binary: "host-srv",
        env: { COVERAGE_PORT: String(PORT) },
      });
      // The wrapper is PID 1 of its container; its child serves.
      assert.notEqual(await reportedPid(wrapped), 1);
      assert.equal(await reportedPid(web), 1);
      assert.deepEqual([one.coveragePort, two.coveragePort].sort(), [MOVED, MOVED + 1]);

      await exercise(web, "alpha", 3);
      await exercise(wrapped, "beta", 2);
      await exercise(one, "gamma", 1);
      await exercise(two, "alpha", 1);
      await exercise(two, "beta", 1);
      await exercise(host, "gamma", 2);

      const run = await runOnce(r, PORT);
      assertOnceOk(run, 5);

      const expected = [
        await expectPod(web, `${ns}/web/app`, img("web"), 1),
        await expectPod(wrapped, `${ns}/agent/agent`, img("agent")),
        await expectPod(one, `${ns}/pair/one`, img("one"), 1),
        await expectPod(two, `${ns}/pair/two`, img("two"), 1),
        expectHost(host),
      ];
      assert.equal(run.prefixes.size, expected.length, run.why);
      const ran: Record<string, string[]> = {
        "web-srv": ["alpha"],
        "wrapped-srv": ["beta"],
        "moved-one": ["gamma"],
        "moved-two": ["alpha", "beta"],
        [host.binary]: ["gamma"],
      };
      for (const e of expected) {
        const prefix = await assertStored(run, e);
        await assertRoutes(join(run.out, prefix), ran[e.server.binary], prefix);
      }
    }),
);
