/**
 * SIGTERM to a collector with a long --shutdown-timeout, and the checks of a clean stop: exit 0,
 * no deadline warning, `stopped` as the last line. The time from the signal to the exit is
 * returned for the test to print (a figure, never an assertion).
 */

import assert from "node:assert/strict";
import type { CollectorProcess } from "../harness/collector.ts";

/** Far longer than a clean stop takes: a part that waits for it shows as the deadline warning. */
export const LONG_SHUTDOWN = "60s";

/**
 * Sends SIGTERM, waits for the exit and asserts the stop was clean; returns the ms it took.
 * @example const ms = await stopCleanly(c, "kube fake, one server");
 */
export async function stopCleanly(c: CollectorProcess, what: string): Promise<number> {
  const t0 = performance.now();
  const status = await c.stop("SIGTERM");
  const ms = Math.round(performance.now() - t0);
  const log = c.lines.join("\n");
  assert.equal(status.code, 0, `${what}: exit code after SIGTERM:\n${log}`);
  const late = c.lines.filter((l) => /deadline passed|unfinished at the shutdown deadline/.test(l));
  assert.deepEqual(late, [], `${what}: the shutdown waited for its deadline:\n${log}`);
  const last = c.lines.filter((l) => l.trim() !== "").at(-1) ?? "";
  assert.match(last, /msg=stopped/, `${what}: the last line is not 'stopped':\n${log}`);
  console.log(`${what}: SIGTERM → exit ${ms} ms`);
  return ms;
}
