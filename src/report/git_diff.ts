/**
 * `report --diff-base REF --repo DIR`: the diff of the work tree against REF, from
 * `git -C DIR diff --unified=0 REF`. Thin I/O: git runs with a clean environment (no user or
 * system configuration, no prompts, no lazy fetch of a partial clone: no network), with the
 * options that keep its output the plain unified diff the parser reads, and its output bounded.
 */

/** `git diff` could not give the diff: names the repository, the ref and what git said. */
export class GitDiffError extends Error {
  constructor(readonly repo: string, readonly ref: string, detail: string) {
    super(`git diff ${JSON.stringify(ref)} in ${repo}: ${detail}`);
    this.name = "GitDiffError";
  }
}

export interface GitDiffOptions {
  signal?: AbortSignal;
  /** Largest diff read (default 64 MiB); a larger one is an error, not a cut. */
  maxBytes?: number;
  /** The git program (default `git` from PATH). */
  git?: string;
}

/** The command line run for `ref` (without the program): exported for the README and tests. */
export function gitDiffArgs(repo: string, ref: string): string[] {
  return [
    "-C",
    repo,
    // Settings a repository's own config could change the output (or run programs) with.
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.quotePath=true",
    "-c",
    "diff.noprefix=false",
    "-c",
    "diff.mnemonicPrefix=false",
    "-c",
    "diff.relative=false",
    "-c",
    "protocol.allow=never",
    "diff",
    "--unified=0",
    "--no-color",
    "--no-ext-diff",
    "--no-textconv",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    ref,
    "--",
  ];
}

/** Why `ref` cannot be passed to git, or undefined. */
export function refProblem(ref: string): string | undefined {
  if (ref === "") return "is empty";
  if (ref.startsWith("-")) return "starts with '-' (it would be read as an option)";
  if (ref.length > 1024) return "is longer than 1024 characters";
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x20\x7f]/.test(ref)) return "holds a space or a control character";
  return undefined;
}

/**
 * The unified diff of `repo`'s work tree against `ref`.
 *
 * @example const text = await gitDiff(".", "origin/main");
 */
export async function gitDiff(
  repo: string,
  ref: string,
  { signal, maxBytes = 64 << 20, git = "git" }: GitDiffOptions = {},
): Promise<string> {
  const bad = refProblem(ref);
  if (bad) throw new GitDiffError(repo, ref.slice(0, 100), `the ref ${bad}`);
  const path = Deno.env.get("PATH") ?? "/usr/bin:/bin";
  let child;
  try {
    child = new Deno.Command(git, {
      args: gitDiffArgs(repo, ref),
      clearEnv: true,
      env: {
        PATH: path,
        HOME: "/nonexistent",
        LC_ALL: "C",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_TERMINAL_PROMPT: "0",
        GIT_NO_LAZY_FETCH: "1",
        GIT_OPTIONAL_LOCKS: "0",
        GIT_PAGER: "cat",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal,
    }).spawn();
  } catch (e) {
    throw new GitDiffError(repo, ref, `cannot run ${git}: ${e instanceof Error ? e.message : e}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  let tooLarge = false;
  const errPart = new Response(child.stderr).arrayBuffer();
  const reader = child.stdout.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > maxBytes) {
      tooLarge = true;
      await reader.cancel();
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      break;
    }
    chunks.push(value);
  }
  const status = await child.status;
  const err = new TextDecoder().decode(await errPart).trim().split("\n").slice(-3).join(" | ");
  signal?.throwIfAborted();
  if (tooLarge) throw new GitDiffError(repo, ref, `the diff is larger than ${maxBytes} bytes`);
  if (!status.success) {
    throw new GitDiffError(repo, ref, `git exited ${status.code}: ${err.slice(0, 500)}`);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) (all.set(c, at), at += c.length);
  return new TextDecoder().decode(all);
}
