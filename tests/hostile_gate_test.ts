/**
 * The node-wide pull gate under hostile servers: liars announcing 60 MB and dripping a byte at a
 * time do not take a real server's pulls from it, and a final pull (pod deletion, shutdown) of a
 * real server is stored while they hold slots. Bounds are events (drips sent), never wall time.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { Collector } from "../src/collect/collector.ts";
import { PullGate } from "../src/collect/gate.ts";
import { parseSchedule } from "../src/units.ts";
import { SCHEDULE_REASON } from "../src/collect/store_rule.ts";
import { silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { createSystem } from "../src/system.ts";
import { hasGo } from "./harness/gobuild.ts";
import { startCovserver } from "./harness/covserver.ts";
import { covserverDirCollector } from "./harness/covserver_collector.ts";
import { MemorySink } from "./harness/covfiles.ts";
import { hostileTarget, startTrickler } from "./harness/hostile_listeners.ts";

const noGo = !(await hasGo());

/** A collector of a trickler, on `gate`, with `floor` (undefined: the default one). */
function tricklerCollector(port: number, gate: PullGate, floor?: null) {
  return new Collector(hostileTarget(port), {
    sink: new MemorySink(),
    system: createSystem("/"),
    log: silentLogger,
    metrics: new Metrics(),
    config: { pullSchedule: parseSchedule("200ms"), pullTimeout: 600_000, maxBody: 64 << 20 },
    hostname: "test-node",
    gate,
  }, { floor });
}

Deno.test({
  name: "16 servers announcing 60 MB and dripping a byte at a time do not hold the gate: a real " +
    "server gets its scheduled pulls while they hold their connections",
  ignore: noGo,
  sanitizeResources: false, // fetch keeps pooled connections
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "hostile-gate-" });
    const gate = new PullGate(8, 32 << 20); // the defaults of --max-pulls and --pull-memory
    // The bound of the test: one liar's connection held for 150 drips (15 s) means the gate let
    // it hold a slot far past the floor.
    let heldTooLong!: () => void;
    const tooLong = new Promise<"too long">((r) => heldTooLong = () => r("too long"));
    const tricklers = Array.from(
      { length: 16 },
      () => startTrickler({ dripMs: 100, onDrip: (n) => n >= 150 && heldTooLong() }),
    );
    const stop = new AbortController();
    const runs = tricklers.map((t) => tricklerCollector(t.port, gate).run(stop.signal));
    try {
      await using good = await startCovserver({ name: "good-app" });
      const { collector } = await covserverDirCollector(good, root, { gate, pullTimeout: 600_000 });
      const results: string[] = [];
      const hostileOpen: number[] = [];
      const pulls = (async () => {
        for (let i = 0; i < 6; i++) {
          const out = await collector.pullNow(SCHEDULE_REASON, stop.signal);
          results.push(out.error ? `${out.result}: ${out.error}` : out.result);
          hostileOpen.push(tricklers.reduce((n, t) => n + t.open, 0));
        }
        return "pulled" as const;
      })();
      const first = await Promise.race([pulls, tooLong]);
      assertEquals(first, "pulled", `a liar held its connection for 150 drips; good: ${results}`);
      assertEquals(results[0], "stored");
      ok(results.every((r) => r === "stored" || r === "unchanged"), results.join(", "));
      ok(hostileOpen.every((n) => n >= 1), `liars holding connections: ${hostileOpen}`);
      ok(tricklers.every((t) => t.accepted >= 1), "every liar was pulled");
    } finally {
      stop.abort();
      await Promise.all(runs);
      await Promise.all(tricklers.map((t) => t.close()));
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "a final pull of a real server is stored, not aborted, while liars that are never cut " +
    "hold every periodic slot (and its scheduled pull waiting for a slot goes first)",
  ignore: noGo,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "hostile-gate-" });
    const gate = new PullGate(8, 32 << 20);
    // The shutdown deadline of the test: a liar's connection held for 100 drips.
    const deadline = new AbortController();
    let holding = 0;
    let allHold!: () => void;
    const held = new Promise<void>((r) => allHold = r);
    const tricklers = Array.from({ length: 8 }, () =>
      startTrickler({
        dripMs: 100,
        onDrip: (n) => {
          if (n === 1 && ++holding === 6) allHold(); // six slots held: every periodic one here
          if (n >= 100) deadline.abort(new Error("shutdown deadline"));
        },
      }));
    const stop = new AbortController();
    // As the daemon does: past the deadline, the loops stop too.
    deadline.signal.addEventListener("abort", () => stop.abort(), { once: true });
    const hostile = tricklers.map((t) =>
      tricklerCollector(t.port, gate, null).pullNow(SCHEDULE_REASON, stop.signal)
    );
    try {
      await using good = await startCovserver({ name: "good-app" });
      const { collector } = await covserverDirCollector(good, root, { gate, pullTimeout: 600_000 });
      await held;
      const scheduled = collector.pullNow(SCHEDULE_REASON, stop.signal);
      const final = await collector.pullNow("shutdown", deadline.signal);
      assertEquals((await scheduled).result, "stored", (await scheduled).error);
      ok(
        final.result === "stored" || final.result === "unchanged",
        `${final.result} ${final.error}`,
      );
      ok(!deadline.signal.aborted, "stored before the deadline");
      assertEquals(tricklers.reduce((n, t) => n + t.open, 0) >= 6, true, "liars still held slots");
    } finally {
      stop.abort();
      deadline.abort();
      await Promise.all(hostile);
      await Promise.all(tricklers.map((t) => t.close()));
      await Deno.remove(root, { recursive: true });
    }
  },
});
