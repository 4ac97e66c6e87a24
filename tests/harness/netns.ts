/**
 * Network plumbing for the simulated node: one /24 of 10.244.0.0/16 per node (locked across
 * processes), a network namespace and a veth pair per pod, and a leftovers report.
 * Every name this module creates starts with `ccsim-`.
 */

import { pidAlive, rmdirWhenDrained } from "./hostfs.ts";

const decoder = new TextDecoder();
const LOCK_DIR = "/tmp/ccsim-net";

/** A command of the harness failed; names the command and what it printed. */
export class SimCommandError extends Error {
  constructor(readonly command: string, detail: string) {
    super(`${command}: ${detail}`);
    this.name = "SimCommandError";
  }
}

/**
 * Runs a program (argv, no shell) and returns its stdout; throws SimCommandError on failure.
 * @example
 * const names = await run("ip", ["netns", "list"]);
 */
export async function run(command: string, args: string[]): Promise<string> {
  const shown = [command, ...args].join(" ");
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(command, { args, stdin: "null", stdout: "piped", stderr: "piped" })
      .output();
  } catch (e) {
    throw new SimCommandError(shown, e instanceof Error ? e.message : String(e));
  }
  if (!out.success) {
    const err = decoder.decode(out.stderr).trim() || `exit code ${out.code}`;
    throw new SimCommandError(shown, err);
  }
  return decoder.decode(out.stdout);
}

/** A /24 block 10.244.<block>.0/24 reserved for one node until release(). */
export interface SubnetLease {
  block: number;
  release(): void;
}

function tryLock(block: number, runId: string): boolean {
  try {
    const f = Deno.openSync(`${LOCK_DIR}/${block}.lock`, { write: true, createNew: true });
    f.writeSync(new TextEncoder().encode(`${Deno.pid} ${runId}\n`));
    f.close();
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.AlreadyExists) return false;
    throw e;
  }
}

/**
 * Cleans the runs whose process died without close(): kills what is left in their cgroups,
 * deletes their links, netns and cgroups, frees their /24. Returns the run ids cleaned.
 * @example
 * await sweepStale(["/sys/fs/cgroup/systemd"]);
 */
export async function sweepStale(cgroupRoots: string[]): Promise<string[]> {
  const cleaned: string[] = [];
  for (const name of listDir(LOCK_DIR)) {
    const path = `${LOCK_DIR}/${name}`;
    let owner: string[];
    try {
      owner = Deno.readTextFileSync(path).trim().split(" ");
    } catch {
      continue;
    }
    const pid = Number.parseInt(owner[0], 10);
    const runId = owner[1] ?? "";
    if (!/^[0-9a-f]{6}$/.test(runId) || !Number.isInteger(pid) || pidAlive(pid)) continue;
    const left = await leftovers(runId, cgroupRoots);
    for (const cg of left.cgroups) killCgroupTree(cg);
    for (const link of left.links) await run("ip", ["link", "del", link]).catch(() => {});
    for (const ns of left.netns) await run("ip", ["netns", "del", ns]).catch(() => {});
    for (const cg of left.cgroups) await removeTree(cg);
    const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
    for (const d of listDir(tmp).filter((n) => n.startsWith(`ccsim-${runId}-`))) {
      await Deno.remove(`${tmp}/${d}`, { recursive: true }).catch(() => {});
    }
    try {
      Deno.removeSync(path);
    } catch { /* another sweeper got it */ }
    cleaned.push(runId);
  }
  return cleaned;
}

function killCgroupTree(dir: string): void {
  for (const sub of listDir(dir)) {
    if (Deno.statSync(`${dir}/${sub}`).isDirectory) killCgroupTree(`${dir}/${sub}`);
  }
  let pids: string[] = [];
  try {
    pids = Deno.readTextFileSync(`${dir}/cgroup.procs`).split("\n").filter((p) => p !== "");
  } catch { /* gone */ }
  for (const p of pids) {
    try {
      Deno.kill(Number(p), "SIGKILL");
    } catch { /* gone */ }
  }
}

async function removeTree(dir: string): Promise<void> {
  for (const sub of listDir(dir)) {
    if (Deno.statSync(`${dir}/${sub}`).isDirectory) await removeTree(`${dir}/${sub}`);
  }
  await removeCgroup(dir).catch(() => {}); // a sweep leaves a still busy cgroup to the next one
}

/**
 * Removes a cgroup directory once its processes are gone (retries while the kernel drains it).
 * @example
 * await removeCgroup("/sys/fs/cgroup/systemd/ccsim-a1b2c3/crio-ab.scope");
 */
export async function removeCgroup(path: string): Promise<void> {
  if (await rmdirWhenDrained(path)) return;
  throw new SimCommandError(`rmdir ${path}`, "cgroup still busy after 2s");
}

/**
 * Reserves a free 10.244.<block>.0/24 (no address of the host in it, no other live holder).
 * Sweeps dead runs first (see sweepStale).
 * @example
 * const lease = await leaseSubnet("a1b2c3", []); try { ... } finally { lease.release(); }
 */
export async function leaseSubnet(runId: string, cgroupRoots: string[]): Promise<SubnetLease> {
  Deno.mkdirSync(LOCK_DIR, { recursive: true });
  await sweepStale(cgroupRoots);
  const used = await run("ip", ["-o", "-4", "addr", "show"]);
  const routes = await run("ip", ["-4", "route", "show"]);
  const start = 1 + Math.floor(Math.random() * 254);
  for (let i = 0; i < 254; i++) {
    const block = 1 + (start - 1 + i) % 254;
    const prefix = `10.244.${block}.`;
    if (used.includes(prefix) || routes.includes(prefix)) continue;
    if (!tryLock(block, runId)) continue;
    return {
      block,
      release: () => {
        try {
          Deno.removeSync(`${LOCK_DIR}/${block}.lock`);
        } catch { /* already gone */ }
      },
    };
  }
  throw new SimCommandError(
    "leaseSubnet",
    "no free /24 left in 10.244.0.0/16 for a simulated node",
  );
}

/** One pod's network: namespace, host-side veth, addresses. */
export interface PodNet {
  netns: string;
  hostIf: string;
  hostIp: string;
  podIp: string;
}

/**
 * Creates netns `ccsim-<run>-<n>` with eth0 at 10.244.<block>.<4(n%64)+2>/30, lo up, a default route,
 * and the host end `ccsim-<run><n>` at .<4(n%64)+1>/30 (so the host routes to the pod IP).
 * @example
 * const net = await createPodNet("a1b2c3", lease.block, 0);
 */
export async function createPodNet(runId: string, block: number, n: number): Promise<PodNet> {
  if (n < 0 || n > 999) throw new SimCommandError("createPodNet", `pod index ${n} outside 0..999`);
  const slot = n % 64;
  const netns = `ccsim-${runId}-${n}`;
  const hostIf = `ccsim-${runId}${n}`;
  const hostIp = `10.244.${block}.${4 * slot + 1}`;
  const podIp = `10.244.${block}.${4 * slot + 2}`;
  await run("ip", ["netns", "add", netns]);
  try {
    await run("ip", [
      "link",
      "add",
      hostIf,
      "type",
      "veth",
      "peer",
      "name",
      "eth0",
      "netns",
      netns,
    ]);
    await run("ip", ["addr", "add", `${hostIp}/30`, "dev", hostIf]);
    await run("ip", ["link", "set", hostIf, "up"]);
    await run("ip", ["-n", netns, "link", "set", "lo", "up"]);
    await run("ip", ["-n", netns, "addr", "add", `${podIp}/30`, "dev", "eth0"]);
    await run("ip", ["-n", netns, "link", "set", "eth0", "up"]);
    await run("ip", ["-n", netns, "route", "add", "default", "via", hostIp]);
  } catch (e) {
    await deletePodNet({ netns, hostIf, hostIp, podIp });
    throw e;
  }
  return { netns, hostIf, hostIp, podIp };
}

/**
 * Deletes the veth pair and the namespace; missing pieces are fine.
 * @example
 * await deletePodNet(net);
 */
export async function deletePodNet(net: PodNet): Promise<void> {
  await run("ip", ["link", "del", net.hostIf]).catch(() => {});
  await run("ip", ["netns", "del", net.netns]).catch(() => {});
}

/** What a run (or all runs) left behind. */
export interface Leftovers {
  netns: string[];
  links: string[];
  cgroups: string[];
}

function listDir(path: string): string[] {
  try {
    return [...Deno.readDirSync(path)].map((e) => e.name);
  } catch {
    return [];
  }
}

/**
 * Lists `ccsim-<runId>` netns, host links and cgroups (all `ccsim-*` when runId is omitted).
 * @example
 * assertEquals(await leftovers("a1b2c3"), { netns: [], links: [], cgroups: [] });
 */
export async function leftovers(runId?: string, cgroupRoots: string[] = []): Promise<Leftovers> {
  const prefix = runId ? `ccsim-${runId}` : "ccsim-";
  const netns = (await run("ip", ["netns", "list"])).split("\n")
    .map((l) => l.split(" ")[0]).filter((n) => n.startsWith(prefix));
  const links = (await run("ip", ["-o", "link", "show"])).split("\n")
    .map((l) => (l.split(": ")[1] ?? "").split("@")[0]).filter((n) => n.startsWith(prefix));
  const cgroups = cgroupRoots.flatMap((root) =>
    listDir(root).filter((n) => n.startsWith(prefix)).map((n) => `${root}/${n}`)
  );
  return { netns, links, cgroups };
}
