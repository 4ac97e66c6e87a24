/**
 * The processes of a kubelet node (kubelet_node.ts): commands run in the node with their output
 * in a log of the run dir, readiness polls that fail with the log's tail, and the node's own
 * containerd (the CRI runtime when not CRI-O) with the tier's images imported.
 */

import { join } from "node:path";
import { cniConflist, containerdConfig, containerdPaths } from "./containerd.ts";
import { importTierImages, PAUSE_IMAGE } from "./images.ts";

/** `nsenter <args>` with stdout and stderr into `log`. */
export async function spawnLogged(args: string[], log: string): Promise<Deno.ChildProcess> {
  const f = await Deno.open(log, { write: true, create: true, truncate: true });
  const child = new Deno.Command("nsenter", {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = f.writable.getWriter();
  const pump = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s) await w.write(chunk).catch(() => {});
  };
  Promise.all([pump(child.stdout), pump(child.stderr)]).finally(() => w.close().catch(() => {}));
  return child;
}

export async function tail(log: string, n = 8): Promise<string> {
  return (await Deno.readTextFile(log).catch(() => "")).trim().split("\n").slice(-n).join("\n");
}

/** Polls `ok` every 200 ms until it is true, `proc` exits (throws with `log`'s tail) or time is up. */
export async function until(
  what: string,
  ok: () => Promise<boolean>,
  o: { proc?: Deno.ChildProcess; log?: string; ms?: number },
): Promise<void> {
  const deadline = Date.now() + (o.ms ?? 60_000);
  const state: { exited?: Deno.CommandStatus } = {};
  o.proc?.status.then((s) => state.exited = s);
  while (Date.now() < deadline) {
    const exited = state.exited;
    if (exited) {
      throw new Error(`${what}: process exited (${exited.code}):\n${await tail(o.log ?? "")}`);
    }
    if (await ok().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200)); // another process's readiness: no event to await
  }
  throw new Error(`${what}: not within ${o.ms ?? 60_000} ms:\n${await tail(o.log ?? "")}`);
}

/** The first child of `pid` (what nsenter forked), or 0. */
export function childOf(pid: number): number {
  try {
    return Number(
      Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/)[0],
    );
  } catch {
    return 0;
  }
}

/**
 * Starts containerd inside the node (`enter`: nsenter's arguments), its CNI bridge `ccp-<runId>`
 * on 10.77.<block>.0/24 inside the node only, and imports the pause and covserver images.
 */
export async function startNodeContainerd(o: {
  dir: string;
  enter: string[];
  runId: string;
  block: number;
  pause: string;
  cov: string;
  crictl: (args: string[]) => Promise<string>;
}): Promise<void> {
  const { dir, enter, pause, cov } = o;
  const p = containerdPaths(dir);
  for (const d of [p.root, p.state, p.cniConf, p.cniIpam, p.podLogs]) {
    await Deno.mkdir(d, { recursive: true });
  }
  const config = join(dir, "containerd.toml");
  await Deno.writeTextFile(config, containerdConfig(p, PAUSE_IMAGE));
  await Deno.writeTextFile(
    join(p.cniConf, "10-ccpeers.conflist"),
    cniConflist({
      name: `ccpeers-${o.runId}`,
      bridge: `ccp-${o.runId}`,
      subnet: `10.77.${o.block}.0/24`,
      ipamDir: p.cniIpam,
    }),
  );
  const ctrdLog = join(dir, "containerd.log");
  const ctrd = await spawnLogged([...enter, "containerd", "--config", config], ctrdLog);
  await until("containerd ready", async () => {
    await o.crictl(["version"]);
    return true;
  }, { proc: ctrd, log: ctrdLog, ms: 30_000 });
  await importTierImages(p.socket, dir, { pause, cov });
}
