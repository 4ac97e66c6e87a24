/** COVERAGE_PORT from a process environment (/proc/<pid>/environ). */

import type { System } from "../system.ts";
import { isGone } from "./gone.ts";

/**
 * The COVERAGE_PORT in NUL-separated environ text, or null when absent or not a port 1..65535.
 *
 * @example coveragePortOf("PATH=/bin\0COVERAGE_PORT=53800\0") // 53800
 */
export function coveragePortOf(environ: string): number | null {
  for (const entry of environ.split("\0")) {
    if (!entry.startsWith("COVERAGE_PORT=")) continue;
    const v = entry.slice("COVERAGE_PORT=".length).trim();
    if (!/^\d{1,5}$/.test(v)) return null;
    const n = Number(v);
    return n >= 1 && n <= 65535 ? n : null;
  }
  return null;
}

/**
 * Reads COVERAGE_PORT of `pid`; null when unset, invalid or the process is gone.
 *
 * @example await readCoveragePort(createSystem(), Deno.pid) // null unless set
 */
export async function readCoveragePort(system: System, pid: number): Promise<number | null> {
  try {
    return coveragePortOf(await system.readText(`/proc/${pid}/environ`));
  } catch (e) {
    if (isGone(e)) return null;
    throw e;
  }
}
