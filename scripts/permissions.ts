/**
 * The permission flags of the collector have one source: deno.json's `start` task. The compile
 * task and the tests read them from there, so the binary and `deno task start` cannot drift.
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The flags of a `deno run` command line that grant or deny permissions (and `--no-prompt`). */
export function permissionFlagsOf(task: string): string[] {
  return task.split(/\s+/).filter((w) =>
    /^--(allow|deny)-[a-z-]+(=.*)?$/.test(w) || w === "--no-prompt" || w === "-A"
  );
}

/**
 * The permission flags of deno.json's `start` task.
 *
 * @example await permissionFlags() // ["--no-prompt", "--allow-read", ...]
 */
export async function permissionFlags(denoJson = join(repoRoot, "deno.json")): Promise<string[]> {
  const cfg = JSON.parse(await Deno.readTextFile(denoJson));
  const task = cfg?.tasks?.start;
  if (typeof task !== "string") throw new Error(`${denoJson}: tasks.start is missing`);
  return permissionFlagsOf(task);
}
