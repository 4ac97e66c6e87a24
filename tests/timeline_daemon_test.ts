/**
 * The timeline across a restart of the running daemon (host-only mode, a real `-cover` server on
 * the host, one state dir): the second daemon continues the stored timeline — every earlier step
 * kept, what it finds new timed against the first daemon's last step — instead of dating
 * everything "before T0" again.
 */

import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { type CollectorProcess, spawnCollector } from "./harness/collector.ts";
import { hasGo, isRoot } from "./harness/gobuild.ts";
import { type Covserver, startCovserver } from "./harness/covserver.ts";
import { packageSteps, stored } from "./harness/timeline_read.ts";

const skip = !(await hasGo()) || !isRoot();

async function hit(srv: Covserver, route: string) {
  await (await fetch(`http://127.0.0.1:${srv.appPort}${route}`)).body?.cancel();
}

/** `p`, or a rejection once `ms` passed without it. */
async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`nothing within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls (100 ms, at most 20 s) until `check` holds of the prefix's stored files. */
async function storedWhen(
  dir: string,
  check: (s: Awaited<ReturnType<typeof stored>>) => boolean,
): Promise<Awaited<ReturnType<typeof stored>>> {
  let last = "";
  for (let i = 0; i < 200; i++) {
    try {
      const s = await stored(dir);
      if (check(s)) return s;
      last = JSON.stringify(s.timeline.steps.map((x) => [x.after, x.at, x.units.length]));
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the stored timeline never got there: ${last}`);
}

Deno.test({
  name: "daemon restarted on the same state dir: the timeline goes on, no earlier step lost",
  ignore: skip,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "cc-timeline-" });
    await using srv = await startCovserver({ name: "timeline-daemon-app" });
    const start = () =>
      spawnCollector([
        "run",
        "--health-addr=127.0.0.1:0",
        `--output-dir=${join(dir, "out")}`,
        `--state-dir=${join(dir, "state")}`,
        `--crictl=${join(dir, "no-crictl-here")}`,
        "--kubeconfig-wait=0s",
        "--sink=dir",
        `--port-start=${srv.coveragePort}`,
        "--port-span=1",
        "--hostname=timeline-node",
        "--pull-schedule=200ms",
      ], { cwd: dir });
    const prefixOf = async (c: CollectorProcess) => {
      const url = await c.healthUrl();
      await c.waitLine(/msg=collecting /);
      const st = (await (await fetch(`${url}/status`)).json()).engine;
      return st.targets.find((x: { port: number }) => x.port === srv.coveragePort).prefix;
    };
    let c = await start();
    try {
      await hit(srv, "/run/alpha");
      const prefix = await prefixOf(c);
      const leaf = join(dir, "out", prefix);
      await storedWhen(leaf, (s) => packageSteps(s.meta, s.timeline, "alpha").size === 1);
      await hit(srv, "/run/beta");
      await storedWhen(leaf, (s) => packageSteps(s.meta, s.timeline, "beta").size === 1);
      assertEquals((await c.stop("SIGTERM")).code, 0);
      const before = await stored(leaf);
      ok(before.timeline.steps[0].after === null);

      await hit(srv, "/run/gamma");
      c = await start();
      assertEquals(await prefixOf(c), prefix, "the prefix memory gives the same prefix");
      await within(20_000, c.waitLine(/msg="timeline continued from before the restart"/));
      const after = await storedWhen(
        leaf,
        (s) => packageSteps(s.meta, s.timeline, "gamma").size === 1,
      );
      const n = before.timeline.steps.length;
      assertEquals(after.timeline.steps.slice(0, n), before.timeline.steps);
      const gamma = [...packageSteps(after.meta, after.timeline, "gamma")][0];
      const step = after.timeline.steps.find((s) => s.at === gamma)!;
      assertEquals(step.after, before.timeline.steps[n - 1].at);
      assertEquals(
        packageSteps(after.meta, after.timeline, "alpha"),
        packageSteps(before.meta, before.timeline, "alpha"),
      );
    } finally {
      await c.stop("SIGTERM");
      await Deno.remove(dir, { recursive: true });
    }
  },
});
