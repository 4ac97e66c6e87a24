/** Whether a server's process still runs: one read of its /proc entry before each pull. */

import { errorText } from "../errors.ts";
import { startTimeOfStat, stateOfStat } from "../procfs/stat.ts";
import type { System } from "../system.ts";
import type { Target } from "../target.ts";

/**
 * False when the server process is gone: no /proc entry, a zombie, or a reused PID (another start
 * time, or another NSpid when the start time is not known). Errors other than "gone" count as
 * alive: the pull that follows decides.
 *
 * @example if (!await serverAlive(system, target)) end("pid-gone");
 */
export async function serverAlive(
  system: Pick<System, "readText">,
  target: Pick<Target, "hostPid" | "hostStartTime" | "identity">,
): Promise<boolean> {
  const pid = target.hostPid;
  const started = target.hostStartTime;
  let text: string;
  try {
    // With the start time known, /proc/<pid>/stat alone decides (one read per pull, not two):
    // the same PID with the same start time is the same process, so its NSpid is unchanged.
    text = await system.readText(`/proc/${pid}/${started ? "stat" : "status"}`);
  } catch (e) {
    return !(e instanceof Deno.errors.NotFound || /no such process/i.test(errorText(e)));
  }
  if (started) {
    const state = stateOfStat(text);
    if (state === "Z" || state === "X") return false;
    const now = startTimeOfStat(text);
    return now === null || now === started;
  }
  const state = /^State:\s*(\S)/m.exec(text)?.[1];
  if (state === "Z" || state === "X") return false;
  const nspid = /^NSpid:\s*([\d\s]+)$/m.exec(text)?.[1].trim().split(/\s+/).pop();
  return nspid === undefined || Number(nspid) === target.identity.pid;
}
