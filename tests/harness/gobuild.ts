/**
 * Builds Go programs for tests, cached by content under `<cache>/go/<hash>/<name>` (see cache.ts:
 * outside the clone, so other clones and CI runs on the machine reuse the builds).
 * The hash covers every source file, the Go version and the build flags, so a
 * changed fixture is rebuilt and an unchanged one is reused across runs.
 */

import { createHash } from "node:crypto";
import { basename, dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { announceBuild, cacheDir } from "./cache.ts";

/** Absolute path of the repository root. */
export const repoRoot: string = fileURLToPath(new URL("../..", import.meta.url)).replace(/\/$/, "");

/** A `go` command failed; names the command, the directory and what Go printed. */
export class GoBuildError extends Error {
  constructor(readonly command: string, readonly dir: string, detail: string) {
    super(`${command} (in ${dir}): ${detail}`);
    this.name = "GoBuildError";
  }
}

export interface BuildGoOptions {
  /** The Go module (or package) directory to build. */
  dir: string;
  /** File name of the binary (what the program sees as its base name). */
  name: string;
  /** Build with `-cover -covermode=atomic`. */
  cover: boolean;
  /** With cover: `-coverpkg` (e.g. `all`: every package, the standard library too). */
  coverpkg?: string;
  /** With cover: `-covermode` (default atomic, as the field builds). */
  covermode?: "set" | "count" | "atomic";
  /** Build without cgo (CGO_ENABLED=0): a static binary that runs in an image with no libc. */
  static?: boolean;
}

const decoder = new TextDecoder();
const builds = new Map<string, Promise<string>>();
let goVersionOnce: Promise<string | null> | undefined;

function goVersion(): Promise<string | null> {
  goVersionOnce ??= (async () => {
    try {
      const out = await new Deno.Command("go", {
        args: ["version"],
        stdout: "piped",
        stderr: "null",
      })
        .output();
      return out.success ? decoder.decode(out.stdout).trim() : null;
    } catch {
      return null;
    }
  })();
  return goVersionOnce;
}

/**
 * Whether a working `go` is on PATH.
 * @example
 * Deno.test({ name: "...", ignore: !(await hasGo()), fn() {} });
 */
export async function hasGo(): Promise<boolean> {
  return (await goVersion()) !== null;
}

/**
 * Whether this process runs as root.
 * @example
 * if (!isRoot()) console.log("netns tests skipped");
 */
export function isRoot(): boolean {
  return Deno.uid() === 0;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(d)) {
      if (e.name.startsWith(".")) continue;
      const p = join(d, e.name);
      if (e.isDirectory) await walk(p);
      else if (e.isFile) files.push(p);
    }
  };
  await walk(dir);
  return files.sort();
}

async function buildKey(dir: string, flags: string[], version: string): Promise<string> {
  const h = createHash("sha256");
  h.update(`${version}\n${flags.join(" ")}\n`);
  for (const file of await sourceFiles(dir)) {
    const rel = relative(dir, file);
    const data = await Deno.readFile(file);
    h.update(`${rel}\0${data.length}\0`).update(data);
  }
  return h.digest("hex").slice(0, 24);
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

/** The cached binary path for these sources and flags (it may not exist yet). */
async function cachedPath(dir: string, name: string, flags: string[]): Promise<string> {
  const version = await goVersion();
  if (version === null) {
    throw new GoBuildError("go version", dir, "go is not on PATH or does not run");
  }
  return join(cacheDir(), "go", await buildKey(dir, flags, version), name);
}

async function build(
  dir: string,
  bin: string,
  flags: string[],
  staticBuild: boolean,
): Promise<string> {
  if (await exists(bin)) return bin;
  const outDir = dirname(bin);
  const name = basename(bin);
  await Deno.mkdir(outDir, { recursive: true });
  // Build into a private directory, then rename: a reader never sees half a binary.
  const tmpDir = await Deno.makeTempDir({
    dir: dirname(outDir),
    prefix: `${basename(outDir)}.tmp-`,
  });
  try {
    announceBuild(
      `${name} from ${relative(repoRoot, dir) || dir} with go build`,
      "seconds to minutes",
    );
    const args = ["build", ...flags, "-o", join(tmpDir, name), "."];
    const env: Record<string, string> = { GOFLAGS: "-buildvcs=false" };
    if (staticBuild) env.CGO_ENABLED = "0";
    const out = await new Deno.Command("go", {
      args,
      cwd: dir,
      env,
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    if (!out.success) {
      const msg = decoder.decode(out.stderr).trim() || `exit code ${out.code}`;
      throw new GoBuildError(`go ${args.join(" ")}`, dir, msg);
    }
    await Deno.rename(join(tmpDir, name), bin);
    return bin;
  } finally {
    await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
  }
}

/**
 * Builds the Go program in `dir` as `name`, reusing a cached binary with the same sources.
 * @example
 * const bin = await buildGo({ dir: join(repoRoot, "tests/fixtures/covserver"), name: "x", cover: true });
 */
export function buildGo(
  { dir, name, cover, coverpkg, covermode = "atomic", static: staticBuild }: BuildGoOptions,
): Promise<string> {
  if (name === "" || name.includes("/") || name.startsWith(".")) {
    return Promise.reject(
      new GoBuildError("go build", dir, `bad binary name ${JSON.stringify(name)}`),
    );
  }
  const flags = cover ? ["-cover", `-covermode=${covermode}`] : [];
  if (cover && coverpkg) flags.push(`-coverpkg=${coverpkg}`);
  // The key covers cgo too: a static build is a different binary.
  const keyFlags = staticBuild ? [...flags, "CGO_ENABLED=0"] : flags;
  return cachedPath(dir, name, keyFlags).then((bin) => {
    // One build per binary at a time within this process; others wait for it.
    let p = builds.get(bin);
    if (!p) {
      p = build(dir, bin, flags, staticBuild ?? false);
      builds.set(bin, p);
      p.finally(() => builds.delete(bin)).catch(() => {});
    }
    return p;
  });
}

/**
 * The coverage fixture built with `-cover -covermode=atomic`, named `name`
 * (so its `X-Art-Coverage-Binary` is `name`).
 * @example
 * const bin = await covserverBinary("kube-apiserver");
 */
export function covserverBinary(name = "covserver"): Promise<string> {
  return buildGo({ dir: join(repoRoot, "tests", "fixtures", "covserver"), name, cover: true });
}
