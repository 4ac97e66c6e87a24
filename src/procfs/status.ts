/** /proc/<pid>/status: the fields discovery needs. */

import type { System } from "../system.ts";
import { isGone } from "./gone.ts";

export interface ProcStatus {
  name: string;
  pid: number;
  /** Parent PID (0 for init and kernel threads' parent). */
  ppid: number;
  /** This process's PID in each PID namespace, the reader's first; the last is its own view. */
  nspid: number[];
}

function numbers(v: string | undefined): number[] {
  if (!v) return [];
  return v.trim().split(/\s+/).filter((t) => /^\d+$/.test(t)).map(Number);
}

/**
 * Parses /proc/<pid>/status text. Missing NSpid (old kernels) becomes `[pid]`.
 *
 * @example parseStatus("Name:\tbridge\nPid:\t48213\nPPid:\t48190\nNSpid:\t48213\t1\n")
 * // { name: "bridge", pid: 48213, ppid: 48190, nspid: [48213, 1] }
 */
export function parseStatus(text: string): ProcStatus {
  const fields = new Map<string, string>();
  for (const line of text.split("\n")) {
    const i = line.indexOf(":");
    if (i > 0) fields.set(line.slice(0, i), line.slice(i + 1));
  }
  const pid = numbers(fields.get("Pid"))[0] ?? 0;
  const nspid = numbers(fields.get("NSpid"));
  return {
    name: fields.get("Name")?.trim() ?? "",
    pid,
    ppid: numbers(fields.get("PPid"))[0] ?? 0,
    nspid: nspid.length > 0 ? nspid : [pid],
  };
}

/**
 * Reads and parses the status of `pid`; null when the process is gone.
 *
 * @example (await readStatus(createSystem(), Deno.pid))?.nspid.at(-1) // Deno.pid on the host
 */
export async function readStatus(system: System, pid: number): Promise<ProcStatus | null> {
  try {
    return parseStatus(await system.readText(`/proc/${pid}/status`));
  } catch (e) {
    if (isGone(e)) return null;
    throw e;
  }
}
