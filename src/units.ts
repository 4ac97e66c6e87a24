/** Parsing of the human units used in flags: durations, byte sizes and pull schedules. */

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration like `1500ms`, `10s`, `5m`, `1h` or `1m30s` into milliseconds.
 * A bare number is seconds.
 *
 * @example parseDuration("1m30s") // 90000
 */
export function parseDuration(text: string): number {
  const s = text.trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * DURATION_UNITS[m[2]];
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== s.length) {
    throw new RangeError(`"${text}" is not a duration (use e.g. 500ms, 10s, 5m, 1h)`);
  }
  return Math.round(total);
}

/** Renders milliseconds the way parseDuration reads them. @example formatDuration(90000) // "1m30s" */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms % 1000 !== 0) return `${ms}ms`;
  let rest = ms / 1000;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  const sec = rest - m * 60;
  return `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${sec ? `${sec}s` : ""}`;
}

const SIZE_UNITS: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  ki: 1024,
  kib: 1024,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
};

/**
 * Parses a byte size like `64MiB`, `256M`, `1GiB` or `4096`.
 *
 * @example parseBytes("64MiB") // 67108864
 */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(text.trim());
  const unit = m ? SIZE_UNITS[m[2].toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    throw new RangeError(`"${text}" is not a size (use e.g. 4096, 64MiB, 256M)`);
  }
  return Math.round(Number(m[1]) * unit);
}

/** Renders a byte count in binary units when exact. @example formatBytes(67108864) // "64MiB" */
export function formatBytes(n: number): string {
  for (const [unit, size] of [["GiB", 1024 ** 3], ["MiB", 1024 ** 2], ["KiB", 1024]] as const) {
    if (n >= size && n % size === 0) return `${n / size}${unit}`;
  }
  return String(n);
}

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

/** Servers that covered nothing new for `afterMs` are pulled every `everyMs` (see --pull-idle). */
export interface IdleRule {
  everyMs: number;
  afterMs: number;
}

/**
 * Parses `60s@5m` (every 60 s once nothing new was covered for 5 min), or `off` (null).
 *
 * @example parseIdleRule("60s@5m") // { everyMs: 60000, afterMs: 300000 }
 */
export function parseIdleRule(text: string): IdleRule | null {
  const t = text.trim();
  if (t === "off" || t === "0") return null;
  const [every, after, extra] = t.split("@");
  if (after === undefined || extra !== undefined) {
    throw new RangeError(`"${text}" is not <every>@<after> (e.g. 60s@5m) or off`);
  }
  const everyMs = parseDuration(every);
  if (everyMs < 100) throw new RangeError(`interval "${every}" is below 100ms`);
  return { everyMs, afterMs: parseDuration(after) };
}

/** Renders steps the way parseSchedule reads them. */
export function formatSchedule(steps: ScheduleStep[]): string {
  return steps.map((s) =>
    Number.isFinite(s.untilMs)
      ? `${formatDuration(s.everyMs)}@${formatDuration(s.untilMs)}`
      : formatDuration(s.everyMs)
  ).join(",");
}
