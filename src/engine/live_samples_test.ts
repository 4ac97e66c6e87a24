import assert from "node:assert/strict";
import { collectorStatus } from "../../tests/doubles/collector_status.ts";
import { liveSamples } from "./metrics.ts";

const cov = (covered: number, total: number) => ({
  covered,
  total,
  percent: total === 0 ? 0 : (100 * covered) / total,
  lastChange: "2026-01-01T00:00:00.000Z",
});

Deno.test("live gauges read the collectors' declared status: labels, the better covered of two, none before counters", () => {
  const labels = { namespace: "ns", pod: "p", container: "c", binary: "b" };
  const running = [
    { collector: { status: () => collectorStatus({ ...labels, coverage: cov(3, 10) }) } },
    { collector: { status: () => collectorStatus({ ...labels, coverage: cov(7, 10) }) } },
    { collector: { status: () => collectorStatus({ ...labels, pod: "q" }) } },
  ];
  assert.deepEqual(liveSamples(running, (c) => c.covered), [{ labels, value: 7 }]);
});
