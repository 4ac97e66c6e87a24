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
  // The host's file first (under the host root it is the node's even from a pod), then the
  // kernel's name (set by DHCP on nodes without the file), then this process's view.
  for (const file of ["/etc/hostname", "/proc/sys/kernel/hostname"]) {
    try {
      const h = (await system.readText(file)).trim();
      if (h !== "") return h;
    } catch {
      // absent or unreadable: try the next
    }
  }
  return Deno.hostname();
}
