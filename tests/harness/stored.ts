/**
 * Real stored coverage for report tests: runs the Go `-cover` fixture, drives its app routes,
 * pulls `/coverage` through our decoder and writes the files in the stored layout.
 */

import { join } from "node:path";
import { decodeCoverage } from "../../src/collect/coverage.ts";
import { startCovserver } from "./covserver.ts";

/** Output of `go <args>`; throws with what Go printed when it fails. */
export async function go(args: string[], cwd?: string): Promise<string> {
  const out = await new Deno.Command("go", { args, cwd, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  if (out.code !== 0) {
    const err = new TextDecoder().decode(out.stderr);
    throw new Error(`go ${args.join(" ")} exited ${out.code}: ${err}${text}`);
  }
  return text;
}

/**
 * `go tool covdata percent -i <dir>`: its exit code and what it printed (stdout, then stderr).
 * @example const { code, out } = await covdataPercentOf(dir); // code 0: covdata read it
 */
export async function covdataPercentOf(dir: string): Promise<{ code: number; out: string }> {
  const out = await new Deno.Command("go", {
    args: ["tool", "covdata", "percent", "-i", dir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, out: dec.decode(out.stdout) + dec.decode(out.stderr) };
}

export interface StoredRun {
  /** Leaf directory of the prefix (what `go tool covdata -i` reads). */
  leaf: string;
  hash: string;
  pid: number;
}

export interface StoreFixtureOptions {
  /** App routes to call before the pull, e.g. `["/run/alpha", "/run/beta?n=3"]`. */
  routes: string[];
  /** Path segments below the base, e.g. `["node-1", "ns", "pod", "c", "20261122T100005Z", "img", "app"]`. */
  segments: string[];
  binaryName?: string;
  /** An already built fixture binary (e.g. another -covermode); default the usual build. */
  binary?: string;
  /** Extra info.json fields. */
  info?: Record<string, unknown>;
}

/**
 * Runs the fixture, calls `routes`, pulls once and stores `info.json`, `covmeta.<hash>` and
 * `covcounters.<hash>.<pid>.1` under `base/segments...`.
 *
 * @example await storeFixtureRun(base, { routes: ["/run/alpha"], segments: ["n", "_host_", "20261122T100005Z", "app"] })
 */
export async function storeFixtureRun(base: string, opts: StoreFixtureOptions): Promise<StoredRun> {
  const leaf = join(base, ...opts.segments);
  await Deno.mkdir(leaf, { recursive: true });
  await using srv = await startCovserver({
    name: opts.binaryName ?? "covserver",
    binary: opts.binary,
  });
  for (const r of opts.routes) {
    const res = await fetch(`http://127.0.0.1:${srv.appPort}${r}`);
    await res.body?.cancel();
    if (!res.ok) throw new Error(`GET ${r}: HTTP ${res.status}`);
  }
  const res = await fetch(`http://127.0.0.1:${srv.coveragePort}/coverage`);
  const d = decodeCoverage(await res.text(), { expectMeta: true });
  const hash = d.meta!.hash;
  await Deno.writeFile(join(leaf, `covmeta.${hash}`), d.meta!.bytes);
  await Deno.writeFile(join(leaf, `covcounters.${hash}.${srv.pid}.1`), d.counters.bytes);
  const segs = opts.segments;
  const info = segs[1] === "_host_" ? { binary: segs[3], hostname: segs[0], owner: "host" } : {
    binary: segs[6],
    hostname: segs[0],
    owner: "container",
    namespace: segs[1],
    pod: segs[2],
    container: segs[3],
  };
  await Deno.writeTextFile(
    join(leaf, "info.json"),
    JSON.stringify({ ...info, pid: srv.pid, ...opts.info }, null, 2) + "\n",
  );
  return { leaf, hash, pid: srv.pid };
}
