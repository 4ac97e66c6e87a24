/** /proc/<pid>/stat: the start time, which tells a process from a later one reusing its PID. */

import type { System } from "../system.ts";
import { isGone } from "./gone.ts";

/**
 * Field 22 (starttime, in clock ticks since boot) of /proc/<pid>/stat text, or null when the text
 * is not a stat line. The command name (field 2) may hold spaces and parentheses: fields are
 * counted from its last `)`.
 *
 * @example startTimeOfStat("42 (my (app)) S 1 42 42 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 98765 0")
 * // "98765"
 */
export function startTimeOfStat(text: string): string | null {
  const close = text.lastIndexOf(")");
  if (close < 0) return null;
  // after ")": field 3 (state) is index 0, so field 22 is index 19
  const v = text.slice(close + 1).trim().split(/\s+/)[19];
  return v !== undefined && /^\d+$/.test(v) ? v : null;
}

/**
 * Field 3 (state: R, S, D, Z, X, ...) of /proc/<pid>/stat text, or null when the text is not a
 * stat line.
 *
 * @example stateOfStat("42 (my (app)) Z 1 42") // "Z"
 */
export function stateOfStat(text: string): string | null {
  const close = text.lastIndexOf(")");
  if (close < 0) return null;
  return /^\s*(\S)/.exec(text.slice(close + 1))?.[1] ?? null;
}

/**
 * The start time of `pid` (see startTimeOfStat); null when the process is gone or unreadable.
 * Two reads giving the same value mean the same process: a reused PID starts later.
 *
 * @example await readStartTime(createSystem(), Deno.pid) // "123456"
 */
export async function readStartTime(system: System, pid: number): Promise<string | null> {
  try {
    return startTimeOfStat(await system.readText(`/proc/${pid}/stat`));
  } catch (e) {
    if (isGone(e)) return null;
    throw e;
  }
}
