/**
 * The daemon (`run`) with the fake kube API server: a pod deleted (DELETED, no grace) while the
 * pod watch is down still gets its final pull once the watch resumes from its resourceVersion.
 * A watch resumed without the version would replay the pods that exist and never name this one.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { assertRoutes, e2eSkipReason, e2eTest, eventually, exercise } from "./e2e_util.ts";
import { asE2e, awaitStored, type KubeDaemon, logField, withKubeDaemon } from "./kube_util.ts";

const skip = await e2eSkipReason();
const PORT = 57200;
/** Upper bound of every wait (never a synchronisation sleep). */
const LIMIT = 20_000;

/** The first log line matching `re` whose `pod` field is `pod`, or undefined. */
function podLine(d: KubeDaemon, re: RegExp, pod: string): string | undefined {
  return d.collector.lines.find((l) => re.test(l) && logField(l, "pod") === pod);
}

e2eTest(
  "run with kube: a pod deleted while the watch is down gets its final pull when the watch " +
    "resumes",
  skip,
  () =>
    withKubeDaemon({
      pods: 1,
      portStart: PORT,
      // No periodic scan, and the next scheduled pull 30 s away: only the final pull can store
      // what runs after the first pull.
      extra: ["--scan-interval", "1h", "--pull-schedule", "30s"],
      beforeStart: async (sc) => await exercise(await asE2e(sc.pods[0].servers[0]), "alpha"),
    }, async (d) => {
      const { sc } = d;
      const kube = sc.kube!;
      const victim = sc.pods[0].servers[0];
      const leaf = join(sc.outputDir, await awaitStored(sc.outputDir, victim.keyPrefix, LIMIT));
      await assertRoutes(leaf, ["alpha"], `${leaf} before the deletion`);
      await kube.waitWatches(1);
      await exercise(await asE2e(victim), "gamma");

      // The watch goes down and stays down (every reconnect answered 503) while the pod is
      // deleted; then the API server answers again.
      await kube.fail503(1_000_000);
      assert.equal(await kube.dropStreams(), 1, "one watch cut");
      await eventually("a watch reconnect refused with 503", async () => {
        const reqs = await kube.requests();
        return reqs.some((r) => r.query.includes("watch=true") && r.status === 503)
          ? true
          : undefined;
      }, LIMIT);
      await kube.deletePod(victim.pod.namespace, victim.pod.name);
      await kube.fail503(0);

      // A pod added after the gap is found through its event: the watch has resumed, and every
      // event of the gap came before this one.
      const later = await sc.addPod({ name: "after-gap" });
      await awaitStored(sc.outputDir, later.servers[0].keyPrefix, LIMIT).catch((e) =>
        assert.fail(`${e}\n${d.tail()}`)
      );
      const going = podLine(d, /msg="pod going away: final pull"/, victim.pod.name);
      assert.ok(going, `no final pull asked for ${victim.pod.name}:\n${d.tail()}`);
      assert.equal(logField(going, "reason"), "pod deleted", going);
      const final = await eventually("the final pull's line", () =>
        Promise.resolve(podLine(d, /msg="final pull"/, victim.pod.name)), LIMIT)
        .catch((e) =>
          assert.fail(`${e}\n${d.tail()}`)
        );
      assert.equal(logField(final, "stored"), "true", `${final}\n${d.tail()}`);
      await assertRoutes(leaf, ["alpha", "gamma"], `${leaf} after the deletion`);
      const st = await d.status();
      assert.equal(st.kube.relists, 0, `resumed, not listed again: ${JSON.stringify(st.kube)}`);
    }),
);
