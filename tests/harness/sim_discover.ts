/** A real Discoverer pointed at a SimNode's crictl, and the coverage port a fixture printed. */

import { Discoverer } from "../../src/discover/discoverer.ts";
import { Health } from "../../src/health.ts";
import { silentLogger } from "../../src/log.ts";
import { Metrics } from "../../src/metrics.ts";
import { createSystem, type System } from "../../src/system.ts";
import type { SimNode } from "./node.ts";

/**
 * A Discoverer of `node` (its fake crictl, the real /proc) scanning ports `base`..`base+99`;
 * `system`, `health` and the crictl timeout (5 s) can be given.
 * @example const r = await simDiscoverer(node, 56100).scan(new AbortController().signal);
 */
export function simDiscoverer(
  node: SimNode,
  base: number,
  o: { system?: System; health?: Health; crictlTimeout?: number } = {},
): Discoverer {
  return new Discoverer({
    system: o.system ?? createSystem("/"),
    config: {
      crictl: node.crictlPath,
      runtimeEndpoint: "",
      crictlTimeout: o.crictlTimeout ?? 5000,
      portStart: base,
      portSpan: 100,
    },
    log: silentLogger,
    metrics: new Metrics(),
    health: o.health ?? new Health(),
  });
}

/**
 * The port of the `coverage-port=N` line the fixture prints (waits for it).
 * @example const port = await coveragePortOf(container);
 */
export async function coveragePortOf(
  proc: { waitLine(re: RegExp): Promise<RegExpMatchArray> },
): Promise<number> {
  return Number((await proc.waitLine(/coverage-port=(\d+)/))[1]);
}
