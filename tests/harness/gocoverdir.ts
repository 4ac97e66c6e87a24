/** A field-size program: the coverage fixture with every package instrumented, run under GOCOVERDIR. */

import { join } from "node:path";
import { startCovserver } from "./covserver.ts";
import { buildGo, repoRoot } from "./gobuild.ts";

/** What `fieldSizeRun` leaves: the GOCOVERDIR, the exit status and stderr of the fixture. */
export interface FieldRun {
  dir: string;
  status: Deno.CommandStatus;
  stderr: string;
}

/**
 * Builds the fixture with `-coverpkg=all` (the standard library instrumented too: ~200 packages,
 * ~800 KB of meta-data; the first build takes minutes on 2 cores, later ones reuse it), runs it
 * with GOCOVERDIR a new temp directory (`prefix`), calls `routes` on its app port and stops it:
 * Go's own runtime writes the meta-data and counter files at exit.
 * @example const { dir } = await fieldSizeRun(["/run/alpha"], "field-");
 */
export async function fieldSizeRun(routes: string[], prefix: string): Promise<FieldRun> {
  const binary = await buildGo({
    dir: join(repoRoot, "tests", "fixtures", "covserver"),
    name: "covserver",
    cover: true,
    coverpkg: "all",
  });
  const dir = await Deno.makeTempDir({ prefix });
  const srv = await startCovserver({ binary, env: { GOCOVERDIR: dir } });
  for (const r of routes) {
    await (await fetch(`http://127.0.0.1:${srv.appPort}${r}`)).body?.cancel();
  }
  const status = await srv.stop();
  return { dir, status, stderr: srv.stderr() };
}
