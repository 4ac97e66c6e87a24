/**
 * The collector as a container image for the kubelet tier, without a registry or an image tool:
 * the pinned Deno (this process's binary), the libraries `ldd` names for it, the modules main.ts
 * loads (from `deno info`), deno.json and deno.lock under /app, and a Deno cache under
 * /deno-dir holding every npm package of deno.json, so the pod fetches nothing. The entry is the
 * `start` task of deno.json (tests/harness/collector.ts `startTaskArgs`), the same flags the
 * compiled binary gets; the DaemonSet's `args` follow it.
 */

import { dirname, join, relative } from "node:path";
import { startTaskArgs } from "../collector.ts";
import { repoRoot } from "../gobuild.ts";
import { run } from "../netns.ts";
import { ociImageTar } from "./oci.ts";

/** The image reference the tier's DaemonSet pod runs (its only change to the manifest). */
export const COLLECTOR_IMAGE = "docker.io/ccpeers/coverage-collector:1";

interface DenoInfo {
  modules: { specifier: string }[];
  npmPackages?: Record<string, unknown>;
}

/** Every file under `dir` (regular files; links followed), as paths relative to `dir`. */
async function filesIn(dir: string, signal: AbortSignal): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      signal.throwIfAborted();
      const p = join(d, e.name);
      const st = await Deno.stat(p);
      if (st.isDirectory) await walk(p);
      else if (st.isFile) out.push(relative(dir, p));
    }
  };
  await walk(dir);
  return out;
}

/** The shared libraries and the loader `ldd` names for `bin` (absolute paths). */
export function lddPaths(lddOutput: string): string[] {
  const paths = new Set<string>();
  for (const line of lddOutput.split("\n")) {
    const m = line.match(/=>\s*(\/\S+)/) ?? line.match(/^\s*(\/\S+)\s+\(/);
    if (m) paths.add(m[1]);
  }
  return [...paths];
}

/**
 * Writes the collector image as an OCI archive to `tarPath` (for skopeo's `oci-archive:`).
 * @example await collectorImageTar(join(dir, "collector.tar"), signal);
 */
export async function collectorImageTar(tarPath: string, signal: AbortSignal): Promise<void> {
  const deno = Deno.execPath();
  const files: Record<string, Uint8Array> = { deno: await Deno.readFile(deno) };
  for (const lib of lddPaths(await run("ldd", [deno]))) {
    files[lib.slice(1)] = await Deno.readFile(lib);
  }

  const info = JSON.parse(
    await run(deno, ["info", "--json", join(repoRoot, "main.ts")]),
  ) as DenoInfo;
  const root = `file://${repoRoot}/`;
  for (const m of info.modules) {
    signal.throwIfAborted();
    if (m.specifier.startsWith(root)) {
      const rel = m.specifier.slice(root.length);
      files[`app/${rel}`] = await Deno.readFile(join(repoRoot, rel));
    }
  }
  for (const f of ["deno.json", "deno.lock"]) {
    files[`app/${f}`] = await Deno.readFile(join(repoRoot, f));
  }
  // Every package of deno.json's imports (Deno installs them all before the first run, also
  // the ones main.ts does not load), by name: `zod@4.6.7` → `zod`.
  const names = new Set(
    Object.keys(info.npmPackages ?? {}).map((id) => id.slice(0, id.lastIndexOf("@"))),
  );
  if (!names.size) throw new Error("deno info names no npm package: the image would fetch them");
  const cache = JSON.parse(await run(deno, ["info", "--json"])).denoDir as string;
  const registry = join(cache, "npm", "registry.npmjs.org");
  for (const name of names) {
    const dir = join(registry, name);
    for (const f of await filesIn(dir, signal)) {
      files[`deno-dir/npm/registry.npmjs.org/${name}/${f}`] = await Deno.readFile(join(dir, f));
    }
  }

  const main = join(repoRoot, "main.ts");
  const entry = ["/deno", ...(await startTaskArgs()).map((w) => w === main ? "/app/main.ts" : w)];
  await Deno.mkdir(dirname(tarPath), { recursive: true });
  await Deno.writeFile(
    tarPath,
    ociImageTar({
      ref: COLLECTOR_IMAGE,
      files,
      entrypoint: entry,
      workingDir: "/app",
      env: [
        "PATH=/usr/bin:/bin:/",
        "DENO_DIR=/deno-dir",
        "DENO_NO_UPDATE_CHECK=1",
        "LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu",
      ],
    }),
  );
}
