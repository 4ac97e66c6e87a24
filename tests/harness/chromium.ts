/** Debian's chromium, headless, for tests that render the HTML report. */

import { join } from "node:path";

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
