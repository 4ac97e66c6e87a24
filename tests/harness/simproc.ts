/**
 * Processes of the simulated node: spawned in their own session (so the whole tree can be
 * killed), stdout/stderr captured line by line, awaitable lines.
 */

import { removeCgroup, SimCommandError } from "./netns.ts";

export { removeCgroup };

/** How to start one process. */
export interface SpawnSpec {
  /** argv[0] as seen by the harness (a wrapper such as `sh`); `argv` follows. */
  argv: string[];
  env?: Record<string, string>;
  /** What to call it in errors. */
  label: string;
}

/** A running process with captured output. */
export class SimProcess {
  readonly stdoutLines: string[] = [];
  readonly stderrLines: string[] = [];
  /** Resolves when the spawned process (the session leader) has exited. */
  readonly exited: Promise<Deno.CommandStatus>;
  readonly pid: number;
  #child: Deno.ChildProcess;
  #waiters = new Set<() => void>();
  #done = false;
  #readers: Promise<void>;

  constructor(readonly spec: SpawnSpec) {
    const [cmd, ...args] = spec.argv;
    // setsid: a child of Deno is no group leader, so setsid execs in place (same PID).
    this.#child = new Deno.Command("setsid", {
      args: [cmd, ...args],
      env: spec.env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.pid = this.#child.pid;
    this.#readers = Promise.all([
      this.#read(this.#child.stdout, this.stdoutLines),
      this.#read(this.#child.stderr, this.stderrLines),
    ]).then(() => {});
    this.exited = this.#child.status;
    // "Done" once it exited and its output was read to the end (no line is missed).
    Promise.all([this.exited, this.#readers]).then(() => {
      this.#done = true;
      this.#notify();
    });
  }

  async #read(stream: ReadableStream<Uint8Array>, lines: string[]): Promise<void> {
    let buf = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        this.#notify();
      }
    }
    if (buf) lines.push(buf);
    this.#notify();
  }

  #notify(): void {
    for (const w of [...this.#waiters]) w();
  }

  /**
   * Waits for a stdout line matching `re`; rejects when the process exits first or on timeout.
   * @example
   * const m = await proc.waitLine(/coverage-port=(\d+)/); const port = Number(m[1]);
   */
  waitLine(re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const finish = (fn: () => void) => {
        clearTimeout(timer);
        this.#waiters.delete(check);
        fn();
      };
      const check = () => {
        for (const line of this.stdoutLines) {
          const m = line.match(re);
          if (m) return finish(() => resolve(m));
        }
        if (this.#done) {
          finish(() => reject(this.#error(`exited before printing a line matching ${re}`)));
        }
      };
      const timer = setTimeout(
        () => finish(() => reject(this.#error(`no line matching ${re} within ${timeoutMs}ms`))),
        timeoutMs,
      );
      this.#waiters.add(check);
      check();
    });
  }

  #error(what: string): SimCommandError {
    const tail = this.stderrLines.slice(-5).join(" | ");
    return new SimCommandError(this.spec.label, `${what}; stderr: ${tail || "(empty)"}`);
  }

  /**
   * Sends `signal` to the whole session (process group) of this process.
   * @example
   * proc.killGroup("SIGKILL");
   */
  killGroup(signal: Deno.Signal = "SIGKILL"): void {
    if (this.#done) return;
    try {
      Deno.kill(-this.pid, signal);
    } catch { /* already gone */ }
  }

  /** Kills the group and waits for the process and its output streams to end. */
  async close(): Promise<void> {
    this.killGroup("SIGKILL");
    await this.exited;
    await this.#readers;
  }
}

/**
 * The PID of the only child of `pid` (e.g. unshare's forked init), polled until it appears.
 * @example
 * const init = await childPid(unsharePid, proc.exited);
 */
export async function childPid(
  pid: number,
  exited: Promise<unknown>,
  timeoutMs = 10_000,
): Promise<number> {
  let gone = false;
  exited.then(() => (gone = true), () => (gone = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !gone) {
    try {
      const kids = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim();
      if (kids) return Number.parseInt(kids.split(" ")[0], 10);
    } catch { /* not there yet or gone */ }
    // Polling: the kernel offers no event for "this process forked".
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new SimCommandError(
    `child of ${pid}`,
    gone ? "the process exited before forking" : `no child within ${timeoutMs}ms`,
  );
}

/**
 * Hierarchies where the harness puts containers: the v1 name=systemd one and cgroup2 (hybrid
 * hosts have both), so /proc/<pid>/cgroup ends in `crio-<id>.scope` on either kind of line.
 * @example
 * const roots = cgroupRoots(); // ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"]
 */
export function cgroupRoots(): string[] {
  roots ??= findCgroupRoots();
  return roots;
}

let roots: string[] | undefined;

function findCgroupRoots(): string[] {
  const mounts = Deno.readTextFileSync("/proc/self/mounts").split("\n").map((l) => l.split(" "));
  const v1 = mounts.find((m) => m[2] === "cgroup" && (m[3] ?? "").includes("name=systemd"));
  const v2 = mounts.find((m) => m[2] === "cgroup2");
  return [v1?.[1], v2?.[1]].filter((r): r is string => r !== undefined && writable(r));
}

function writable(dir: string): boolean {
  const probe = `${dir}/ccsim-probe-${Deno.pid}`;
  try {
    Deno.mkdirSync(probe);
    Deno.removeSync(probe);
    return true;
  } catch {
    return false;
  }
}
