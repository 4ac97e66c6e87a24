/** The adaptive pull schedule: frequent pulls while a server is young, sparse when it is old. */

import type { System } from "../system.ts";
import type { IdleRule, ScheduleStep } from "../units.ts";

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
 * The delay once the idle rule is taken in: a server that has covered nothing new for
 * `rule.afterMs` (`quietMs`: since its last pull that did) waits at least `rule.everyMs`.
 *
 * @example withIdle(10_000, { everyMs: 60_000, afterMs: 300_000 }, 400_000) // 60000
 */
export function withIdle(
  delay: number,
  rule: IdleRule | null | undefined,
  quietMs: number,
): number {
  return rule && quietMs >= rule.afterMs ? Math.max(delay, rule.everyMs) : delay;
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
