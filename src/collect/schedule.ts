/** The adaptive pull schedule: frequent pulls while a server is young, sparse when it is old. */

import type { System } from "../system.ts";
import type { ScheduleStep } from "../units.ts";

/**
 * The delay before the next pull of a server that is `ageMs` old.
 *
 * @example nextDelay(parseSchedule("1s@10s,10s"), 3000) // 1000
 */
export function nextDelay(steps: ScheduleStep[], ageMs: number): number {
  for (const step of steps) {
    if (ageMs < step.untilMs) return step.everyMs;
  }
  return steps[steps.length - 1].everyMs;
}

/**
 * A server's age as the schedule sees it: read off the wall clock once (how long ago it was
 * discovered), then counted on the monotonic clock, so the wall clock set back or forward by
 * hours neither bursts nor stalls the pulls.
 *
 * @example const age = serverAge(system, target.discoveredAt); nextDelay(steps, age())
 */
export function serverAge(
  system: Pick<System, "now" | "monotonic">,
  discoveredAt: Date,
): () => number {
  const born = system.monotonic() - Math.max(0, system.now() - discoveredAt.getTime());
  return () => system.monotonic() - born;
}
