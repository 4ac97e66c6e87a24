/**
 * Builds the single-file binaries: `deno task compile [--target T]... [--out-dir DIR] [--commit SHA]`.
 *
 * Copies main.ts, deno.json, deno.lock and src/ (no tests) to .cache/build/stage, stamps the git
 * commit into the staged src/version.ts, and runs `deno compile <permissions> --no-prompt` there
 * once per target, where <permissions> are those of `deno task start` (its -P=<set> or its
 * --allow-* flags, read from deno.json), so the binary may do exactly what `start` may.
 * DENORT_BIN (an ELF denort of the pinned Deno) is used for the target of its architecture;
 * without it deno downloads the runtime base, and when that fails this prints one line and exits 1.
 */

import { dirname, join, relative, resolve } from "node:path";
import {
  type Arch,
  baseDownloadFailure,
  binaryName,
  CompileUsageError,
  denortHelp,
  elfArch,
  embeddedPermissions,
  parseCompileArgs,
  permissionMismatch,
  type PermissionPlan,
  permissionPlan,
  stampVersion,
  TARGETS,
  v8FlagsOf,
} from "./compile_lib.ts";

const repoRoot = resolve(dirname(new URL(import.meta.url).pathname), "..");
/** How much of the binary's end is searched for the embedded metadata. */
const TAIL = 64 << 20;
const USAGE = `usage: deno task compile [--target x86_64|aarch64]... [--out-dir DIR] [--commit SHA]
  Builds dist/coverage-collector-<arch> for each target (default: both) with the permissions of
  the start task of deno.json. Env: DENORT_BIN=/path/to/denort (pinned Deno version), BUILD_COMMIT.`;

async function output(cmd: string, args: string[]): Promise<string | null> {
  try {
    const out = await new Deno.Command(cmd, { args, cwd: repoRoot, stderr: "null" }).output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  } catch {
    return null;
  }
}

/** The commit to stamp: --commit, $BUILD_COMMIT, git (with -dirty), else "unknown". */
async function buildCommit(given?: string): Promise<string> {
  if (given) return given;
  const env = Deno.env.get("BUILD_COMMIT");
  if (env) return env;
  const sha = await output("git", ["rev-parse", "--short=12", "HEAD"]);
  if (!sha) return "unknown";
  const dirty = await output("git", ["status", "--porcelain", "--untracked-files=no"]);
  return dirty ? `${sha}-dirty` : sha;
}

/** A fresh copy of what the binary is built from, with the commit stamped in. */
async function stage(commit: string): Promise<string> {
  // One directory per run, so two builds (or a build and the tests) never share one.
  const dir = join(repoRoot, ".cache", "build", `stage-${Deno.pid}`);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  const copy = async (from: string, to: string) => {
    const info = await Deno.stat(from);
    if (info.isDirectory) {
      await Deno.mkdir(to, { recursive: true });
      for await (const e of Deno.readDir(from)) {
        if (!e.name.endsWith("_test.ts")) await copy(join(from, e.name), join(to, e.name));
      }
    } else await Deno.copyFile(from, to);
  };
  await Deno.mkdir(dir, { recursive: true });
  for (const name of ["main.ts", "deno.json", "deno.lock", "src"]) {
    const from = join(repoRoot, name);
    if (name === "deno.lock" && !(await Deno.stat(from).catch(() => null))) continue;
    await copy(from, join(dir, name));
  }
  const version = join(dir, "src", "version.ts");
  await Deno.writeTextFile(version, stampVersion(await Deno.readTextFile(version), commit));
  return dir;
}

/** Which DENORT_BIN serves which architecture (by the ELF header of the file). */
async function denortBases(): Promise<Partial<Record<Arch, string>>> {
  const path = Deno.env.get("DENORT_BIN");
  if (!path) return {};
  let head: Uint8Array;
  try {
    using f = await Deno.open(path);
    head = new Uint8Array(20);
    await f.read(head);
  } catch (e) {
    throw new CompileUsageError(
      `DENORT_BIN=${path} cannot be read: ${e instanceof Error ? e.message : e}`,
    );
  }
  const arch = elfArch(head);
  if (!arch) throw new CompileUsageError(`DENORT_BIN=${path} is not an x86_64/aarch64 ELF binary`);
  return { [arch]: resolve(path) };
}

async function compileOne(
  stageDir: string,
  permissionFlags: string[],
  arch: Arch,
  out: string,
  base?: string,
) {
  // deno would use an inherited DENORT_BIN for every target: only the matching one gets it.
  const env = Deno.env.toObject();
  delete env.DENORT_BIN;
  env.NO_COLOR = "1";
  if (base) env.DENORT_BIN = base;
  const args = [
    "compile",
    ...permissionFlags,
    "--no-prompt",
    "--target",
    TARGETS[arch].triple,
    "--output",
    out,
    "main.ts",
  ];
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: stageDir,
    env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  });
  return await child.output();
}

async function main(argv: string[]): Promise<number> {
  const args = parseCompileArgs(argv);
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const denoJson = JSON.parse(await Deno.readTextFile(join(repoRoot, "deno.json")));
  const plan = permissionPlan(denoJson);
  const bases = await denortBases();
  const commit = await buildCommit(args.commit);
  const stageDir = await stage(commit);
  try {
    return await compileAll(args, plan, bases, commit, stageDir);
  } finally {
    await Deno.remove(stageDir, { recursive: true }).catch(() => {});
  }
}

async function compileAll(
  args: ReturnType<typeof parseCompileArgs>,
  plan: PermissionPlan,
  bases: Partial<Record<Arch, string>>,
  commit: string,
  stageDir: string,
): Promise<number> {
  const staged = JSON.parse(await Deno.readTextFile(join(stageDir, "deno.json")));
  const version = staged.version;
  // the V8 flags of the start task, as the permissions: `start` and the binary run alike
  const v8Flags = v8FlagsOf(staged);
  const outDir = resolve(repoRoot, args.outDir);
  await Deno.mkdir(outDir, { recursive: true });
  const dec = new TextDecoder();
  for (const arch of args.archs) {
    const out = join(outDir, binaryName(arch));
    const flags = [...plan.flags, ...v8Flags];
    const result = await compileOne(stageDir, flags, arch, out, bases[arch]);
    const stderr = dec.decode(result.stderr);
    if (!result.success) {
      const reason = baseDownloadFailure(stderr);
      if (reason) console.error(denortHelp(arch, Deno.version.deno, reason));
      else {
        console.error(stderr.trimEnd());
        console.error(
          `compile: deno compile for ${TARGETS[arch].triple} failed (exit ${result.code})`,
        );
      }
      return 1;
    }
    const bytes = await Deno.readFile(out);
    const tail = new TextDecoder("latin1").decode(bytes.subarray(Math.max(0, bytes.length - TAIL)));
    const embedded = embeddedPermissions(tail);
    if (embedded) {
      const problems = permissionMismatch(plan.wanted, embedded);
      if (problems.length) {
        console.error(
          `compile: ${out} does not carry the permissions of the start task: ${
            problems.join("; ")
          }`,
        );
        return 1;
      }
    } else console.error(`compile: warning: could not find the permissions embedded in ${out}`);
    console.log(
      `compile: ${relative(repoRoot, out) || out} (${version}, commit ${commit}, ` +
        `deno ${Deno.version.deno}, ${TARGETS[arch].triple})`,
    );
  }
  return 0;
}

if (import.meta.main) {
  try {
    Deno.exitCode = await main(Deno.args);
  } catch (e) {
    console.error(`compile: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exitCode = e instanceof CompileUsageError ? 2 : 1;
  }
}
