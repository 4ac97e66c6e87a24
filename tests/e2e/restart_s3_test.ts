/**
 * The daemon stopped while S3 is away (its last data only in the spool under --state-dir), then
 * started again on the same directories with S3 back: the spooled data of the first run reaches
 * S3, and the second run stores under its own discovery time.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { type CollectorProcess, spawnCollector } from "../harness/collector.ts";
import { SimNode } from "../harness/node.ts";
import { canRunS3, type S3Server, startS3, writeRegistryAuth } from "../harness/s3.ts";
import {
  assertRoutes,
  baseFlags,
  checkPrefixFiles,
  e2eSkipReason,
  eventually,
  exercise,
  startServer,
  TIME,
} from "./e2e_util.ts";
import { s3Prefixes, writeFiles } from "./e2e_counts.ts";

const skip = (await e2eSkipReason()) ?? (await canRunS3() ? null : "needs versitygw (Go)");
const PORT = 56550;
const BASE = "ci/e2e-restart";

Deno.test({
  name: "run stopped during an S3 outage, started again: the first run's spooled data reaches S3" +
    (skip ? ` (skipped: ${skip})` : ""),
  ignore: skip !== null,
  async fn() {
    const node = await SimNode.create({ name: "e2e-restart-s3" });
    const dir = await Deno.makeTempDir({ prefix: "cc-e2e-restart-s3-" });
    let s3: S3Server | undefined;
    const running: CollectorProcess[] = [];
    try {
      s3 = await startS3();
      const store = s3;
      const auth = join(dir, "auth.json");
      await writeRegistryAuth(auth, { ...s3, s3BasePath: BASE });
      const host = await startServer({ host: node }, {
        binary: "rs-host",
        env: { COVERAGE_PORT: String(PORT) },
      });
      const start = async () => {
        const c = await spawnCollector([
          "run",
          ...baseFlags({ node, stateDir: join(dir, "state"), portStart: PORT }),
          "--sink",
          "s3",
          "--credentials-file",
          auth,
          "--s3-endpoint",
          store.endpoint,
          "--s3-path-style",
          "--pull-schedule",
          "1s",
        ]);
        running.push(c);
        await c.healthUrl();
        return c;
      };
      const pattern = new RegExp(`^testnode/_host_/${TIME}/rs-host$`);
      /** The stored prefixes (oldest first), each checked, with its routes judged by covdata. */
      const check = async (ran: string[][]) => {
        const all = await s3Prefixes(store, BASE);
        const prefixes = [...all.keys()].sort();
        assert.equal(prefixes.length, ran.length, `prefixes: ${prefixes.join(" ")}`);
        for (const [i, p] of prefixes.entries()) {
          assert.match(p, pattern);
          const files = all.get(p)!;
          const { pid } = checkPrefixFiles(p, [...files.keys()]);
          assert.equal(pid, host.proc.hostPid, `counters pid of ${p}`);
          const info = JSON.parse(new TextDecoder().decode(files.get("info.json")));
          assert.equal(info.binary, "rs-host");
          assert.equal(info.pid, host.proc.hostPid);
          await assertRoutes(await writeFiles(dir, files), ran[i], p);
        }
        return true;
      };

      await exercise(host, "alpha");
      const first = await start();
      await eventually("first run's data in S3", () => check([["alpha"]]), 60_000)
        .catch((e) => assert.fail(`${e}\n${first.lines.join("\n")}`));
      await s3.stop();
      await exercise(host, "beta", 2);
      await first.waitLine(/store unreachable; spooling/);
      assert.equal((await first.stop("SIGTERM")).code, 0, first.lines.join("\n"));

      await s3.start();
      await exercise(host, "gamma");
      const second = await start();
      await second.waitLine(/spool found from an earlier run/);
      // First run: alpha + beta (beta only ever reached its spool); second: all three.
      await eventually(
        "spooled data of the first run and the second run's data in S3",
        () => check([["alpha", "beta"], ["alpha", "beta", "gamma"]]),
        90_000,
      ).catch((e) => assert.fail(`${e}\n${second.lines.slice(-30).join("\n")}`));
      assert.equal((await second.stop("SIGTERM")).code, 0, second.lines.join("\n"));
    } finally {
      for (const c of running) await c.stop("SIGKILL");
      await node.close();
      await s3?.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
    assert.deepEqual(await node.leftovers(), { netns: [], links: [], cgroups: [] });
  },
});
