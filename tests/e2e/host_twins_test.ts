/**
 * Two host processes of one binary found in the same scan would share one storage prefix (the
 * path holds the discovery second, not the PID): each must get its own, with its own info.json.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  checkPrefixFiles,
  covdataPercent,
  e2eSkipReason,
  e2eTest,
  startServer,
} from "./e2e_util.ts";
import { assertOnceOk, runOnce, withNode } from "./e2e_run.ts";

const skip = await e2eSkipReason();

e2eTest(
  "once: two host processes of one binary found in one scan get a prefix each, each info.json its own PID",
  skip,
  () =>
    withNode("e2e-twins", async (r) => {
      const PORT = 56750;
      const env = { COVERAGE_PORT: String(PORT) };
      const a = await startServer({ host: r.node }, { binary: "twin", env });
      const b = await startServer({ host: r.node }, { binary: "twin", env });
      assert.equal(a.binary, b.binary);
      assert.notEqual(a.proc.hostPid, b.proc.hostPid);

      const run = await runOnce(r, PORT);
      assertOnceOk(run, 2);
      assert.equal(run.prefixes.size, 2, run.why);
      const pids = new Set<number>();
      for (const [prefix, names] of run.prefixes) {
        assert.match(prefix, new RegExp(`^testnode/_host_/\\d{8}T\\d{6}Z/${a.binary}$`), run.why);
        const files = checkPrefixFiles(prefix, names);
        const info = JSON.parse(await Deno.readTextFile(join(run.out, prefix, "info.json")));
        assert.equal(info.pid, files.pid, `info.json and counters of ${prefix} name one process`);
        pids.add(info.pid);
        await covdataPercent(join(run.out, prefix));
      }
      assert.deepEqual([...pids].sort(), [a.proc.hostPid, b.proc.hostPid].sort(), run.why);
    }),
);
