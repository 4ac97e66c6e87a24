/**
 * Runs the collector as a user would: `deno run` with exactly the flags of deno.json's `start`
 * task (the same permission set the compiled binary gets), in a child process.
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const repoRoot: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** `deno run ... main.ts` from the start task, with `deno` dropped: the argv after the binary. */
export async function startTaskArgs(root: string = repoRoot): Promise<string[]> {
  const cfg = JSON.parse(await Deno.readTextFile(join(root, "deno.json")));
  const task: string = cfg.tasks.start;
  const words = task.split(/\s+/).filter((w) => w !== "");
  if (words[0] !== "deno") {
    throw new Error(`deno.json tasks.start does not start with deno: ${task}`);
  }
  // COLLECTOR_V8_FLAGS (e.g. --perf-basic-prof for scripts/bench --perf) joins the task's flags.
  const extra = Deno.env.get("COLLECTOR_V8_FLAGS");
  return words.slice(1).map((w) => {
    if (w === "main.ts") return join(root, "main.ts");
    if (extra && w.startsWith("--v8-flags=")) return `${w},${extra}`;
    return w;
  });
}

/** A running collector process with its stderr (log) lines. */
export interface CollectorProcess {
  child: Deno.ChildProcess;
  lines: string[];
  /** Resolves with the first log line matching `re` (rejects if the process ends first). */
  waitLine(re: RegExp): Promise<RegExpMatchArray>;
  stdout: Promise<string>;
  status: Promise<Deno.CommandStatus>;
  /** The health URL from the `started` line. */
  healthUrl(): Promise<string>;
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
}

/**
 * Starts `coverage-collector <args>` from source (of this tree, or `opts.root`: another tree's
 * export, as scripts/bench --compare runs one).
 *
 * @example const c = await spawnCollector(["run", "--health-addr", "127.0.0.1:0"]);
 */
export async function spawnCollector(
  args: string[],
  opts: {
    env?: Record<string, string>;
    cwd?: string;
    /** Run the collector of this tree instead (an export of another commit: bench --compare). */
    root?: string;
    /** Wraps the argv (e.g. to run it inside a node's namespaces). */
    wrap?: (argv: string[]) => string[];
  } = {},
): Promise<CollectorProcess> {
  const argv = [Deno.execPath(), ...await startTaskArgs(opts.root), ...args];
  const [cmd, ...rest] = opts.wrap ? opts.wrap(argv) : argv;
  const child = new Deno.Command(cmd, {
    args: rest,
    cwd: opts.cwd ?? opts.root ?? repoRoot,
    env: { NO_COLOR: "1", ...opts.env },
    clearEnv: false,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  let ended = false;
  const endWaiters: (() => void)[] = [];
  const stderrDone = (async () => {
    let buf = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        lines.push(line);
        if (Deno.env.get("COLLECTOR_LOG")) console.error(`[collector] ${line}`);
        for (const w of [...waiters]) {
          const m = line.match(w.re);
          if (m) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(m);
          }
        }
      }
    }
    if (buf) lines.push(buf);
    ended = true;
    endWaiters.forEach((f) => f());
  })();
  const stdout = new Response(child.stdout).text();
  const status = stderrDone.then(() => child.status);
  const waitLine = (re: RegExp) =>
    new Promise<RegExpMatchArray>((resolve, reject) => {
      for (const l of lines) {
        const m = l.match(re);
        if (m) return resolve(m);
      }
      if (ended) return reject(new Error(`collector ended without a line matching ${re}`));
      waiters.push({ re, resolve });
      endWaiters.push(() =>
        reject(
          new Error(`collector ended without a line matching ${re}:\n${lines.join("\n")}`),
        )
      );
    });
  return {
    child,
    lines,
    waitLine,
    stdout,
    status,
    healthUrl: async () => (await waitLine(/msg=started .*health=(http:\/\/\S+)/))[1],
    async stop(signal: Deno.Signal = "SIGTERM") {
      // nsenter forks the collector into the PID namespace and relays no signal: signal it.
      for (const pid of opts.wrap ? childPids(child.pid) : []) {
        try {
          Deno.kill(pid, signal);
        } catch { /* already gone */ }
      }
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      return await status;
    },
  };
}

function childPids(pid: number): number[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/)
      .filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
