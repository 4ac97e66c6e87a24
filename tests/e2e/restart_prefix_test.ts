/**
 * A collector restart does not double the counts: the daemon stopped and started again with the
 * same state dir finds the same processes again and stores them under the prefix they already
 * have (the prefix memory under `<state-dir>/prefixes`), so the store holds one process's data
 * once — one prefix per server, and `report` counts equal to the server's own.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { CollectorProcess } from "../harness/collector.ts";
import {
  assertRoutes,
  byPrefix,
  covdataFunc,
  covdataPercent,
  e2eSkipReason,
  e2eTest,
  eventually,
  exercise,
  filesUnder,
} from "./e2e_util.ts";
import { appCounts, directCounters } from "./e2e_counts.ts";
import { oursUnder } from "./foreign_hosts.ts";
import { type Expect, startWebAndHost, withNode } from "./e2e_run.ts";
import { runReport } from "../harness/run_report.ts";

const skip = await e2eSkipReason();
const PORT = 57850;
const NS = "e2e-rp";
const IMG = "quay.io/e2e/restart-prefix@sha256:" + "ef".repeat(32);

/** This node's stored prefixes of `e`. */
async function prefixesOf(out: string, node: Parameters<typeof oursUnder>[2], e: Expect) {
  const all = await oursUnder(out, byPrefix(await filesUnder(out)), node);
  return [...all].filter(([p]) => e.pattern.test(p)).sort(([a], [b]) => (a < b ? -1 : 1));
}

/** A directory holding the stored meta-data and the server's counters read straight from it. */
async function directDir(parent: string, leaf: string, e: Expect): Promise<string> {
  const names = [...(await filesUnder(leaf))];
  const meta = names.find((n) => n.startsWith("covmeta."))!;
  const hash = meta.slice("covmeta.".length);
  const d = await Deno.makeTempDir({ dir: parent, prefix: "direct-" });
  await Deno.writeFile(join(d, meta), await Deno.readFile(join(leaf, meta)));
  await Deno.writeFile(join(d, `covcounters.${hash}.${e.pid}.1`), await directCounters(e.server));
  return d;
}

const report = runReport;

e2eTest(
  "run stopped and started again with the same state dir: one prefix per process, counts once",
  skip,
  () =>
    withNode("e2e-restart-prefix", async (r) => {
      const { node, out, dir } = r;
      const { web, host, expected } = await startWebAndHost(node, NS, IMG, PORT, "rp");
      const start = async () => {
        const c = await r.collector("run", PORT, [
          ...r.dirSink,
          "--store-refresh",
          "0s",
          "--pull-schedule",
          "1s",
          "--scan-interval",
          "2s",
        ]);
        await c.healthUrl();
        return c;
      };
      const waitRoutes = (ran: string[], c: CollectorProcess) =>
        eventually(`stored data shows ${ran.join("+")}`, async () => {
          for (const e of expected) {
            const mine = await prefixesOf(out, node, e);
            assert.ok(mine.length > 0, `no prefix for ${e.server.binary}`);
            await assertRoutes(join(out, mine[mine.length - 1][0]), ran, e.server.binary);
          }
          return true;
        }, 60_000).catch((e) => assert.fail(`${e}\n${c.lines.slice(-30).join("\n")}`));

      await exercise(web, "alpha", 2);
      await exercise(host, "alpha", 2);
      const first = await start();
      await waitRoutes(["alpha"], first);
      // Seen by a later pull (a second or more after the discovery): the second run's discovery
      // time is another second, so without the prefix memory it would be another prefix.
      await exercise(web, "beta");
      await exercise(host, "beta");
      await waitRoutes(["alpha", "beta"], first);
      assert.equal((await first.stop("SIGTERM")).code, 0, first.lines.join("\n"));
      const before = new Map<Expect, string[]>();
      for (const e of expected) before.set(e, (await prefixesOf(out, node, e)).map(([p]) => p));

      // The same processes run on while no collector runs; then a second collector, same dirs.
      await exercise(web, "gamma", 3);
      await exercise(host, "gamma", 3);
      const second = await start();
      await waitRoutes(["alpha", "beta", "gamma"], second);
      assert.equal((await second.stop("SIGTERM")).code, 0, second.lines.join("\n"));

      for (const e of expected) {
        const now = await prefixesOf(out, node, e);
        assert.deepEqual(now.map(([p]) => p), before.get(e), `one prefix for ${e.server.binary}`);
        const leaf = join(out, now[0][0]);
        const direct = await directDir(dir, leaf, e);
        // covdata's figures of the store are those of the one process...
        assert.equal(await covdataPercent(leaf), await covdataPercent(direct), e.server.binary);
        assert.deepEqual(await covdataFunc(leaf), await covdataFunc(direct), e.server.binary);
        const info = JSON.parse(await Deno.readTextFile(join(leaf, "info.json")));
        assert.match(String(info.hostStartTime), /^\d+$/, `info.json hostStartTime of ${leaf}`);
        assert.match(String(info.bootId), /^[0-9a-f-]+$/, `info.json bootId of ${leaf}`);
        if (e.server === web) {
          // ...and so are report's counts: once, not the first run's added to the second's.
          const tmp = await Deno.makeTempDir({ dir });
          const res = await report(["--format", "json", "--namespace", NS, out]);
          assert.equal(res.code, 0, res.err);
          const b = JSON.parse(res.out).binaries[0];
          assert.deepEqual([b.prefixes, b.processes], [1, 1], res.out.slice(0, 400));
          const text = join(tmp, "report.txt");
          const t = await report(["--format", "textfmt", "--out", text, "--namespace", NS, out]);
          assert.equal(t.code, 0, t.err);
          const ours = (await Deno.readTextFile(text)).split("\n")
            .filter((l) => /\/(alpha|beta|gamma)\/\w+\.go:/.test(l)).sort();
          assert.deepEqual(ours, await appCounts(direct));
        }
      }
    }),
);
