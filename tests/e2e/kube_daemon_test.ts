/**
 * The daemon (`run`) on a simulated node with a fake kube API server (client-certificate
 * kubeconfig, node name from SelfSubjectReview, dir sink): pods that come and go, the final pull
 * that a pod's deletion triggers, watch recovery after cut streams, and the final pull at SIGTERM.
 * Scans run only when something asks for one (--scan-interval 1h), so a new pod is found through
 * its watch event.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { assertRoutes, e2eSkipReason, e2eTest, eventually, exercise } from "./e2e_util.ts";
import {
  asE2e,
  awaitStored,
  type KubeDaemon,
  type KubeDaemonStatus,
  logField,
  podLogLine,
  startUnlisted,
  withKubeDaemon,
} from "./kube_util.ts";

const skip = await e2eSkipReason();
const PORT = 57000;
/** Upper bound of every wait (never a synchronisation sleep). */
const LIMIT = 20_000;

/** A test of the daemon on a kube scenario (coverage ports from PORT), run by `withKubeDaemon`. */
function kubeTest(
  name: string,
  o: Omit<Parameters<typeof withKubeDaemon>[0], "portStart">,
  body: (d: KubeDaemon) => Promise<void>,
): void {
  e2eTest(name, skip, () => withKubeDaemon({ ...o, portStart: PORT }, body));
}

/** Waits until /status shows the kube part in mode full; returns that status. */
function fullMode(d: KubeDaemon): Promise<KubeDaemonStatus> {
  return eventually("kube part in mode full", async () => {
    const s = await d.status();
    return s.kube.mode === "full" ? s : undefined;
  }, LIMIT);
}

/** Waits (polling its lines every 50 ms) for a log line matching `re` whose `pod` field is `pod`. */
async function waitPodLine(d: KubeDaemon, re: RegExp, pod: string): Promise<string> {
  const deadline = Date.now() + LIMIT;
  for (;;) {
    const line = podLogLine(d.collector.lines, re, pod);
    if (line) return line;
    if (Date.now() > deadline) {
      throw new Error(`no log line ${re} for pod ${pod} in ${LIMIT} ms:\n${d.tail()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Pod names of the container targets in /status (host servers of other runs left out). */
function podTargets(s: KubeDaemonStatus): string[] {
  return s.engine.targets.filter((t) => t.namespace !== "_host_").map((t) => t.pod).sort();
}

kubeTest(
  "run with kube: node name from SelfSubjectReview, a pod added is collected, a pod " +
    "removed ends its collector and leaves /status",
  {
    pods: 1,
    extra: ["--scan-interval", "1h"],
  },
  async (d) => {
    const out = d.sc.outputDir;
    const [first] = d.sc.pods;
    await awaitStored(out, first.servers[0].keyPrefix, LIMIT);
    const st = await fullMode(d);
    assert.equal(st.kube.nodeName, d.sc.node.name, `kube node name: ${JSON.stringify(st.kube)}`);
    assert.match(st.kube.identitySource ?? "", /selfsubjectreview/, "node name source");

    // A new pod: found through its watch event (no periodic scan in this run).
    const added = await d.sc.addPod({ name: "late" });
    const leaf = await awaitStored(out, added.servers[0].keyPrefix, LIMIT);
    const collecting = await waitPodLine(d, /msg=collecting/, "late");
    assert.equal(logField(collecting, "prefix"), leaf, collecting);
    const listed = await d.status();
    assert.deepEqual(
      podTargets(listed),
      [first.pod.name, "late"].sort(),
      `targets after the pod was added: ${JSON.stringify(listed.engine.targets)}`,
    );

    // The pod goes away: its collector ends and /status stops listing it.
    await d.sc.deletePod(added, { graceMs: 0 });
    const ended = await waitPodLine(d, /msg="collector ended"/, "late");
    assert.ok(logField(ended, "reason"), ended);
    await eventually("the removed pod gone from /status", async () => {
      const s = await d.status();
      return podTargets(s).includes("late") ? undefined : s;
    }, LIMIT).then((s) => {
      assert.deepEqual(podTargets(s), [first.pod.name]);
      const other = s.engine.targets.find((t) => t.pod === first.pod.name);
      assert.equal(other?.ended, null, "the other pod's collector runs on");
    }).catch((e) => assert.fail(`${e}\n${d.tail()}`));
  },
);

kubeTest(
  "run with kube: code run just before a deleting pod's container is killed is stored by " +
    "the final pull the deletion triggers",
  {
    pods: 2,
    // Only the first pull (at discovery) and the final pulls can store: the next scheduled
    // pull is 30 s away.
    extra: ["--scan-interval", "1h", "--pull-schedule", "30s"],
    beforeStart: async (sc) => {
      for (const p of sc.pods) await exercise(await asE2e(p.servers[0]), "alpha");
    },
  },
  async (d) => {
    // The victim's deletion is announced; the control's container dies unannounced.
    const [victim, control] = d.sc.pods.map((p) => p.servers[0]);
    const leaves: string[] = [];
    for (const s of [victim, control]) {
      const leaf = join(d.sc.outputDir, await awaitStored(d.sc.outputDir, s.keyPrefix, LIMIT));
      await assertRoutes(leaf, ["alpha"], `${leaf} before the deletion`);
      leaves.push(leaf);
    }

    // gamma runs; the deletion is announced; 200 ms later the containers are killed.
    for (const s of [victim, control]) await exercise(await asE2e(s), "gamma");
    const announced = performance.now();
    await d.sc.kube!.markDeleting(victim.pod.namespace, victim.pod.name, 30);
    const gap = 1000 - (performance.now() - announced);
    if (gap > 0) await new Promise((r) => setTimeout(r, gap));
    for (const s of [victim, control]) s.container.kill("SIGKILL");
    const killedAt = Date.now();
    await Promise.all([victim.container.exited, control.container.exited]);

    const kubeLine = await waitPodLine(d, /msg="pod going away: final pull"/, victim.pod.name);
    assert.equal(logField(kubeLine, "reason"), "pod deleting", kubeLine);
    const finalLine = await waitPodLine(d, /msg="final pull"/, victim.pod.name);
    assert.equal(logField(finalLine, "stored"), "true", `${finalLine}\n${d.tail()}`);
    const at = Date.parse(logField(finalLine, "ts") ?? "");
    assert.ok(at <= killedAt, `final pull at ${at} after the kill at ${killedAt}`);
    await assertRoutes(leaves[0], ["alpha", "gamma"], `${leaves[0]} after the deletion`);
    // Without the announcement nothing stored gamma: the schedule did not pull in between.
    await assertRoutes(leaves[1], ["alpha"], `${leaves[1]} (killed unannounced)`);
  },
);

kubeTest(
  "run with kube: after every watch stream is cut, a pod added is still collected and " +
    "/status counts the reconnect",
  {
    pods: 1,
    extra: ["--scan-interval", "1h"],
  },
  async (d) => {
    const { sc } = d;
    const kube = sc.kube!;
    await awaitStored(sc.outputDir, sc.pods[0].servers[0].keyPrefix, LIMIT);
    await kube.waitWatches(1);

    // The container runs before the API server knows the pod: only its event can find it.
    const u = await startUnlisted(sc, "after-drop", PORT);
    const dropped = await kube.dropStreams();
    assert.ok(dropped >= 1, `dropStreams cut ${dropped} watches`);
    // Announced while the collector's watch is down (or reconnecting).
    await u.announce();
    await awaitStored(sc.outputDir, u.keyPrefix, LIMIT).catch((e) =>
      assert.fail(`${e}\n${d.tail()}`)
    );
    const st = await eventually("a reconnect in /status", async () => {
      const s = await d.status();
      return s.kube.reconnects >= 1 ? s : undefined;
    }, LIMIT);
    assert.equal(st.kube.mode, "full", JSON.stringify(st.kube));
    assert.ok(st.engine.targets.some((t) => t.pod === u.pod.name), "after-drop in targets");

    // The resumed watch keeps delivering: a pod added now is found through its event too.
    await kube.waitWatches(1);
    const later = await sc.addPod({ name: "after-reconnect" });
    await awaitStored(sc.outputDir, later.servers[0].keyPrefix, LIMIT).catch((e) =>
      assert.fail(`${e}\n${d.tail()}`)
    );
  },
);

kubeTest(
  "run with kube: SIGTERM's final pull stores code run just before it, exit code 0",
  {
    pods: 1,
    extra: ["--scan-interval", "1h", "--pull-schedule", "30s"],
    beforeStart: async (sc) => await exercise(await asE2e(sc.pods[0].servers[0]), "alpha"),
  },
  async (d) => {
    const server = d.sc.pods[0].servers[0];
    const leaf = join(d.sc.outputDir, await awaitStored(d.sc.outputDir, server.keyPrefix, LIMIT));
    await assertRoutes(leaf, ["alpha"], `${leaf} before SIGTERM`);
    await exercise(await asE2e(server), "gamma");
    const status = await d.collector.stop("SIGTERM");
    assert.equal(status.code, 0, `exit code after SIGTERM:\n${d.tail()}`);
    const line = d.collector.lines.find((l) =>
      /msg="final pull"/.test(l) && logField(l, "pod") === server.pod.name
    );
    assert.ok(line, `no final pull line for ${server.pod.name}:\n${d.tail()}`);
    assert.equal(logField(line, "reason"), "shutdown", line);
    assert.equal(logField(line, "stored"), "true", line);
    await assertRoutes(leaf, ["alpha", "gamma"], `${leaf} after SIGTERM`);
  },
);

kubeTest(
  "run with kube: the final pull also stores a pod deleted right after it was listed " +
    "(never scanned before) and a force-deleted pod (DELETED, no deletionTimestamp)",
  {
    pods: 0,
    extra: ["--scan-interval", "1h", "--pull-schedule", "30s"],
  },
  async (d) => {
    const { sc } = d;
    const kube = sc.kube!;
    await fullMode(d);
    await kube.waitWatches(1);
    const forced = await startUnlisted(sc, "forced", PORT);
    await forced.announce();
    await awaitStored(sc.outputDir, forced.keyPrefix, LIMIT);
    // Started after the last scan: nothing has seen it before its pod is listed.
    const quick = await startUnlisted(sc, "quick", PORT);
    await exercise(quick.server, "alpha");
    await exercise(forced.server, "beta");

    // quick: listed, then at once marked deleting; forced: removed without a deletionTimestamp.
    // forced is known, so it gets the 1 s of the deletion test; quick is found by the final
    // pull's own scan first (160-360 ms measured on 2 cores), so it gets 2 s.
    const announced = performance.now();
    const after = (ms: number) =>
      new Promise((r) => setTimeout(r, Math.max(0, ms - (performance.now() - announced))));
    await quick.announce();
    await kube.markDeleting("ccsim", "quick", 30);
    await kube.deletePod("ccsim", "forced");
    await after(1000);
    forced.container.kill("SIGKILL");
    await after(2000);
    quick.container.kill("SIGKILL");
    await Promise.all([quick.container.exited, forced.container.exited]);

    const reasons = { quick: "pod deleting", forced: "pod deleted" };
    for (const [pod, reason] of Object.entries(reasons)) {
      const line = await waitPodLine(d, /msg="final pull"/, pod);
      assert.equal(logField(line, "reason"), reason, line);
      assert.equal(logField(line, "stored"), "true", `${line}\n${d.tail()}`);
    }
    const q = join(sc.outputDir, await awaitStored(sc.outputDir, quick.keyPrefix, LIMIT));
    await assertRoutes(q, ["alpha"], q);
    const f = join(sc.outputDir, await awaitStored(sc.outputDir, forced.keyPrefix, LIMIT));
    await assertRoutes(f, ["beta"], f);
  },
);
