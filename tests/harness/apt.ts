/**
 * Debian packages a test needs, installed with apt-get when root and missing (as `.ci/run` does),
 * else a one-line reason to skip.
 */

const decoder = new TextDecoder();

/** A Debian package and a program it provides (how we tell it is there). */
export interface AptPackage {
  pkg: string;
  program: string;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * Installs the packages of `want` whose program is missing; null when all are there after, else
 * why not (for a test's skip line).
 *
 * @example const why = await ensureAptPackages([{ pkg: "lcov", program: "/usr/bin/genhtml" }], "report tests");
 */
export async function ensureAptPackages(
  want: ReadonlyArray<AptPackage>,
  purpose: string,
  log: (line: string) => void = (l) => console.error(l),
): Promise<string | null> {
  const missing = want.filter((p) => !isFile(p.program)).map((p) => p.pkg);
  if (missing.length === 0) return null;
  if (Deno.uid() !== 0 || !isFile("/usr/bin/apt-get")) {
    return `${missing.join(", ")} not installed (needs root and apt-get to install)`;
  }
  log(`apt: installing ${missing.join(" ")} with apt-get for ${purpose}`);
  const apt = async (args: string[]) =>
    await new Deno.Command("apt-get", {
      args,
      env: { DEBIAN_FRONTEND: "noninteractive" },
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
  let out = await apt(["install", "-y", "-qq", ...missing]);
  if (!out.success) {
    await apt(["update", "-qq"]);
    out = await apt(["install", "-y", "-qq", ...missing]);
  }
  if (!out.success) {
    const err = decoder.decode(out.stderr).trim().split("\n").at(-1);
    return `apt-get install ${missing.join(" ")} failed: ${err}`;
  }
  const still = want.filter((p) => !isFile(p.program)).map((p) => p.program);
  return still.length ? `still missing after apt-get: ${still.join(", ")}` : null;
}
