/** Debian's chromium, headless, for tests that render the HTML report. */

import { join } from "node:path";
import { ensureAptPackages } from "./apt.ts";
import { hasGo } from "./gobuild.ts";

/**
 * The path of `chromium` on PATH, or null.
 *
 * @example const chromium = await chromiumPath(); // "/usr/bin/chromium"
 */
export async function chromiumPath(): Promise<string | null> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if ((await Deno.stat(join(dir, "chromium"))).isFile) return join(dir, "chromium");
    } catch { /* not here */ }
  }
  return null;
}

const CHROMIUM = { pkg: "chromium", program: "/usr/bin/chromium" };

/**
 * Chromium for a test of the HTML report of a real `-cover` run: on PATH, else Debian's, installed
 * with apt-get when root (as the real peers are); `why` says in one line why there is none.
 *
 * @example const { path, why } = await chromiumForTest("report_html_test");
 */
export async function chromiumForTest(
  test: string,
): Promise<{ path: string | null; why: string | null }> {
  if (!(await hasGo())) {
    return { path: null, why: "no go toolchain on PATH (the report is of a real -cover run)" };
  }
  const onPath = await chromiumPath();
  if (onPath !== null) return { path: onPath, why: null };
  const why = await ensureAptPackages([CHROMIUM], test);
  return why === null ? { path: CHROMIUM.program, why } : { path: null, why };
}

/**
 * Runs `chromium --headless ARGS` with a fresh profile (no network of its own) and returns stdout.
 *
 * @example const dom = await headless(chromium, ["--dump-dom", "file:///tmp/report.html"]);
 */
export async function headless(chromium: string, args: string[]): Promise<string> {
  const profile = await Deno.makeTempDir({ prefix: "report-chromium-" });
  try {
    const out = await new Deno.Command(chromium, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        `--user-data-dir=${profile}`,
        ...args,
      ],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(60_000),
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      throw new Error(`chromium ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`);
    }
    return text;
  } finally {
    await Deno.remove(profile, { recursive: true });
  }
}
