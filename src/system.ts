/**
 * The one seam to the host: file reads under the host root, running programs, the clock.
 * The composition root makes one; tests make their own over a temp directory or the real host.
 */

import { errorText } from "./errors.ts";
import { linkedAbort } from "./linked_abort.ts";
import { join } from "node:path";

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * The child's whole environment when set (nothing of ours is inherited): a helper program
   * never sees the collector's secrets (S3 keys, tokens) by accident.
   */
  env?: Record<string, string>;
}

/** A program could not be run, or did not finish in time. */
export class RunError extends Error {
  constructor(
    readonly command: string,
    readonly kind: "not-found" | "timeout" | "failed-to-start" | "aborted",
    detail: string,
  ) {
    super(`${command}: ${detail}`);
    this.name = "RunError";
  }
}

export interface System {
  /** The host root, `/` on a node, `/host` in a debug pod. */
  readonly hostRoot: string;
  /** The real path of a host path, e.g. `/proc/1/status` → `/host/proc/1/status`. */
  hostPath(path: string): string;
  /** Reads a host file as text (path is a host path; the host root is added). */
  readText(path: string): Promise<string>;
  readBytes(path: string): Promise<Uint8Array>;
  readLink(path: string): Promise<string>;
  /**
   * Names in a host directory; with `limit`, at most that many (the directory is streamed and the
   * read stops there, so a huge directory costs no more than `limit` names).
   */
  readDir(path: string, limit?: number): Promise<string[]>;
  /** Runs a program with an argv array (never a shell); kills it at the timeout. */
  run(command: string, args: string[], opts: RunOptions): Promise<RunResult>;
  /** Milliseconds since the epoch: for names and for what people read, never for waits. */
  now(): number;
  /**
   * Milliseconds on a clock that only goes forward at a steady pace (not the wall clock, which
   * NTP or a person may set back or forward by hours): for schedules, retries and ages.
   */
  monotonic(): number;
}

/** The real system under `hostRoot`. */
export function createSystem(hostRoot = "/"): System {
  const hostPath = (p: string) => hostRoot === "/" ? p : join(hostRoot, p);
  return {
    hostRoot,
    hostPath,
    readText: (p) => Deno.readTextFile(hostPath(p)),
    readBytes: (p) => Deno.readFile(hostPath(p)),
    readLink: (p) => Deno.readLink(hostPath(p)),
    async readDir(p, limit = Infinity) {
      const names: string[] = [];
      if (limit <= 0) return names;
      for await (const e of Deno.readDir(hostPath(p))) {
        names.push(e.name);
        if (names.length >= limit) break;
      }
      return names;
    },
    run: runProgram,
    now: () => Date.now(),
    monotonic: () => performance.now(),
  };
}

/** Runs `command args...` and collects its output; see System.run. */
export async function runProgram(
  command: string,
  args: string[],
  { timeoutMs, signal, env }: RunOptions,
): Promise<RunResult> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const link = linkedAbort(signal ? [signal, timeout] : [timeout]);
  const both = link.signal;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: both,
      ...(env ? { env, clearEnv: true } : {}),
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new RunError(command, "not-found", "not found (is it installed and on PATH?)");
    }
    link.dispose();
    throw new RunError(command, "failed-to-start", errorText(e));
  }
  const out = await child.output().finally(() => link.dispose());
  if (timeout.aborted) {
    throw new RunError(command, "timeout", `did not finish within ${timeoutMs}ms and was killed`);
  }
  if (signal?.aborted) throw new RunError(command, "aborted", "stopped by shutdown");
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** Waits `ms`, or less when `signal` aborts (then resolves false). */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (completed: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(completed);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
