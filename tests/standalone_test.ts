/**
 * The repository stands alone: a user's clone has nothing beside it, so no file of the project
 * may name a path outside it. (`.ci/run` also runs the suite in a copy with no siblings.)
 */

import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { repoRoot } from "./harness/gobuild.ts";

const SKIP_DIRS = new Set([".git", ".tools", ".cache", "dist", "coverage-data", "coverage-state"]);
// Spelled in two parts so this file does not match itself.
const OUTSIDE = ["..", "/shared"].join("");
const SHARED_REF = ["shared", "/reference"].join("");

async function projectFiles(dir: string, out: string[] = []): Promise<string[]> {
  for await (const e of Deno.readDir(dir)) {
    if (SKIP_DIRS.has(e.name)) continue;
    const p = join(dir, e.name);
    if (e.isDirectory) await projectFiles(p, out);
    else if (e.isFile) out.push(p);
  }
  return out;
}

Deno.test("no file of the project names the team's shared folder beside the clone", async () => {
  const offenders: string[] = [];
  for (const file of await projectFiles(repoRoot)) {
    const bytes = await Deno.readFile(file);
    if (bytes.includes(0)) continue; // binary sample
    const text = new TextDecoder().decode(bytes);
    for (const [i, line] of text.split("\n").entries()) {
      if (line.includes(OUTSIDE) || line.includes(SHARED_REF)) {
        offenders.push(`${relative(repoRoot, file)}:${i + 1}: ${line.trim()}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});
