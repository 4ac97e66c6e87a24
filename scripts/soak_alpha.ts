/** The blocks a run of /run/alpha adds to a fresh server (scripts/soak's "last covered block"). */

import { checkCoverage } from "../src/collect/coverage.ts";
import { pullCoverage } from "../src/collect/pull.ts";
import type { Scenario } from "../tests/harness/scenario.ts";
import { blocksOf, missing } from "./soak_lib.ts";

/** Starts a reference pod, runs /run/alpha in it and returns the blocks that run added. */
export async function alphaBlocks(sc: Scenario): Promise<Set<string>> {
  const p = await sc.addPod({ name: "soak-reference", servers: 1 });
  const s = p.servers[0];
  const app = Number((await s.container.waitLine(/app-port=(\d+)/, 20_000))[1]);
  const blocks = async () => {
    const res = await pullCoverage({
      host: p.pod.ip,
      port: s.coveragePort,
      nometa: false,
      timeoutMs: 10_000,
      maxBody: 64 << 20,
    });
    return blocksOf([checkCoverage(res.body, { expectMeta: true }).counters.bytes]);
  };
  const before = await blocks();
  await (await fetch(`http://${p.pod.ip}:${app}/run/alpha`)).body?.cancel();
  const after = await blocks();
  await sc.deletePod(p, { graceMs: 0 });
  const added = new Set(missing(after, before));
  if (added.size === 0) throw new Error("soak: /run/alpha covers nothing new on a fresh server");
  return added;
}
