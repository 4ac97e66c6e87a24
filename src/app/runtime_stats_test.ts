import assert from "node:assert/strict";
import { openFds, pendingTimers, runtimeStats, trackTimers } from "./runtime_stats.ts";

Deno.test("pending timers are counted until they fire or are cleared", async () => {
  trackTimers();
  trackTimers(); // idempotent: wraps once
  const before = pendingTimers();
  const fired = Promise.withResolvers<void>();
  setTimeout(fired.resolve, 1);
  const cleared = setTimeout(() => assert.fail("cleared timer ran"), 60_000);
  const every = setInterval(() => {}, 60_000);
  assert.equal(pendingTimers(), before + 3);
  clearTimeout(cleared);
  clearInterval(every);
  assert.equal(pendingTimers(), before + 1);
  await fired.promise;
  assert.equal(pendingTimers(), before);
});

Deno.test("runtime stats say memory, fds and timers", () => {
  const s = runtimeStats();
  assert.ok(s.rssBytes > 0 && s.heapUsedBytes > 0);
  assert.ok(openFds() > 2, "stdin, stdout, stderr at least");
  assert.equal(typeof s.pendingTimers, "number");
});
