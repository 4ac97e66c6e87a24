/**
 * `coverage-collector once` end to end on a simulated node: a pod-network pod, a hostNetwork pod
 * whose server is a wrapper's child, a pod with COVERAGE_PORT moved and two servers, and a host
 * process; each server runs different app routes, and `go tool covdata` judges what was stored.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { spawnCollector } from "../harness/collector.ts";
import { SimNode } from "../harness/node.ts";
import {
  assertRoutes,
  baseFlags,
  byPrefix,
  checkPrefixFiles,
  covdataPercent,
  e2eSkipReason,
  exercise,
  filesUnder,
  re,
  reportedPid,
  segment,
  startServer,
  TIME,
} from "./e2e_util.ts";

const skip = await e2eSkipReason();
const PORT = 56100;
const MOVED = 56300;
const IMG = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

Deno.test({
  name: "once stores every server of a node under its layout prefix, readable by covdata" +
    (skip ? ` (skipped: ${skip})` : ""),
  ignore: skip !== null,
  async fn() {
    const node = await SimNode.create({ name: "e2e-once" });
    const dir = await Deno.makeTempDir({ prefix: "cc-e2e-once-" });
    try {
      const ns = "e2e-a";
      const podNet = await node.addPod({ name: "web", namespace: ns });
      const hostNet = await node.addPod({ name: "agent", namespace: ns, hostNetwork: true });
      const moved = await node.addPod({ name: "pair", namespace: ns });
      const img = (n: string) => `quay.io/e2e/${n}@${IMG}`;
      const web = await startServer({ pod: podNet, container: "app", imageRef: img("web") }, {
        binary: "web-srv",
        env: { COVERAGE_PORT: String(PORT) },
      });
      const wrapped = await startServer(
        { pod: hostNet, container: "agent", imageRef: img("agent") },
        { binary: "wrapped-srv", env: { COVERAGE_PORT: String(PORT), FIXTURE_MODE: "wrapper" } },
      );
      const one = await startServer({ pod: moved, container: "one", imageRef: img("one") }, {
        binary: "moved-one",
        env: { COVERAGE_PORT: String(MOVED) },
      });
      const two = await startServer({ pod: moved, container: "two", imageRef: img("two") }, {
        binary: "moved-two",
        env: { COVERAGE_PORT: String(MOVED) },
      });
      const host = await startServer({ host: node }, {
        binary: "host-srv",
        env: { COVERAGE_PORT: String(PORT) },
      });
      // The wrapper is PID 1 of its container; its child serves.
      assert.notEqual(await reportedPid(wrapped), 1);
      assert.equal(await reportedPid(web), 1);
      assert.deepEqual([one.coveragePort, two.coveragePort].sort(), [MOVED, MOVED + 1]);

      await exercise(web, "alpha", 3);
      await exercise(wrapped, "beta", 2);
      await exercise(one, "gamma", 1);
      await exercise(two, "alpha", 1);
      await exercise(two, "beta", 1);
      await exercise(host, "gamma", 2);

      const out = join(dir, "out");
      const c = await spawnCollector([
        "once",
        ...baseFlags({ node, stateDir: join(dir, "state"), portStart: PORT }),
        "--sink",
        "dir",
        "--output-dir",
        out,
      ]);
      const st = await c.status;
      const stdout = await c.stdout;
      const log = `stdout:\n${stdout}\nlog:\n${c.lines.join("\n")}`;
      assert.equal(st.code, 0, log);
      assert.match(stdout, /5 of 5 coverage servers stored/, log);

      const prefixes = byPrefix(await filesUnder(out));
      const expected = [
        { s: web, pid: 1, re: `testnode/${ns}/web/app/${TIME}/${re(segment(img("web")))}/web-srv` },
        {
          s: wrapped,
          pid: await reportedPid(wrapped),
          re: `testnode/${ns}/agent/agent/${TIME}/${re(segment(img("agent")))}/wrapped-srv`,
        },
        {
          s: one,
          pid: 1,
          re: `testnode/${ns}/pair/one/${TIME}/${re(segment(img("one")))}/moved-one`,
        },
        {
          s: two,
          pid: 1,
          re: `testnode/${ns}/pair/two/${TIME}/${re(segment(img("two")))}/moved-two`,
        },
        { s: host, pid: host.proc.hostPid, re: `testnode/_host_/${TIME}/host-srv` },
      ];
      assert.equal(prefixes.size, expected.length, `prefixes: ${[...prefixes.keys()].join(" ")}`);
      const ran: Record<string, string[]> = {
        "web-srv": ["alpha"],
        "wrapped-srv": ["beta"],
        "moved-one": ["gamma"],
        "moved-two": ["alpha", "beta"],
        "host-srv": ["gamma"],
      };
      for (const e of expected) {
        const matching = [...prefixes.keys()].filter((p) => new RegExp(`^${e.re}$`).test(p));
        assert.equal(matching.length, 1, `${e.re} among ${[...prefixes.keys()].join(" ")}`);
        const prefix = matching[0];
        const { pid } = checkPrefixFiles(prefix, prefixes.get(prefix)!);
        assert.equal(pid, e.pid, `counters pid of ${prefix}`);
        const info = JSON.parse(await Deno.readTextFile(join(out, prefix, "info.json")));
        assert.equal(info.binary, e.s.binary, `info.json binary of ${prefix}`);
        assert.equal(info.pid, e.pid, `info.json pid of ${prefix}`);
        assert.equal(info.port, e.s.coveragePort, `info.json port of ${prefix}`);
        await covdataPercent(join(out, prefix));
        await assertRoutes(join(out, prefix), ran[e.s.binary], prefix);
      }
    } finally {
      await node.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
    assert.deepEqual(await node.leftovers(), { netns: [], links: [], cgroups: [] });
  },
});
