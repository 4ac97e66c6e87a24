/**
 * The frame of the scripts that run a simulated node by hand (fakenode, bench): their arguments,
 * the check that this machine can simulate a node, count flags, stopping on Ctrl-C / SIGTERM, and
 * the exit code of `main`.
 */

import { hasGo } from "../tests/harness/gobuild.ts";
import { canSimulateNode } from "../tests/harness/node.ts";

/**
 * The script's arguments without the `--` a deno task passes on first.
 * @example scriptArgs(["--", "--pods", "2"]) // ["--pods", "2"]
 */
export function scriptArgs(args: string[]): string[] {
  return args[0] === "--" ? args.slice(1) : args;
}

/**
 * True when this machine can simulate a node (root, ip netns, unshare, cgroups, Go); else says
 * what `tool` needs on stderr and returns false.
 * @example if (!(await canRunNode("bench"))) return 2;
 */
export async function canRunNode(tool: string): Promise<boolean> {
  if ((await hasGo()) && (await canSimulateNode())) return true;
  console.error(`${tool}: needs root, ip netns, unshare, setsid, writable cgroups and Go`);
  return false;
}

/**
 * The whole number >= 0 of `--flag` (`raw`), or `def` when not given.
 * @example countFlag("bench", "servers", "10", 100) // 10
 */
export function countFlag(
  tool: string,
  flag: string,
  raw: string | undefined,
  def: number,
): number {
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new Error(`${tool}: --${flag} must be a whole number >= 0, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/**
 * Runs `body` with a signal that SIGINT or SIGTERM aborts (its reason: the signal's name); the
 * listeners are removed when `body` ends.
 * @example await untilStopped(async (signal) => await stopped(signal));
 */
export async function untilStopped<T>(body: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const onInt = () => ac.abort("SIGINT");
  const onTerm = () => ac.abort("SIGTERM");
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  try {
    return await body(ac.signal);
  } finally {
    Deno.removeSignalListener("SIGINT", onInt);
    Deno.removeSignalListener("SIGTERM", onTerm);
  }
}

/**
 * Resolves with `signal`'s reason once it is aborted.
 * @example const sig = await stopped(signal); // "SIGINT"
 */
export function stopped(signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(signal.reason), { once: true })
  );
}

/**
 * Exits with what `main(Deno.args)` returns; an error is printed (its message) and exits 1.
 * @example if (import.meta.main) await runMain(main);
 */
export async function runMain(main: (args: string[]) => Promise<number>): Promise<never> {
  try {
    Deno.exit(await main(Deno.args));
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    Deno.exit(1);
  }
}
