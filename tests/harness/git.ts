/**
 * The real git for tests that make a repository: no system or user config and one fixed identity,
 * so a repository made here is the same on every machine.
 */

/** The environment of every git a test runs (passed over the test's own, not instead of it). */
export const GIT_TEST_ENV = {
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_AUTHOR_NAME: "t",
  GIT_AUTHOR_EMAIL: "t@t",
  GIT_COMMITTER_NAME: "t",
  GIT_COMMITTER_EMAIL: "t@t",
};

/** Whether git is on PATH. */
export const hasGit = await new Deno.Command("git", { args: ["--version"], stdout: "null" })
  .output().then((o) => o.success, () => false);

/**
 * Runs `git ARGS` in `dir`; its stdout, or an error naming the command and its stderr.
 *
 * @example await git(dir, "commit", "-q", "-m", "base");
 */
export async function git(dir: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", {
    args,
    cwd: dir,
    env: GIT_TEST_ENV,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (!out.success) throw new Error(`git ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  return dec.decode(out.stdout);
}
