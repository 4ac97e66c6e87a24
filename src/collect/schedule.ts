/** The adaptive pull schedule: frequent pulls while a server is young, sparse when it is old. */

import type { System } from "../system.ts";
import { formatDuration, parseDuration } from "../units.ts";

/** One step: pull every `everyMs` until the server is `untilMs` old (the last step never ends). */
export interface ScheduleStep {
  everyMs: number;
  untilMs: number;
}

/**
 * Parses `1s@10s,5s@5m,10s`: every 1 s for the first 10 s, every 5 s until 5 min, then every 10 s.
 *
 * @example parseSchedule("1s@10s,10s") // [{everyMs:1000,untilMs:10000},{everyMs:10000,untilMs:Infinity}]
 */
export function parseSchedule(text: string): ScheduleStep[] {
  const parts = text.split(",").map((p) => p.trim()).filter((p) => p !== "");
  if (parts.length === 0) throw new RangeError("the schedule is empty (e.g. 1s@10s,5s@5m,10s)");
  const steps: ScheduleStep[] = [];
  let previousUntil = 0;
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    const [every, until, extra] = part.split("@");
    if (extra !== undefined) throw new RangeError(`"${part}" has more than one @`);
    if (last && until !== undefined) {
      throw new RangeError(
        `the last step "${part}" must not have an end (write just the interval)`,
      );
    }
    if (!last && until === undefined) {
      throw new RangeError(`step "${part}" needs an end: <interval>@<age>, e.g. 1s@10s`);
    }
    const everyMs = parseDuration(every);
    if (everyMs < 100) throw new RangeError(`interval "${every}" is below 100ms`);
    const untilMs = last ? Infinity : parseDuration(until!);
    if (untilMs <= previousUntil) {
      throw new RangeError(`step "${part}" must end later than the step before it`);
    }
    previousUntil = untilMs;
    steps.push({ everyMs, untilMs });
  });
  return steps;
}

/** Renders steps the way parseSchedule reads them. */
export function formatSchedule(steps: ScheduleStep[]): string {
  return steps.map((s) =>
    Number.isFinite(s.untilMs)
      ? `${formatDuration(s.everyMs)}@${formatDuration(s.untilMs)}`
      : formatDuration(s.everyMs)
  ).join(",");
}

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
