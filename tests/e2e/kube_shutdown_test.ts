/**
 * SIGTERM to the daemon with the pod watch open against the fake API server: the final pull is
 * stored and the process exits 0 without waiting for its (long) shutdown deadline; the same when
 * no server is left. tests/realnode/real_kube_shutdown_test.ts does the same against a real
 * kube-apiserver, which ends its streams less politely than a fake might.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { assertRoutes, e2eSkipReason, e2eTest, eventually, exercise } from "./e2e_util.ts";
import { asE2e, awaitStored, type KubeDaemon, logField, withKubeDaemon } from "./kube_util.ts";
import { churn, GC_OFTEN, LONG_SHUTDOWN, stopCleanly } from "./clean_stop.ts";

const skip = await e2eSkipReason();
const PORT = 57800;
/** Upper bound of every wait (never a synchronisation sleep). */
const LIMIT = 20_000;
const FLAGS = [
  "--scan-interval",
  "1h",
  "--pull-schedule",
  "1h",
  "--shutdown-timeout",
  LONG_SHUTDOWN,
];

/** Waits until /status shows the pod watch connected. */
function watching(d: KubeDaemon): Promise<unknown> {
  return eventually("pod watch connected", async () => {
    const s = await d.status();
    return (s.kube as { watch?: string }).watch === "connected" ? s : undefined;
  }, LIMIT).catch((e) => assert.fail(`${e}\n${d.tail()}`));
}

e2eTest(
  "run with kube (fake API server): SIGTERM with the watch open stores the final pull and exits " +
    "0 without waiting for the shutdown deadline",
  skip,
  () =>
    withKubeDaemon({
      pods: 1,
      portStart: PORT,
      extra: FLAGS,
      env: GC_OFTEN,
      beforeStart: async (sc) => await exercise(await asE2e(sc.pods[0].servers[0]), "alpha"),
    }, async (d) => {
      const server = d.sc.pods[0].servers[0];
      const leaf = join(d.sc.outputDir, await awaitStored(d.sc.outputDir, server.keyPrefix, LIMIT));
      await watching(d);
      await d.sc.kube!.waitWatches(1);
      await churn(d.healthUrl);
      await exercise(await asE2e(server), "gamma");
      await stopCleanly(d.collector, "fake API server, one server");
      const line = d.collector.lines.find((l) =>
        /msg="final pull"/.test(l) && logField(l, "pod") === server.pod.name
      );
      assert.ok(line, `no final pull line:\n${d.tail()}`);
      assert.equal(logField(line, "stored"), "true", line);
      await assertRoutes(leaf, ["alpha", "gamma"], `${leaf} after SIGTERM`);
    }),
);

e2eTest(
  "run with kube (fake API server): SIGTERM with the watch open and no server left exits 0 " +
    "without waiting for the shutdown deadline",
  skip,
  () =>
    withKubeDaemon({ pods: 1, portStart: PORT, extra: FLAGS, env: GC_OFTEN }, async (d) => {
      const [entry] = d.sc.pods;
      await awaitStored(d.sc.outputDir, entry.servers[0].keyPrefix, LIMIT);
      await watching(d);
      await d.sc.deletePod(entry, { graceMs: 0 });
      await eventually("no target left in /status", async () => {
        const s = await d.status();
        const mine = s.engine.targets.filter((t) => t.namespace !== "_host_");
        return mine.every((t) => t.ended !== null) ? s : undefined;
      }, LIMIT).catch((e) => assert.fail(`${e}\n${d.tail()}`));
      await d.sc.kube!.waitWatches(1);
      await churn(d.healthUrl);
      await stopCleanly(d.collector, "fake API server, no server left");
    }),
);
