/** The node's host name, as the collector files data under it. */

import type { System } from "./system.ts";

/**
 * The setting when given, else the host's name (under the host root, so a debug pod gets the
 * node's), else this process's view.
 *
 * @example await nodeHostname(createSystem("/host"), "") // "worker-1"
 */
export async function nodeHostname(system: System, setting: string): Promise<string> {
  if (setting !== "") return setting;
  try {
    const h = (await system.readText("/proc/sys/kernel/hostname")).trim();
    if (h !== "") return h;
  } catch {
    // not readable: fall back to this process's view
  }
  return Deno.hostname();
}
