/** Is a candidate a coverage server, and which host process serves it? */

import { errorText } from "../errors.ts";
import { IdentityError, parseIdentity } from "./server_identity.ts";
import { linkedAbort } from "../linked_abort.ts";
import type { System } from "../system.ts";
import { type Candidate, hostPort, type Identity } from "../target.ts";
import { socketInodesOf } from "../procfs/fds.ts";
import { readStatus } from "../procfs/status.ts";

export type ProbeResult =
  | { kind: "coverage"; identity: Identity }
  | { kind: "not-coverage"; status: number }
  | { kind: "error"; error: string; timedOut?: boolean };

export interface ProbeOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/**
 * Sends `HEAD /health` to a candidate and reads the identity headers. Never throws: a refused
 * connection, a timeout or bad identity headers come back as `{kind: "error"}`.
 *
 * @example await probe({ host: "127.0.0.1", port: 53700, ... }, { timeoutMs: 2000 })
 * // { kind: "coverage", identity: { binary: "kube-apiserver", pid: 1, extra: {} } }
 */
export async function probe(
  candidate: Pick<Candidate, "host" | "port">,
  { timeoutMs, signal }: ProbeOptions,
): Promise<ProbeResult> {
  const { host, port } = candidate;
  if (host === "") return { kind: "error", error: `refusing to dial an empty host (port ${port})` };
  const url = `http://${hostPort(host, port)}/health`;
  const timeout = AbortSignal.timeout(timeoutMs);
  const link = linkedAbort(signal ? [signal, timeout] : [timeout]);
  let res: Response;
  try {
    res = await fetch(url, { method: "HEAD", redirect: "manual", signal: link.signal });
  } catch (e) {
    if (timeout.aborted) {
      return {
        kind: "error",
        error: `HEAD ${url}: no answer within ${timeoutMs}ms`,
        timedOut: true,
      };
    }
    return { kind: "error", error: `HEAD ${url}: ${errorText(e)}` };
  } finally {
    link.dispose();
  }
  await res.body?.cancel().catch(() => {});
  try {
    const identity = parseIdentity(res.headers);
    return identity ? { kind: "coverage", identity } : { kind: "not-coverage", status: res.status };
  } catch (e) {
    if (e instanceof IdentityError) return { kind: "error", error: `HEAD ${url}: ${e.message}` };
    throw e;
  }
}

/**
 * The host PID among `candidate.pids` whose last NSpid (its PID as it sees itself) equals the
 * PID the server reported, and which holds the listening socket itself; null when none or more
 * than one match (refuse to guess), or when the match does not hold the socket (a PID reported
 * by a sibling container's server, PID 1 of its own namespace, names the owner's PID 1 too).
 *
 * @example await attribute(createSystem(), { pids: [48190, 48213], inode: 412337 }, { pid: 1 })
 * // 48213
 */
export async function attribute(
  system: System,
  candidate: Pick<Candidate, "pids" | "inode">,
  identity: Pick<Identity, "pid">,
): Promise<number | null> {
  const matches: number[] = [];
  for (const pid of candidate.pids) {
    const s = await readStatus(system, pid);
    if (s && s.pid === pid && s.nspid.at(-1) === identity.pid) matches.push(pid);
  }
  if (matches.length !== 1) return null;
  return (await socketInodesOf(system, matches[0])).has(candidate.inode) ? matches[0] : null;
}
