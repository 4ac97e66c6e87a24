/** Host bookkeeping of the real node: a /24 of 10.77.0.0/16 per run, cgroup mounts, stray PIDs. */

import { run } from "../netns.ts";

const LOCK_DIR = "/tmp/ccpeers-net";

/** 10.77.<block>.0/24, held until release(). */
export interface PeerLease {
  block: number;
  release(): void;
}

function pidAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Reserves a free 10.77.<block>.0/24 (not on any host interface or route, no live holder; a dead
 * holder's lock is taken over).
 * @example const lease = await leaseBlock("a1b2c3"); try { ... } finally { lease.release(); }
 */
export async function leaseBlock(runId: string): Promise<PeerLease> {
  Deno.mkdirSync(LOCK_DIR, { recursive: true });
  const used = (await run("ip", ["-o", "-4", "addr", "show"])) + (await run("ip", ["-4", "route"]));
  for (let block = 1; block < 255; block++) {
    const path = `${LOCK_DIR}/${block}.lock`;
    try {
      const owner = Number(Deno.readTextFileSync(path).split(" ")[0]);
      if (pidAlive(owner)) continue;
      Deno.removeSync(path);
    } catch { /* free */ }
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
