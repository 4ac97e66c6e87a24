/** The Prometheus project's own text parser (expfmt, in tests/fixtures/promcheck) run on a scrape. */

import { join } from "node:path";
import { buildGo, repoRoot } from "./gobuild.ts";

/**
 * Runs promcheck on a scrape: its family lines, or throws with the parser's error.
 * @example (await promcheck(await (await fetch(url)).text())).length // families
 */
export async function promcheck(text: string): Promise<string[]> {
  const bin = await buildGo({
    dir: join(repoRoot, "tests", "fixtures", "promcheck"),
    name: "promcheck",
    cover: false,
  });
  const child = new Deno.Command(bin, { stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(text));
  await w.close();
  const out = await child.output();
  const err = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`promcheck refused the scrape: ${err}`);
  return new TextDecoder().decode(out.stdout).trim().split("\n");
}
