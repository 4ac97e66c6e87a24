/**
 * SIGTERM to a collector with a long --shutdown-timeout, and the checks of a clean stop: exit 0,
 * no deadline warning, `stopped` as the last line. The time from the signal to the exit is
 * returned for the test to print (a figure, never an assertion).
 */

import assert from "node:assert/strict";
import type { CollectorProcess } from "../harness/collector.ts";

const V8_FLAGS = Deno.env.get("CC_TEST_V8_FLAGS") ?? "--gc-global,--gc-interval=5000";

/**
 * The collector's V8 collects garbage fully and often: an object that only a weak reference
 * keeps (an AbortSignal.any() signal whose sources hold it weakly) is gone within a few requests,
 * as it is after hours on a node, instead of surviving a short test. `CC_TEST_V8_FLAGS=""` runs
 * the collector with its own flags only (to measure the exit time as on a node).
 */
export const GC_OFTEN: Record<string, string> = V8_FLAGS === "" ? {} : { DENO_V8_FLAGS: V8_FLAGS };

/**
 * Makes the collector allocate (GETs of /metrics and /status): under GC_OFTEN that is several
 * full collections, so what only weak references hold is collected before the test goes on.
 * @example await churn(await c.healthUrl());
 */
export async function churn(healthUrl: string, requests = 20): Promise<void> {
  for (let i = 0; i < requests; i++) {
    for (const path of ["/metrics", "/status"]) {
      const res = await fetch(`${healthUrl}${path}`);
      await res.body?.cancel();
    }
  }
}

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
