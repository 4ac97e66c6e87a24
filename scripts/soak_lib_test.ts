import assert from "node:assert/strict";
import { blocksOf, formatSoak, growthOf, type Holdings, holdingsOf, missing } from "./soak_lib.ts";
import { encodeCounterFile } from "../tests/harness/counterfile.ts";

const base: Holdings = {
  rssBytes: 100 << 20,
  heapUsedBytes: 10 << 20,
  openFds: 28,
  pendingTimers: 2,
  sizes: { "engine.verdicts": 0, "discover.hostHolders": 8 },
};

Deno.test("growth: a map that grows with the pods is not flat; small jitter and RSS within bounds are", () => {
  const jitter = { ...base, openFds: 29, sizes: { ...base.sizes, "discover.hostHolders": 12 } };
  assert.deepEqual(growthOf(base, jitter, 32 << 20), []);
  const leak = { ...base, rssBytes: 200 << 20, sizes: { ...base.sizes, "engine.verdicts": 950 } };
  assert.deepEqual(growthOf(base, leak, 32 << 20), [
    "engine.verdicts 0 → 950",
    "rss 100.0 → 200.0 MiB",
  ]);
});

Deno.test("holdings come from /status runtime and sizes; an old collector is named", () => {
  const st = { runtime: { ...base, sizes: undefined }, sizes: base.sizes };
  assert.equal(holdingsOf(st).openFds, 28);
  assert.throws(() => holdingsOf({ version: "x" }), /no runtime or sizes/);
});

Deno.test("blocks of stored counter files merge; missing lists what a pod lost", () => {
  const hash = "00".repeat(16);
  const a = encodeCounterFile({ hash, functions: [{ pkgIdx: 0, funcIdx: 1, counters: [1, 0] }] });
  const b = encodeCounterFile({ hash, functions: [{ pkgIdx: 0, funcIdx: 1, counters: [0, 3] }] });
  assert.deepEqual([...blocksOf([a, b])].sort(), ["0:1:0", "0:1:1"]);
  assert.deepEqual(missing(new Set(["0:1:1", "0:2:0"]), blocksOf([a, b])), ["0:2:0"]);
  const report = formatSoak({
    pods: 2,
    byEnd: { deleted: 1, killed: 1 },
    duringOutage: 1,
    outages: 1,
    durationS: 9,
    before: base,
    after: base,
    lost: [],
    growth: [],
  });
  assert.match(report, /last covered block stored: 2 of 2 pods/);
  assert.match(report, /growth: flat/);
});
