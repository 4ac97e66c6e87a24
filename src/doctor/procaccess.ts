/**
 * Doctor's "/proc access" check: can this process read other processes' /proc entries the way
 * discovery does (environ, fd links, ns/net)? Tried on PID 1, the kubelet and a sample of other
 * processes (preferring ones in another PID namespace or owned by another user), because one
 * unreadable PID 1 (a sandbox's init with more capabilities) says little about the containers.
 */

import { osErrorCode } from "../procfs/gone.ts";
import { parseStatus } from "../procfs/status.ts";
import type { System } from "../system.ts";
import { type CheckResult, errorText, fail, ok, warn } from "./report.ts";

const IN_POD = "in a pod: privileged, hostPID: true, the host's / mounted at --host-root";
const FIX_PTRACE = `run as root with CAP_SYS_PTRACE (${IN_POD})`;
/** Most processes sampled besides PID 1. */
const SAMPLE = 6;
/** Most status files read to pick the sample (big nodes run thousands of processes). */
const SCAN_LIMIT = 4000;

/** A process tried, and why it was picked. */
interface Picked {
  pid: number;
  why: string;
}

type Outcome =
  | { pid: number; why: string; kind: "readable" }
  | { pid: number; why: string; kind: "gone" }
  | { pid: number; why: string; kind: "denied"; path: string; error: unknown };

const isNotFound = (e: unknown) =>
  e instanceof Deno.errors.NotFound || ["ESRCH", "ENOENT"].includes(osErrorCode(e) ?? "");

/** Reads what discovery reads of `pid`: environ, one fd link, ns/net. */
async function tryProcess(system: System, p: Picked): Promise<Outcome> {
  const reads: [string, () => Promise<unknown>][] = [
    [`/proc/${p.pid}/environ`, () => system.readBytes(`/proc/${p.pid}/environ`)],
    [`/proc/${p.pid}/fd`, async () => {
      const fds = await system.readDir(`/proc/${p.pid}/fd`);
      if (fds.length > 0) await system.readLink(`/proc/${p.pid}/fd/${fds[0]}`);
    }],
    [`/proc/${p.pid}/ns/net`, () => system.readLink(`/proc/${p.pid}/ns/net`)],
  ];
  for (const [path, read] of reads) {
    try {
      await read();
    } catch (e) {
      if (isNotFound(e)) return { ...p, kind: "gone" };
      return { ...p, kind: "denied", path, error: e };
    }
  }
  return { ...p, kind: "readable" };
}

interface Seen {
  pid: number;
  name: string;
  ppid: number;
  uid: string;
  depth: number;
}

async function readSeen(system: System, pid: number): Promise<Seen | null> {
  try {
    const text = await system.readText(`/proc/${pid}/status`);
    const s = parseStatus(text);
    const uid = /^Uid:\s*(\d+)/m.exec(text)?.[1] ?? "";
    return { pid, name: s.name, ppid: s.ppid, uid, depth: s.nspid.length };
  } catch {
    return null;
  }
}

/**
 * Picks the processes to try besides PID 1: the kubelet, up to two in a deeper PID namespace
 * (containers), up to two owned by another user, then others, never itself or kernel threads.
 *
 * @example await pickSample(createSystem("/"), pids) // [{ pid: 812, why: "kubelet" }, ...]
 */
export async function pickSample(system: System, pids: number[]): Promise<Picked[]> {
  const selfPid = Number(await system.readLink("/proc/self").catch(() => "NaN"));
  const self = Number.isFinite(selfPid) ? await readSeen(system, selfPid) : null;
  const picked: Picked[] = [];
  const has = (pid: number) => picked.some((p) => p.pid === pid);
  const others: Seen[] = [];
  for (const pid of pids.slice(0, SCAN_LIMIT)) {
    if (pid === 1 || pid === 2 || pid === selfPid) continue;
    const s = await readSeen(system, pid);
    if (!s || s.ppid === 2) continue; // gone, or a kernel thread (no environ to read)
    others.push(s);
  }
  const take = (max: number, why: (s: Seen) => string | null) => {
    let n = 0;
    for (const s of others) {
      if (n >= max || picked.length >= SAMPLE) return;
      const w = has(s.pid) ? null : why(s);
      if (w !== null) {
        picked.push({ pid: s.pid, why: w });
        n++;
      }
    }
  };
  take(1, (s) => s.name === "kubelet" ? "kubelet" : null);
  take(2, (s) => s.depth > (self?.depth ?? 1) ? "in another PID namespace" : null);
  take(2, (s) => self && s.uid !== self.uid ? `owned by uid ${s.uid}` : null);
  take(SAMPLE, () => "");
  return picked;
}

const label = (o: Outcome) => `PID ${o.pid}${o.why ? ` (${o.why})` : ""}`;

/**
 * Other processes' /proc entries can be read, as discovery reads them: FAIL when none of PID 1,
 * the kubelet and a sample of others can be read; WARN when only some can (naming what failed),
 * or when this is not the host's PID namespace (no kernel threads seen).
 *
 * @example await checkProcAccess(createSystem("/")) // { name: "/proc access", status: "OK", ... }
 */
export async function checkProcAccess(system: System): Promise<CheckResult> {
  const name = "/proc access";
  let pids: number[];
  try {
    pids = (await system.readDir("/proc")).filter((n) => /^\d+$/.test(n)).map(Number)
      .sort((a, b) => a - b);
  } catch (e) {
    return fail(
      name,
      `cannot list ${system.hostPath("/proc")}: ${errorText(e)}`,
      `check that ${system.hostPath("/proc")} is the host's /proc`,
    );
  }
  const sample = await pickSample(system, pids);
  const outcomes = await Promise.all(
    [{ pid: 1, why: "" }, ...sample].map((p) => tryProcess(system, p)),
  );
  const tried = outcomes.filter((o) => o.kind !== "gone");
  const readable = tried.filter((o) => o.kind === "readable");
  const denied = tried.filter((o) => o.kind === "denied");
  const why = (o: Outcome) =>
    o.kind === "denied" ? `cannot read ${system.hostPath(o.path)}: ${errorText(o.error)}` : "";
  if (readable.length === 0) {
    const first = denied[0];
    if (!first) return fail(name, "no process could be tried", FIX_PTRACE);
    const more = denied.length > 1 ? ` (nor any of ${denied.length - 1} other processes)` : "";
    const denial = first.kind === "denied" && first.error instanceof Deno.errors.PermissionDenied;
    return fail(
      name,
      `${why(first)}${more}`,
      denial ? FIX_PTRACE : `check that ${system.hostPath("/proc")} is the host's /proc`,
    );
  }
  const init = (await system.readText("/proc/1/comm").catch(() => "")).trim() || "unknown";
  const kinds = [...new Set(readable.filter((o) => o.why !== "").map((o) => o.why))];
  const summary = `${readable.length} of ${tried.length} sampled processes readable` +
    `${kinds.length ? ` (${kinds.join(", ")})` : ""}, ${pids.length} processes seen`;
  const warnings: string[] = [];
  const fixes: string[] = [];
  const pid1 = denied.find((o) => o.pid === 1);
  const rest = denied.filter((o) => o.pid !== 1);
  if (rest.length > 0) {
    warnings.push(
      `${why(rest[0])} (${label(rest[0])}; ${rest.length} of ${tried.length - 1} denied)`,
    );
    fixes.push(`${FIX_PTRACE}; servers in processes it cannot read are missed`);
  }
  if (pid1) {
    warnings.push(
      `${why(pid1)}, though other processes are readable: PID 1 ("${init}") holds privileges ` +
        "this process lacks (e.g. a sandbox's init)",
    );
    fixes.push(
      "nothing to do unless PID 1 runs coverage servers; on a node whose PID 1 is systemd, " +
        FIX_PTRACE,
    );
  }
  const kthreadd = await system.readText("/proc/2/status").then(parseStatus).catch(() => null);
  if (kthreadd?.name !== "kthreadd" || kthreadd.ppid !== 0) {
    warnings.push(
      `no kernel threads seen: not the host's PID namespace, only ${pids.length} processes seen`,
    );
    fixes.push(`run in the host PID namespace (${IN_POD})`);
  }
  if (warnings.length > 0) {
    return warn(name, `${summary}; ${warnings.join("; ")}`, fixes.join("; "));
  }
  return ok(name, `${summary} (PID 1 ${init})`);
}
