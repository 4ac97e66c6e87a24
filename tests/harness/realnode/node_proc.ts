/**
 * The processes of a real node (realnode.ts, crionode.ts, kubelet_node.ts): its run ID, the
 * runtime spawned with its log in the run dir and polled until ready, the real crictl's
 * arguments, a start that closes the node when it fails, and the kill of what names a run dir.
 */

import { pidsMentioning } from "./sys.ts";

/** A random 6-hex run ID. */
export function newRunId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(3)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The real crictl's arguments against `endpoint` (runtime and image), 30 s timeout, then `args`. */
export function crictlArgs(endpoint: string, args: string[]): string[] {
  return [
    "--runtime-endpoint",
    endpoint,
    "--image-endpoint",
    endpoint,
    "--timeout",
    "30s",
    ...args,
  ];
}

/** Runs `start`; when it throws, closes `node` (ignoring what that throws) and rethrows. */
export async function startOrClose<T extends { close(): Promise<void> }>(
  node: T,
  start: () => Promise<void>,
): Promise<T> {
  try {
    await start();
  } catch (e) {
    await node.close().catch(() => {});
    throw e;
  }
  return node;
}

/** Spawns the runtime `argv` with its stderr into `log` (in the run dir, for post-mortems). */
export async function spawnRuntime(argv: string[], log: string): Promise<Deno.ChildProcess> {
  const [cmd, ...args] = argv;
  const proc = new Deno.Command(cmd, { args, stdin: "null", stdout: "null", stderr: "piped" })
    .spawn();
  proc.stderr.pipeTo((await Deno.open(log, { write: true, create: true })).writable)
    .catch(() => {});
  return proc;
}

/**
 * Polls `ready` every 100 ms (true: ready; false or a throw: not yet) until it is ready; throws
 * naming `what` and the tail of `log` when `proc` exits first or after `seconds`.
 */
export async function waitRuntimeReady(o: {
  what: string;
  proc: Deno.ChildProcess;
  log: string;
  seconds: number;
  ready: () => Promise<boolean>;
}): Promise<void> {
  const tail = async () =>
    (await Deno.readTextFile(o.log).catch(() => "")).trim().split("\n").slice(-5).join(" | ");
  const deadline = Date.now() + o.seconds * 1000;
  let last = "";
  while (Date.now() < deadline) {
    const st = await Promise.race([
      o.proc.status,
      new Promise<null>((r) => setTimeout(() => r(null), 100)),
    ]);
    if (st) throw new Error(`${o.what} exited (${st.code}) before it was ready: ${await tail()}`);
    try {
      if (await o.ready()) return;
    } catch (e) {
      last = String(e);
    }
  }
  throw new Error(`${o.what} not ready after ${o.seconds} s: ${last}; ${await tail()}`);
}

/** SIGKILLs every process whose command line names `text` (e.g. a run dir). */
export function killMentioning(text: string): void {
  for (const pid of pidsMentioning(text)) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }
}
