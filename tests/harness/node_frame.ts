/**
 * The frame shared by the end-to-end tiers (tests/e2e on a SimNode, tests/realnode on a RealNode):
 * a temp directory, collectors killed at the end, deferred steps, the node closed, and the
 * assertion that the node left nothing behind.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type CollectorProcess, spawnCollector } from "./collector.ts";

/** A node the frame closes and then asks for what is left of it. */
export interface FramedNode<L> {
  close(): Promise<void>;
  leftovers(): Promise<L>;
}

/** What `withNodeFrame` gives its body. */
export interface NodeFrame {
  /** A temp directory, removed at the end. */
  dir: string;
  /** `dir/out`. */
  out: string;
  /** Spawns `coverage-collector <args>`; it is killed (SIGKILL) at the end if still running. */
  spawn(
    args: string[],
    env?: Record<string, string>,
    wrap?: (argv: string[]) => string[],
  ): Promise<CollectorProcess>;
  /** Runs `fn` at the end, after the collectors are killed and before the node closes. */
  defer(fn: () => Promise<void>): void;
}

/**
 * Makes a temp directory (`prefix`), runs `body`, kills its collectors, runs the deferred steps
 * (last first), closes `node` and removes the directory even when `body` throws; then asserts
 * `node.leftovers()` equals `nothingLeft`.
 * @example await withNodeFrame(node, "cc-x-", { netns: [], links: [], cgroups: [] }, async (f) => {});
 */
export async function withNodeFrame<L>(
  node: FramedNode<L>,
  prefix: string,
  nothingLeft: L,
  body: (f: NodeFrame) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  const running: CollectorProcess[] = [];
  const deferred: (() => Promise<void>)[] = [];
  try {
    await body({
      dir,
      out: join(dir, "out"),
      spawn: async (args, env, wrap) => {
        const c = await spawnCollector(args, { env, wrap });
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
  assert.deepEqual(await node.leftovers(), nothingLeft);
}
