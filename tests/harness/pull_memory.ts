/**
 * Runs one pullCoverage in this process and prints, as one JSON line, how it ended and the most
 * memory it held: V8's external memory (where ArrayBuffers live) after a forced GC, sampled every
 * 50 ms during the pull, above what it was before. Needs `--v8-flags=--expose-gc`; see
 * `measurePull`.
 *
 * Usage: deno run -A --v8-flags=--expose-gc tests/harness/pull_memory.ts <port> <maxBody> <timeoutMs>
 */

import { pullCoverage } from "../../src/collect/pull.ts";

/** What one measured pull came to. */
export interface PullMemory {
  /** "ok", or the PullError kind. */
  kind: string;
  /** Most bytes held at once during the pull (external memory after GC, above the start). */
  heldBytes: number;
}

/**
 * Pulls from 127.0.0.1:`port` in a child process and reports the memory the pull held.
 * @example const m = await measurePull(srv.coveragePort, 8 << 20, 3000); // { kind: "too-large", heldBytes: 9e6 }
 */
export async function measurePull(
  port: number,
  maxBody: number,
  timeoutMs: number,
): Promise<PullMemory> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--v8-flags=--expose-gc",
      new URL(import.meta.url).pathname,
      String(port),
      String(maxBody),
      String(timeoutMs),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (out.code !== 0 || text === "") {
    throw new Error(`pull_memory exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return JSON.parse(text);
}

if (import.meta.main) {
  const [port, maxBody, timeoutMs] = Deno.args.map(Number);
  const gc = (globalThis as unknown as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --v8-flags=--expose-gc");
  gc();
  const base = Deno.memoryUsage().external;
  let held = 0;
  const sample = () => {
    gc();
    held = Math.max(held, Deno.memoryUsage().external - base);
  };
  const timer = setInterval(sample, 50);
  const kind = await pullCoverage({ host: "127.0.0.1", port, nometa: false, timeoutMs, maxBody })
    .then(() => "ok", (e) => e?.kind ?? String(e));
  clearInterval(timer);
  console.log(JSON.stringify({ kind, heldBytes: held }));
}
