/**
 * Starts the Go coverage fixture (tests/fixtures/covserver) and waits for the
 * ports it prints, so tests synchronise on the process, not on sleeps.
 */

import { covserverBinary } from "./gobuild.ts";
import { startUntilReady } from "./process.ts";

export interface StartCovserverOptions {
  /** Binary name (and so `X-Art-Coverage-Binary`); default `covserver`. */
  name?: string;
  /** Path of an already built binary; default: `covserverBinary(name)`. */
  binary?: string;
  /** First port of the coverage range; default a random one in 40000..59999. */
  coveragePort?: number;
  /** FIXTURE_MODE; default normal. */
  mode?: string;
  /** Extra environment (FIXTURE_*, SOURCE_GIT_COMMIT, ...). */
  env?: Record<string, string>;
  /** How long to wait for the port lines; default 20 s. */
  startTimeoutMs?: number;
  /**
   * Wraps the argv (e.g. a node's `inNode`, so it runs inside the node's namespaces); `pid` is
   * then the PID it has there (a `node-pid=N` line the wrapper's shell prints before the exec).
   */
  wrap?: (argv: string[]) => string[];
}

/** A running fixture process. */
export interface Covserver extends AsyncDisposable {
  /** PID of the process started (the wrapper in `wrapper` mode). */
  readonly pid: number;
  readonly coveragePort: number;
  readonly appPort: number;
  readonly binary: string;
  /** stderr so far. */
  stderr(): string;
  /** SIGTERM, then SIGKILL after `killAfterMs`; resolves with the exit status. */
  stop(killAfterMs?: number): Promise<Deno.CommandStatus>;
}

/**
 * Starts the fixture and resolves once it printed `coverage-port=N` and `app-port=N`.
 * @example
 * await using srv = await startCovserver({ mode: "cover500" });
 * await fetch(`http://127.0.0.1:${srv.coveragePort}/coverage`);
 */
export async function startCovserver(opts: StartCovserverOptions = {}): Promise<Covserver> {
  const binary = opts.binary ?? await covserverBinary(opts.name);
  const coveragePort = opts.coveragePort ?? 40000 + Math.floor(Math.random() * 20000);
  const env: Record<string, string> = {
    COVERAGE_PORT: String(coveragePort),
    APP_PORT: "0",
    FIXTURE_MODE: opts.mode ?? "",
    ...opts.env,
  };
  const ports = new Map<string, number>();
  const [command, ...args] = opts.wrap
    ? opts.wrap(["sh", "-c", 'echo node-pid=$$; exec "$0"', binary])
    : [binary];
  const proc = await startUntilReady({
    command,
    args,
    env,
    what: `covserver ${binary} (mode ${env.FIXTURE_MODE || "normal"})`,
    waitingFor: "printing its ports",
    timeoutMs: opts.startTimeoutMs ?? 20_000,
    onLine: (line) => {
      const m = /^(coverage-port|app-port|node-pid)=(\d+)$/.exec(line.trim());
      if (m) ports.set(m[1], Number(m[2]));
      return ports.has("coverage-port") && ports.has("app-port") ? true : undefined;
    },
  });
  return {
    pid: ports.get("node-pid") ?? proc.pid,
    coveragePort: ports.get("coverage-port")!,
    appPort: ports.get("app-port")!,
    binary,
    stderr: proc.stderr,
    stop: proc.stop,
    async [Symbol.asyncDispose]() {
      await proc.stop();
    },
  };
}
