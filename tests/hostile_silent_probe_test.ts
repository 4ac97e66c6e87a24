/**
 * Discovery beside sockets that accept and never answer: 300 silent listeners on loopback and a
 * real -cover server listed after them. The real server is found in the first scan, which does
 * not wait out the silent sockets' probe timeouts.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import type { Deps } from "../src/deps.ts";
import { loadConfig } from "../src/config.ts";
import { Engine } from "../src/engine/engine.ts";
import type { CollectorHandle } from "../src/engine/stages.ts";
import { Health } from "../src/health.ts";
import { silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { probe } from "../src/probe/probe.ts";
import { createSystem } from "../src/system.ts";
import type { Target } from "../src/target.ts";
import { collectorStatus } from "./doubles/collector_status.ts";
import { hasGo } from "./harness/gobuild.ts";
import { startCovserver } from "./harness/covserver.ts";
import { hostCandidate, startSilent } from "./harness/hostile_listeners.ts";

const noGo = !(await hasGo());

Deno.test({
  name: "300 silent sockets beside a real server: it is found in the first scan, which does not " +
    "wait out their probe timeouts",
  ignore: noGo,
  sanitizeResources: false, // fetch keeps pooled connections
  sanitizeOps: false,
  async fn() {
    const silent = startSilent(300);
    try {
      await using good = await startCovserver({ name: "good-app" });
      // A probe timeout far beyond what a scan may take: a scan that waits for silent sockets'
      // timeouts cannot end before the guard below (which only stops a scan that would hang).
      const probeTimeout = 30_000;
      const deps: Deps = {
        config: loadConfig({ "probe-timeout": "30s", "scan-interval": "1h" }, {}),
        log: silentLogger,
        metrics: new Metrics(),
        health: new Health(),
        system: createSystem("/"),
      };
      const candidates = [
        ...silent.map((s, i) => hostCandidate(s.port, 1000 + i)),
        hostCandidate(good.coveragePort, 1),
      ];
      const started: string[] = [];
      const engine = new Engine(deps, {
        scan: () => Promise.resolve({ candidates, containers: [], crictlOk: true }),
        // (main gave no timeout: the setting then)
        probe: (c, signal, timeoutMs) => probe(c, { timeoutMs: timeoutMs ?? probeTimeout, signal }),
        attribute: () => Promise.resolve(good.pid),
        collector: (t: Target): CollectorHandle => {
          started.push(t.identity.binary);
          return {
            run: () => Promise.resolve("stopped"),
            pullNow: () => Promise.resolve({ stored: true }),
            status: () => collectorStatus(),
          };
        },
      });
      const guard = AbortSignal.timeout(probeTimeout);
      const found = await engine.scanOnce(guard);
      assertEquals(guard.aborted, false, "the first scan waited out the silent sockets' timeouts");
      assertEquals(found.map((t) => [t.port, t.identity.binary]), [[
        good.coveragePort,
        "good-app",
      ]]);
      const status = engine.status() as { scans: number; lastScan: { carried: number } };
      assertEquals(status.scans, 1);
      ok(silent.some((s) => s.accepted > 0), "the silent sockets were probed");
      // Every silent socket had its short first probe; each gets a full one at the next scan.
      assertEquals(status.lastScan.carried, 300);
    } finally {
      await Promise.all(silent.map((s) => s.close()));
    }
  },
});
