/**
 * The frame of the real-node tier: a RealNode (containerd + the real crictl), a temp directory,
 * collectors killed at the end, and the assertion that teardown left nothing. Skips, with a
 * one-line reason, where a peer cannot be had.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { CollectorProcess } from "../harness/collector.ts";
import { byPrefix, e2eTest, eventually, filesUnder } from "../e2e/e2e_util.ts";
import { hasGo } from "../harness/gobuild.ts";
import { withNodeFrame } from "../harness/node_frame.ts";
import { realPeers } from "../harness/peers.ts";
import { RealNode } from "../harness/realnode/realnode.ts";
import type { CriNode, Runtime } from "../harness/realnode/cri_node.ts";
import { crioPeers, startCrio } from "../harness/realnode/crio_peers.ts";

/** Coverage ports of the real tier (apart from the simulated node's 56xxx). */
export const REAL_PORT = 57400;

let reason: Promise<string | null> | undefined;

/**
 * Why the real-node tier cannot run here (null when it can): root, Go, the apt peers, crictl.
 * @example realSkipReason().then((r) => console.log(r ?? "ok"));
 */
export function realSkipReason(): Promise<string | null> {
  reason ??= (async () => {
    if (Deno.uid() !== 0) return "needs root (containerd, namespaces, cgroups)";
    if (!(await hasGo())) return "needs Go (fixture images, go tool covdata)";
    const p = await realPeers(["crictl"]);
    return p.ok ? null : p.reason;
  })();
  return reason;
}

/** The runtimes every real-node test body runs on. */
export const RUNTIMES: readonly Runtime[] = ["containerd", "crio"];

/**
 * Why the tier cannot run on `runtime` here (null when it can): realSkipReason, and for CRI-O
 * its own peers (crio, pinns, conmon, skopeo).
 * @example await runtimeSkipReason("crio") // null, or "crio v1.34.0 could not be built: ..."
 */
export async function runtimeSkipReason(runtime: Runtime): Promise<string | null> {
  const base = await realSkipReason();
  if (base || runtime === "containerd") return base;
  const p = await crioPeers();
  return p.ok ? null : p.reason;
}

/**
 * Registers one test per runtime from one body: `<name> [containerd]`, `<name> [crio]`, each
 * ignored with its own reason when its runtime cannot run here.
 * @example await realTestOnEach("stores a server", (rt) => withRealNode("x", body, rt));
 */
export async function realTestOnEach(
  name: string,
  fn: (runtime: Runtime) => Promise<void>,
  runtimes: readonly Runtime[] = RUNTIMES,
): Promise<void> {
  for (const rt of runtimes) {
    realTest(`${name} [${rt}]`, await runtimeSkipReason(rt), () => fn(rt));
  }
}

/**
 * A node of `runtime`, running.
 * @example const node = await startNode("crio");
 */
export async function startNode(runtime: Runtime): Promise<CriNode> {
  if (runtime === "crio") return await startCrio();
  return await RealNode.create({ crictl: await realCrictl() });
}

/**
 * The path of the real crictl peer (throws its reason when it cannot be had).
 * @example const node = await RealNode.create({ crictl: await realCrictl() });
 */
export async function realCrictl(): Promise<string> {
  const p = await realPeers(["crictl"]);
  if (!p.ok) throw new Error(p.reason);
  return p.paths.crictl;
}

/**
 * Registers a Deno test ignored with the reason in its name when the real tier cannot run (the
 * e2e tier's `e2eTest`).
 * @example realTest("harness leaves nothing", await realSkipReason(), async () => {});
 */
export const realTest: (name: string, skip: string | null, fn: () => Promise<void>) => void =
  e2eTest;

/** What `withRealNode` gives a test. */
export interface RealRun {
  node: CriNode;
  dir: string;
  out: string;
  /** Spawns the collector against the node (dir sink into `out`), killed at the end. */
  collector(
    command: "run" | "once",
    extra?: string[],
    env?: Record<string, string>,
  ): Promise<CollectorProcess>;
  /** Runs `fn` at the end, after the collectors are killed and before the node closes. */
  defer(fn: () => Promise<void>): void;
}

/**
 * The collector flags for this node: the real crictl with the node's CRI endpoint, the tier's
 * port range, a health server on any loopback port, `--kubeconfig-wait` (default 0s).
 * @example realFlags(node, "/tmp/x/state")
 */
export function realFlags(
  node: Pick<CriNode, "crictl" | "endpoint">,
  stateDir: string,
  kubeconfigWait = "0s",
): string[] {
  return [
    "--crictl",
    node.crictl,
    "--runtime-endpoint",
    node.endpoint,
    "--host-root",
    "/",
    "--state-dir",
    stateDir,
    "--health-addr",
    "127.0.0.1:0",
    "--kubeconfig-wait",
    kubeconfigWait,
    "--hostname",
    "realnode",
    "--port-start",
    String(REAL_PORT),
    "--port-span",
    "50",
  ];
}

/**
 * Creates a node of `runtime` and a temp dir, runs `body`, tears both down even when it throws,
 * then asserts nothing is left (processes, bridge, cgroups, run dir, the host paths the runtime
 * would use). On CRI-O the collector runs inside the node (its mount, network and PID
 * namespaces), as it runs on a node; it dies with its nsenter (setpriv --pdeathsig).
 * @example await withRealNode("once", async ({ node, collector }) => { ... });
 */
export async function withRealNode(
  name: string,
  body: (r: RealRun) => Promise<void>,
  runtime: Runtime = "containerd",
): Promise<void> {
  const node = await startNode(runtime);
  const wrap = runtime === "crio"
    ? (argv: string[]) => node.inNode(["setpriv", "--pdeathsig", "SIGKILL", "--", ...argv])
    : undefined;
  const nothingLeft = { processes: [], links: [], cgroups: [], paths: [] };
  await withNodeFrame(node, `cc-real-${name}-`, nothingLeft, ({ dir, out, spawn, defer }) =>
    body({
      node,
      dir,
      out,
      collector: async (command, extra = [], env) => {
        const c = await spawn(
          [
            command,
            ...realFlags(node, join(dir, "state")),
            "--sink",
            "dir",
            "--output-dir",
            out,
            ...extra,
          ],
          env,
          wrap,
        );
        if (!wrap) return c;
        // Its health server listens on the node's loopback: reached from here through the node.
        // nsenter passes no signal on: a stop signals the collector itself (nsenter's child).
        const inner = c.healthUrl;
        return {
          ...c,
          healthUrl: async () => await node.reachFromHost(await inner()),
          stop: async (signal: Deno.Signal = "SIGTERM") => {
            const kids = childrenOf(c.child.pid);
            for (const pid of kids.length ? kids : [c.child.pid]) {
              try {
                Deno.kill(pid, signal);
              } catch { /* gone */ }
            }
            return await c.status;
          },
        };
      },
      defer,
    }));
}

/** PIDs whose parent is `pid`. */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) {
        out.push(Number(e.name));
      }
    } catch { /* gone */ }
  }
  return out;
}

/**
 * Runs app route `route` of a container `times` times (`?n=2`, `?n=3`, ...), asserting each 200.
 * @example await hitRoute(container, "alpha");
 */
export async function hitRoute(
  c: { appUrl: string },
  route: string,
  times = 1,
  node?: Pick<CriNode, "get">,
): Promise<void> {
  for (let i = 0; i < times; i++) {
    const url = `${c.appUrl}/run/${route}?n=${i + 2}`;
    const { status, body } = node ? await node.get(url) : await fetch(url).then(async (r) => ({
      status: r.status,
      body: await r.text(),
    }));
    assert.equal(status, 200, `${c.appUrl}/run/${route}: ${body}`);
  }
}

/**
 * Waits (up to `limitMs`) for a prefix under `out` with counters stored whose info.json `key` is
 * `value`; fails with the collector's last log lines.
 * @example const { prefix } = await storedWhere(out, "containerId", ct.id, collector);
 */
export function storedWhere(
  out: string,
  key: string,
  value: unknown,
  c: CollectorProcess,
  what = `a stored prefix with ${key}=${value}`,
  limitMs = 30_000,
): Promise<{ prefix: string; info: Record<string, unknown> }> {
  return eventually(what, async () => {
    for (const [prefix, names] of byPrefix(await filesUnder(out))) {
      if (!names.some((n) => n.startsWith("covcounters."))) continue;
      const info = JSON.parse(await Deno.readTextFile(join(out, prefix, "info.json")));
      if (info[key] === value) return { prefix, info };
    }
    return undefined;
  }, limitMs).catch((e) => assert.fail(`${e}\n${c.lines.slice(-30).join("\n")}`));
}
