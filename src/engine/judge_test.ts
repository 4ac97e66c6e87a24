import assert from "node:assert/strict";
import type { Deps } from "../deps.ts";
import { loadConfig } from "../config.ts";
import { collectorStatus } from "../../tests/doubles/collector_status.ts";
import { Engine } from "./engine.ts";
import type { CollectorHandle, Stages } from "./stages.ts";
import { Health } from "../health.ts";
import { silentLogger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import type { ProbeResult } from "../probe/probe.ts";
import { createSystem } from "../system.ts";
import type { Candidate } from "../target.ts";

const REAL = 53700;

/**
 * An engine over `silent` host candidates that answer no probe (each ends at its own timeout,
 * as a real probe of a socket that accepts and stays silent), then the real server's.
 */
function silentNode(silent: number) {
  const clock = { now: 1_000_000 };
  const deps: Deps = {
    config: loadConfig({ "scan-interval": "1h", "probe-timeout": "1s" }, {}), // budget 2 s
    log: silentLogger,
    metrics: new Metrics(),
    health: new Health(),
    system: { ...createSystem("/"), now: () => clock.now, monotonic: () => clock.now },
  };
  const cand = (port: number): Candidate => ({
    owner: { kind: "host" },
    host: "127.0.0.1",
    port,
    inode: port,
    pids: [100],
  });
  const candidates = [...Array.from({ length: silent }, (_, i) => cand(20000 + i)), cand(REAL)];
  const timeouts: number[] = [];
  const parts: Stages = {
    scan: () => Promise.resolve({ candidates, containers: [], crictlOk: true }),
    probe: (c, signal, timeoutMs): Promise<ProbeResult> => {
      if (c.port === REAL) {
        return Promise.resolve({
          kind: "coverage",
          identity: { binary: "app", pid: 1, extra: {} },
        });
      }
      timeouts.push(timeoutMs);
      return new Promise((resolve) => {
        const end = () => resolve({ kind: "error", error: "no answer", timedOut: true });
        const t = setTimeout(end, timeoutMs);
        signal.addEventListener("abort", () => (clearTimeout(t), end()), { once: true });
      });
    },
    attribute: () => Promise.resolve(4242),
    collector: (): CollectorHandle => ({
      run: () => Promise.resolve("stopped"),
      pullNow: () => Promise.resolve({ stored: true }),
      status: () => collectorStatus(),
    }),
  };
  return { engine: new Engine(deps, parts), clock, timeouts };
}

const lastScan = (e: Engine) =>
  (e.status() as { lastScan: { carried: number; candidates: number } }).lastScan;

Deno.test("silent sockets cost a scan its budget, not their timeouts: what is left is carried, never-probed candidates first, then backed off", async () => {
  const { engine, clock, timeouts } = silentNode(300);
  const signal = new AbortController().signal;
  // 300 short first probes take longer than the scan's budget: the rest waits for the next scan.
  const first = await engine.scanOnce(signal);
  assert.deepEqual(first, [], "the real server is listed last: not reached in the first scan");
  assert.ok(timeouts.every((t) => t === 500), "a never-probed candidate gets a short probe");
  const probedFirst = timeouts.length;
  assert.ok(probedFirst < 300, `${probedFirst} probed: the budget was spent before the end`);
  assert.equal(lastScan(engine).carried, 301, "every candidate left for the next scan");
  // The next scan goes to the never-probed ones (the real server among them) before the silent.
  const second = await engine.scanOnce(signal);
  assert.deepEqual(second.map((t) => t.port), [REAL]);
  const shortProbes = timeouts.filter((t) => t === 500).length;
  assert.equal(shortProbes, 300, "each silent socket had exactly one short probe");
  // Then full probes until each silent socket has failed one and is backed off.
  while (lastScan(engine).carried > 0) await engine.scanOnce(signal);
  assert.equal(timeouts.length - shortProbes, 300, "one full probe each");
  const before = timeouts.length;
  await engine.scanOnce(signal);
  assert.equal(timeouts.length, before, "backed off: the silent sockets cost this scan nothing");
  clock.now += 5_000; // their first retry is due
  await engine.scanOnce(signal);
  assert.ok(timeouts.length > before);
});
