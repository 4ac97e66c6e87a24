/** Host bookkeeping of the real node: a /24 of 10.77.0.0/16 per run, cgroup mounts, stray PIDs. */

import { pidAlive, pidRunning, rmdirWhenDrained } from "../hostfs.ts";
import { run } from "../netns.ts";

const LOCK_DIR = "/tmp/ccpeers-net";

/** 10.77.<block>.0/24, held until release(). */
export interface PeerLease {
  block: number;
  release(): void;
}

/**
 * Reserves a free 10.77.<block>.0/24 (not on any host interface or route, no live holder; a dead
 * holder's lock is taken over).
 * @example const lease = await leaseBlock("a1b2c3"); try { ... } finally { lease.release(); }
 */
export async function leaseBlock(runId: string): Promise<PeerLease> {
  Deno.mkdirSync(LOCK_DIR, { recursive: true });
  await sweepStaleRuns();
  const used = (await run("ip", ["-o", "-4", "addr", "show"])) + (await run("ip", ["-4", "route"]));
  for (let block = 1; block < 255; block++) {
    const path = `${LOCK_DIR}/${block}.lock`;
    if (used.includes(`10.77.${block}.`)) continue;
    try {
      Deno.writeTextFileSync(path, `${Deno.pid} ${runId}\n`, { createNew: true });
    } catch {
      continue;
    }
    return {
      block,
      release: () => {
        try {
          Deno.removeSync(path);
        } catch { /* gone */ }
      },
    };
  }
  throw new Error("leaseBlock: no free /24 left in 10.77.0.0/16");
}

/**
 * Sweeps every run whose process died without close() (see sweepRun) and frees its /24; returns
 * the run ids swept.
 * @example await sweepStaleRuns(); // ["a1b2c3"]
 */
export async function sweepStaleRuns(): Promise<string[]> {
  const swept: string[] = [];
  let locks: string[] = [];
  try {
    locks = [...Deno.readDirSync(LOCK_DIR)].map((e) => `${LOCK_DIR}/${e.name}`);
  } catch { /* none yet */ }
  for (const path of locks) {
    let owner: string[];
    try {
      owner = Deno.readTextFileSync(path).trim().split(" ");
    } catch {
      continue;
    }
    if (pidAlive(Number(owner[0]))) continue;
    await sweepRun(owner[1] ?? "");
    try {
      Deno.removeSync(path);
    } catch { /* another sweeper got it */ }
    swept.push(owner[1] ?? "");
  }
  return swept;
}

/**
 * Removes what a run whose process died left behind: its processes (containerd, shims, and
 * whatever is in its cgroups), its bridge, its cgroups and its temp directory.
 * @example await sweepRun("a1b2c3");
 */
export async function sweepRun(runId: string): Promise<void> {
  if (!/^[0-9a-f]{6}$/.test(runId)) return;
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  const dirs = [...Deno.readDirSync(tmp)].filter((e) => e.name.startsWith(`ccpeers-${runId}-`))
    .map((e) => `${tmp}/${e.name}`);
  const killed: number[] = [];
  for (const d of dirs) for (const pid of pidsMentioning(d)) killed.push(kill(pid));
  const cgroups = cgroupMounts().map((m) => `${m}/ccpeers-${runId}`);
  for (const cg of cgroups) killTree(cg, killed);
  await gone(killed);
  await run("ip", ["link", "del", `ccp-${runId}`]).catch(() => {});
  for (const cg of cgroups) await rmTree(cg);
  for (const d of dirs) await Deno.remove(d, { recursive: true }).catch(() => {});
}

function kill(pid: number): number {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone */ }
  return pid;
}

/** Waits (up to 5 s) until every PID has exited: SIGKILL is not instant. */
async function gone(pids: number[]): Promise<void> {
  for (let i = 0; i < 250 && pids.some(pidRunning); i++) {
    await new Promise((r) => setTimeout(r, 20)); // no event for another process's exit
  }
}

function subdirs(dir: string): string[] {
  try {
    return [...Deno.readDirSync(dir)].filter((e) => e.isDirectory).map((e) => `${dir}/${e.name}`);
  } catch {
    return [];
  }
}

function killTree(dir: string, killed: number[]): void {
  for (const sub of subdirs(dir)) killTree(sub, killed);
  let procs = "";
  try {
    procs = Deno.readTextFileSync(`${dir}/cgroup.procs`);
  } catch { /* gone */ }
  for (const p of procs.split("\n").filter((x) => x !== "")) killed.push(kill(Number(p)));
}

async function rmTree(dir: string): Promise<void> {
  for (const sub of subdirs(dir)) await rmTree(sub);
  await rmdirWhenDrained(dir); // a sweep leaves a still busy cgroup to the next one
}

/**
 * Mount points of every cgroup hierarchy (v1 controllers and cgroup2).
 * @example cgroupMounts() // ["/sys/fs/cgroup/cpu", ..., "/sys/fs/cgroup/unified"]
 */
export function cgroupMounts(): string[] {
  return Deno.readTextFileSync("/proc/self/mounts").split("\n").map((l) => l.split(" "))
    .filter((m) => m[2] === "cgroup" || m[2] === "cgroup2").map((m) => m[1]);
}

/**
 * PIDs whose command line mentions `text` (containerd and its shims name the run directory).
 * @example pidsMentioning("/tmp/ccpeers-a1b2c3-xyz")
 */
export function pidsMentioning(text: string): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name) || Number(e.name) === Deno.pid) continue;
    try {
      const cmd = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ");
      if (cmd.includes(text)) out.push(Number(e.name));
    } catch { /* gone */ }
  }
  return out;
}
