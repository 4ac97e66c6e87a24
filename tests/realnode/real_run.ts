/**
 * The frame of the real-node tier: a RealNode (containerd + the real crictl), a temp directory,
 * collectors killed at the end, and the assertion that teardown left nothing. Skips, with a
 * one-line reason, where a peer cannot be had.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type CollectorProcess, spawnCollector } from "../harness/collector.ts";
import { hasGo } from "../harness/gobuild.ts";
import { realPeers } from "../harness/peers.ts";
import { RealNode } from "../harness/realnode/realnode.ts";

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

/**
 * Registers a Deno test ignored with the reason in its name when the real tier cannot run.
 * @example realTest("harness leaves nothing", await realSkipReason(), async () => {});
 */
export function realTest(name: string, skip: string | null, fn: () => Promise<void>): void {
  Deno.test({ name: name + (skip ? ` (skipped: ${skip})` : ""), ignore: skip !== null, fn });
}

/** What `withRealNode` gives a test. */
export interface RealRun {
  node: RealNode;
  dir: string;
  out: string;
  /** Spawns the collector against the node (dir sink into `out`), killed at the end. */
  collector(command: "run" | "once", extra?: string[]): Promise<CollectorProcess>;
  /** Runs `fn` at the end, after the collectors are killed and before the node closes. */
  defer(fn: () => Promise<void>): void;
}

/**
 * The collector flags for this node: the real crictl with the node's CRI endpoint.
 * @example realFlags(node, "/tmp/x/state")
 */
export function realFlags(node: RealNode, stateDir: string): string[] {
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
    "0s",
    "--hostname",
    "realnode",
    "--port-start",
    String(REAL_PORT),
    "--port-span",
    "50",
  ];
}

/**
 * Creates a RealNode and a temp dir, runs `body`, tears both down even when it throws, then
 * asserts nothing is left (processes, bridge, cgroups, run dir, /run/containerd, /var/lib/cni).
 * @example await withRealNode("once", async ({ node, collector }) => { ... });
 */
export async function withRealNode(
  name: string,
  body: (r: RealRun) => Promise<void>,
): Promise<void> {
  const crictl = await realPeers(["crictl"]);
  if (!crictl.ok) throw new Error(crictl.reason);
  const node = await RealNode.create({ crictl: crictl.paths.crictl });
  const dir = await Deno.makeTempDir({ prefix: `cc-real-${name}-` });
  const out = join(dir, "out");
  const running: CollectorProcess[] = [];
  const deferred: (() => Promise<void>)[] = [];
  try {
    await body({
      node,
      dir,
      out,
      collector: async (command, extra = []) => {
        const c = await spawnCollector([
          command,
          ...realFlags(node, join(dir, "state")),
          "--sink",
          "dir",
          "--output-dir",
          out,
          ...extra,
        ]);
        running.push(c);
        return c;
      },
      defer: (fn) => void deferred.push(fn),
    });
  } finally {
    for (const c of running) await c.stop("SIGKILL");
    for (const fn of deferred.reverse()) await fn();
    await node.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  assert.deepEqual(await node.leftovers(), { processes: [], links: [], cgroups: [], paths: [] });
}
