/**
 * The kube part and the engine together against the fake API server: a burst of pod deletions
 * of pods with no known coverage server costs at most two more scans (each scan is one
 * `crictl ps`), not one per pod.
 */

import assert from "node:assert/strict";
import type { Deps } from "../src/deps.ts";
import { Backoff } from "../src/backoff.ts";
import { loadConfig } from "../src/config.ts";
import { Engine } from "../src/engine/engine.ts";
import type { ScanFindings } from "../src/engine/stages.ts";
import { Health } from "../src/health.ts";
import { createKubePart } from "../src/kube/part.ts";
import { silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { createSystem } from "../src/system.ts";
import { hasGo } from "./harness/gobuild.ts";
import { startFakeKube } from "./harness/kubeapi.ts";

const PODS = 20;

/** Resolves once `pred()` holds, re-checked whenever `kick` is called (30 s cap). */
function waiter() {
  const waiting: Array<() => void> = [];
  return {
    kick: () => waiting.splice(0).forEach((w) => w()),
    async until(what: string, pred: () => boolean) {
      const deadline = AbortSignal.timeout(30_000);
      while (!pred()) {
        if (deadline.aborted) throw new Error(`timed out waiting for ${what}`);
        await new Promise<void>((r) => {
          waiting.push(r);
          deadline.addEventListener("abort", () => r(), { once: true });
        });
      }
    },
  };
}

Deno.test({
  name: "kube + engine: a burst of deletions of pods without a server costs at most 2 more scans",
  ignore: !(await hasGo()), // needs Go to build the fake API server
  async fn() {
    await using kube = await startFakeKube({ nodeName: "node-a" });
    for (let i = 0; i < PODS; i++) await kube.addPod({ namespace: "ns", name: `p${i}` });
    const config = loadConfig({ kubeconfig: kube.kubeconfigPath, "scan-interval": "1h" }, {});
    const deps: Deps = {
      config,
      log: silentLogger,
      metrics: new Metrics(),
      health: new Health(),
      system: createSystem("/"),
    };
    const w = waiter();
    let scans = 0; // each one a `crictl ps` on a node
    let gate: Promise<void> = Promise.resolve();
    const engine = new Engine(deps, {
      scan: async (): Promise<ScanFindings> => {
        scans++;
        w.kick();
        await gate;
        return { candidates: [], containers: [], crictlOk: true };
      },
      probe: () => Promise.reject(new Error("no candidates")),
      attribute: () => Promise.resolve(null),
      collector: () => {
        throw new Error("no servers");
      },
    });
    let finalsAsked = 0;
    const finals: Promise<unknown>[] = [];
    const part = createKubePart(deps, {
      triggerScan: (reason) => engine.triggerScan(reason),
      finalPull: (uid, reason) => {
        finalsAsked++;
        const p = engine.finalPull(uid, reason);
        finals.push(p);
        w.kick();
        return p.then(() => {});
      },
      setNodeName: () => {},
    }, {
      backoff: () => new Backoff({ initialMs: 20, maxMs: 200 }),
      selfCmdline: () => Promise.resolve(new Uint8Array()),
      watcher: { backoff: new Backoff({ initialMs: 20, maxMs: 200 }) },
    });
    const ac = new AbortController();
    const running = [engine.run(ac.signal), part.run(ac.signal)];
    try {
      await kube.waitWatches(1);
      // a scan under way (held) while every pod is deleted
      const held = Promise.withResolvers<void>();
      gate = held.promise;
      const before = scans;
      engine.triggerScan("held");
      await w.until("the held scan", () => scans > before);
      const heldAt = scans;
      for (let i = 0; i < PODS; i++) await kube.deletePod("ns", `p${i}`);
      await w.until("every final pull asked", () => finalsAsked === PODS);
      gate = Promise.resolve();
      held.resolve();
      await Promise.all(finals);
      assert.ok(scans - heldAt <= 2, `${scans - heldAt} more scans for ${PODS} deletions`);
    } finally {
      ac.abort();
      await Promise.all(running);
    }
  },
});
