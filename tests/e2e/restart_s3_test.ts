/**
 * The daemon stopped while S3 is away (its last data only in the spool under --state-dir), then
 * started again on the same directories with S3 back: the spooled data of the first run reaches
 * S3, and the second run stores under the same prefix (the process is remembered in the state
 * dir), its newer counters never overwritten by the first run's spooled ones.
 */

import assert from "node:assert/strict";
import { canRunS3 } from "../harness/s3.ts";
import {
  assertRoutes,
  e2eSkipReason,
  e2eTest,
  eventually,
  exercise,
  startServer,
} from "./e2e_util.ts";
import { s3Prefixes, writeFiles } from "./e2e_counts.ts";
import { oursInS3 } from "./foreign_hosts.ts";
import { assertPrefix, expectHost, withS3Node } from "./e2e_run.ts";

const skip = (await e2eSkipReason()) ?? (await canRunS3() ? null : "needs versitygw (Go)");
const PORT = 56550;
const BASE = "ci/e2e-restart";

e2eTest(
  "run stopped during an S3 outage, started again: the first run's spooled data reaches S3",
  skip,
  () =>
    withS3Node("e2e-restart-s3", BASE, async (r) => {
      const { s3, dir } = r;
      const host = await startServer({ host: r.node }, {
        binary: "rs-host",
        env: { COVERAGE_PORT: String(PORT) },
      });
      const start = async () => {
        const c = await r.collector("run", PORT, [...r.s3Sink, "--pull-schedule", "1s"]);
        await c.healthUrl();
        return c;
      };
      const { pattern } = expectHost(host);
      /** The stored prefixes (oldest first), each checked, with its routes judged by covdata. */
      const check = async (ran: string[][]) => {
        // Other runs' host servers on this machine are stored too: only this node's count.
        const all = await oursInS3(await s3Prefixes(s3, BASE), r.node);
        const prefixes = [...all.keys()].sort();
        assert.equal(prefixes.length, ran.length, `prefixes: ${prefixes.join(" ")}`);
        for (const [i, p] of prefixes.entries()) {
          assert.match(p, pattern);
          const files = all.get(p)!;
          const info = new TextDecoder().decode(files.get("info.json"));
          assertPrefix(p, [...files.keys()], info, { binary: host.binary, pid: host.proc.hostPid });
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
      // One prefix: the first run's alpha + beta (beta only ever reached its spool), then the
      // second run's gamma on top.
      await eventually(
        "spooled data of the first run and the second run's data in S3",
        () => check([["alpha", "beta", "gamma"]]),
        90_000,
      ).catch((e) => assert.fail(`${e}\n${second.lines.slice(-30).join("\n")}`));
      assert.equal((await second.stop("SIGTERM")).code, 0, second.lines.join("\n"));
    }),
);
