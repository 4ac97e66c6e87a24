/**
 * The shutdown deadline explains itself: a part that does not end is named in /status while the
 * shutdown waits for it, and in the log when the deadline passes (with its status); parts that
 * ended are not named.
 */

import assert from "node:assert/strict";
import { z } from "zod";
import { runDaemon } from "../src/app/daemon.ts";
import type { Part } from "../src/deps.ts";
import { loadConfig } from "../src/config.ts";
import { createLogger } from "../src/log.ts";
import { stuckPart } from "./doubles/stuck_part.ts";
import { logField } from "./e2e/kube_util.ts";

const ShutdownStatus = z.looseObject({
  shutdown: z.object({
    since: z.string(),
    deadlineAt: z.string(),
    phase: z.string(),
    waitingFor: z.array(z.string()),
  }),
});

/** A part that ends as soon as it is asked to. */
const polite: Part = {
  name: "polite",
  run: (signal) => new Promise((r) => signal.addEventListener("abort", () => r(), { once: true })),
  beforeStop: () => Promise.resolve(),
};

for (const where of ["final work", "run"] as const) {
  Deno.test(`a part stuck in its ${where} is named in /status during the shutdown and in the log at the deadline`, async () => {
    const stuck = stuckPart("stuck", where);
    const lines: string[] = [];
    let started: (url: string) => void;
    const health = new Promise<string>((r) => started = r);
    const log = createLogger({
      write: (l) => {
        lines.push(l);
        const m = /msg=started .*health=(http:\/\/\S+)/.exec(l);
        if (m) started(m[1]);
      },
    });
    // Long enough that /status is read before it passes; nothing here measures time.
    const config = loadConfig({
      "health-addr": "127.0.0.1:0",
      "shutdown-timeout": "3s",
      "kubeconfig-wait": "0s",
    }, {});
    const code = runDaemon(config, () => Promise.resolve([polite, stuck]), { log });
    try {
      const url = await health;
      Deno.kill(Deno.pid, "SIGTERM");
      await stuck.reached;
      const status = ShutdownStatus.parse(await (await fetch(`${url}/status`)).json());
      const phase = where === "final work" ? "final work" : "stopping parts";
      assert.equal(status.shutdown.phase, phase, JSON.stringify(status.shutdown));
      assert.deepEqual(status.shutdown.waitingFor, ["stuck"], JSON.stringify(status.shutdown));
      assert.equal(await code, 0);
      const part = lines.find((l) => /msg="part unfinished at the shutdown deadline"/.test(l));
      assert.ok(part, lines.join("\n"));
      assert.equal(logField(part, "part"), "stuck", part);
      assert.equal(logField(part, "phase"), phase, part);
      assert.equal(logField(part, "status"), JSON.stringify({ stuckIn: where }), part);
      const warn = lines.find((l) => /msg="shutdown deadline passed/.test(l));
      assert.ok(warn, lines.join("\n"));
      assert.equal(logField(warn, "unfinished"), "stuck", warn);
      assert.ok(/msg=stopped/.test(lines.at(-1) ?? ""), lines.join("\n"));
    } finally {
      stuck.release();
      await code;
    }
  });
}
