/**
 * The daemon restarted mid-run on the same node and directories (dir sink): it finds the servers
 * again, stores again under the prefixes they had, and every prefix still has exactly one covmeta.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { CollectorProcess } from "../harness/collector.ts";
import type { SimNode } from "../harness/node.ts";
import {
  assertRoutes,
  byPrefix,
  e2eSkipReason,
  e2eTest,
  eventually,
  exercise,
  filesUnder,
} from "./e2e_util.ts";
import { directCounters, someSlotEquals } from "./e2e_counts.ts";
import { oursUnder } from "./foreign_hosts.ts";
import { assertPrefix, type Expect, startWebAndHost, withNode } from "./e2e_run.ts";

const skip = await e2eSkipReason();
const PORT = 56500;
const IMG = "quay.io/e2e/restart@sha256:" + "cd".repeat(32);

/** The prefixes of a server, oldest discovery time first. */
function prefixesOf(all: Map<string, string[]>, e: Expect): string[] {
  return [...all.keys()].filter((p) => e.pattern.test(p)).sort();
}

/** Checks every prefix (files, info.json) and returns them by prefix. */
async function checkAll(
  out: string,
  expected: Expect[],
  node: SimNode,
): Promise<Map<string, string[]>> {
  // Other runs' host servers on this machine are stored too: only this node's are checked.
  const all = await oursUnder(out, byPrefix(await filesUnder(out)), node);
  for (const [prefix, names] of all) {
    const e = expected.find((x) => x.pattern.test(prefix));
    assert.ok(e, `unexpected prefix ${prefix}`);
    const info = await Deno.readTextFile(join(out, prefix, "info.json"));
    assertPrefix(prefix, names, info, { binary: e.server.binary, pid: e.pid });
  }
  return all;
}

/** Waits until the newest prefix of every server shows `ran` covered. */
function waitRoutes(
  out: string,
  node: SimNode,
  expected: Expect[],
  ran: string[],
  c: CollectorProcess,
) {
  return eventually(`stored data shows ${ran.join("+")}`, async () => {
    const all = await checkAll(out, expected, node);
    for (const e of expected) {
      const newest = prefixesOf(all, e).pop();
      assert.ok(newest, `no prefix for ${e.server.binary}`);
      await assertRoutes(join(out, newest), ran, newest);
    }
    return all;
  }, 60_000).catch((e) => assert.fail(`${e}\n${c.lines.slice(-30).join("\n")}`));
}

e2eTest(
  "run restarted on the same node: it collects again, one covmeta per prefix, new data " +
    "stored",
  skip,
  () =>
    withNode("e2e-restart", async (r) => {
      const { node, out } = r;
      const { web, host, expected } = await startWebAndHost(node, "e2e-e", IMG, PORT, "r");
      const start = async (schedule: string) => {
        const c = await r.collector("run", PORT, [
          ...r.dirSink,
          // These checks compare stored counts with the servers' live ones: store every change.
          "--store-refresh",
          "0s",
          "--pull-schedule",
          schedule,
          "--scan-interval",
          "2s",
        ]);
        await c.healthUrl();
        return c;
      };

      // First run: one pull at discovery, the next only at shutdown (1 h schedule).
      await exercise(web, "alpha");
      await exercise(host, "alpha");
      const first = await start("1h");
      await waitRoutes(out, node, expected, ["alpha"], first);
      await exercise(web, "beta", 2);
      await exercise(host, "beta", 2);
      assert.equal((await first.stop("SIGTERM")).code, 0, first.lines.join("\n"));
      // What ran before SIGTERM was stored by the final pull.
      const before = await checkAll(out, expected, node);
      for (const e of expected) {
        const [prefix] = prefixesOf(before, e);
        await assertRoutes(join(out, prefix), ["alpha", "beta"], `${prefix} after SIGTERM`);
      }

      // While no collector runs, the servers run gamma; the second run pulls every second.
      await exercise(web, "gamma");
      await exercise(host, "gamma");
      const second = await start("1s");
      await waitRoutes(out, node, expected, ["alpha", "beta", "gamma"], second);
      // It keeps collecting after the restart: later counts reach the newest prefix.
      await exercise(web, "alpha", 3);
      await exercise(host, "beta", 3);
      await eventually("counts after the restart stored", async () => {
        const all = await checkAll(out, expected, node);
        for (const e of expected) {
          const newest = prefixesOf(all, e).pop()!;
          const files = new Map<string, Uint8Array>();
          for (const n of all.get(newest)!) {
            files.set(n, await Deno.readFile(join(out, newest, n)));
          }
          const now = await directCounters(e.server);
          if (!await someSlotEquals(files, now, newest)) throw new Error(`${newest}: old counts`);
        }
        return true;
      }, 60_000).catch((e) => assert.fail(`${e}\n${second.lines.slice(-30).join("\n")}`));
      assert.equal((await second.stop("SIGTERM")).code, 0, second.lines.join("\n"));

      const after = await checkAll(out, expected, node);
      for (const e of expected) {
        const old = prefixesOf(before, e);
        const now = prefixesOf(after, e);
        assert.equal(old.length, 1, `before the restart: ${old.join(" ")}`);
        // A restart is no new discovery: the same processes keep their prefix (the state dir's
        // prefix memory), so nothing is stored, and counted, twice.
        assert.deepEqual(now, old, `after the restart: ${now.join(" ")}`);
      }
    }),
);
