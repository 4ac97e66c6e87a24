/**
 * Starting a fixture process and waiting for the stdout line(s) that say it is ready, so tests
 * synchronise on the process, not on sleeps. Shared by the covserver and fakekube harnesses.
 */

/** A started process that printed what `untilReady` waited for. */
export interface ReadyProcess<T> {
  readonly pid: number;
  /** What `onLine` returned for the line that made it ready. */
  readonly ready: T;
  /** stderr so far. */
  stderr(): string;
  /**
   * SIGTERM, then SIGKILL after `killAfterMs` (default 5 s); resolves with the exit status once
   * stderr is drained. Later calls return the first call's promise.
   */
  stop(killAfterMs?: number): Promise<Deno.CommandStatus>;
}

/** What to start and how to tell that it is ready. */
export interface StartReadyOptions<T> {
  command: string;
  args?: string[];
  env?: Record<string, string>;
  /** Names the process in errors, e.g. `fakekube /path serve -dir ...`. */
  what: string;
  /** What it waits for, in errors: `printing its ports`, `its ready line`. */
  waitingFor: string;
  /** Killed (SIGKILL) when not ready after this long. */
  timeoutMs: number;
  /** Sees every stdout line until ready; returns a value (not undefined) once it is. */
  onLine: (line: string) => T | undefined;
}

/** Sends `sig` to `child` unless it already exited. */
function tryKill(child: Deno.ChildProcess, sig: Deno.Signal): void {
  try {
    child.kill(sig);
  } catch { /* already gone */ }
}

/**
 * Spawns `command` (stdin closed, stdout and stderr piped), feeds its stdout lines to `onLine`
 * until that returns a value, then keeps draining stdout. Throws, naming the process, its exit
 * and its stderr, when it ends (or is killed at `timeoutMs`) before that.
 * @example
 * const p = await startUntilReady({
 *   command: bin, what: `fakekube ${bin}`, waitingFor: "its ready line", timeoutMs: 30_000,
 *   onLine: (l) => l.startsWith("ready ") ? l.slice(6) : undefined,
 * });
 * await p.stop();
 */
export async function startUntilReady<T>(o: StartReadyOptions<T>): Promise<ReadyProcess<T>> {
  const child = new Deno.Command(o.command, {
    args: o.args,
    env: o.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let errText = "";
  const errDone = child.stderr.pipeThrough(new TextDecoderStream()).pipeTo(
    new WritableStream({ write: (s) => void (errText += s) }),
  ).catch(() => {});
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => tryKill(child, "SIGKILL"), o.timeoutMs);
  let ready: T | undefined;
  try {
    let buf = "";
    while (ready === undefined) {
      const { value, done } = await reader.read();
      if (done) {
        const st = await child.status;
        await errDone;
        throw new Error(
          `${o.what} ended before ${o.waitingFor} ` +
            `(exit ${st.code}${st.signal ? `, ${st.signal}` : ""}): ${errText.trim()}`,
        );
      }
      buf += value;
      let nl;
      while (ready === undefined && (nl = buf.indexOf("\n")) >= 0) {
        ready = o.onLine(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    }
  } finally {
    clearTimeout(timer);
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read().catch(() => ({ done: true }))).done) { /* drain */ }
  })();

  let stopped: Promise<Deno.CommandStatus> | undefined;
  const stop = (killAfterMs = 5000) => {
    stopped ??= (async () => {
      tryKill(child, "SIGTERM");
      const t = setTimeout(() => tryKill(child, "SIGKILL"), killAfterMs);
      const status = await child.status;
      clearTimeout(t);
      await errDone;
      return status;
    })();
    return stopped;
  };
  return { pid: child.pid, ready, stderr: () => errText, stop };
}
