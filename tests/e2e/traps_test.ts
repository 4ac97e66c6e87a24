/**
 * Misattribution traps end to end (`once`, dir sink): a plain HTTP server on a coverage port, a
 * hostNetwork pod that sees a host process's socket, and a server whose PID answer is not its own.
 */

import assert from "node:assert/strict";
import { type E2eServer, e2eSkipReason, e2eTest, reportedPid, startServer } from "./e2e_util.ts";
import {
  assertOnceOk,
  assertStored,
  expectHost,
  expectPod,
  type OnceRun,
  runOnce,
  withNode,
} from "./e2e_run.ts";

const skip = await e2eSkipReason();
const IMG = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
const img = (n: string) => `quay.io/e2e/${n}@${IMG}`;

e2eTest(
  "once: a plain HTTP server is skipped and a host process's server is filed under " +
    "_host_, never under the hostNetwork pod beside it",
  skip,
  () =>
    withNode("e2e-traps", async (r) => {
      const PORT = 56200;
      const { node } = r;
      const ns = "e2e-c";
      // Started first: it takes the first free port of the range.
      const plain = await startServer({ host: node }, {
        binary: "plain-http",
        env: { COVERAGE_PORT: String(PORT), FIXTURE_MODE: "plain" },
      });
      const hn = await node.addPod({ name: "hn", namespace: ns, hostNetwork: true });
      const idle = await node.addPod({ name: "idle", namespace: ns, hostNetwork: true });
      await idle.addContainer({ name: "sleeper", command: "sleep", args: ["600"] });
      const pod = await startServer({ pod: hn, container: "app", imageRef: img("hn") }, {
        binary: "hn-srv",
        env: { COVERAGE_PORT: String(PORT) },
      });
      const host = await startServer({ host: node }, {
        binary: "host-srv",
        env: { COVERAGE_PORT: String(PORT) },
      });
      const plainRes = await fetch(`http://127.0.0.1:${plain.coveragePort}/health`, {
        method: "HEAD",
      });
      await plainRes.body?.cancel();
      assert.equal(plainRes.headers.get("x-art-coverage-server"), null, "plain answers plainly");
      // All three in the scanned range (other programs' ports there may push them up a little).
      for (const s of [plain, pod, host]) {
        assert.ok(s.coveragePort >= PORT && s.coveragePort < PORT + 50, `${s.binary} port`);
      }
      assert.notEqual(plain.proc.hostPid, host.proc.hostPid);

      const run = await runOnce(r, PORT);
      assertOnceOk(run, 2);
      assert.equal(run.prefixes.size, 2, run.why);
      await assertStored(run, await expectPod(pod, `${ns}/hn/app`, img("hn")));
      await assertStored(run, expectHost(host));
      assert.equal(await reportedPid(host), host.proc.hostPid);
      for (const p of run.prefixes.keys()) {
        assert.ok(!p.includes("/idle/"), `the idle hostNetwork pod got ${p}`);
        assert.ok(!p.includes("plain"), `the plain server got ${p}`);
      }
    }),
);

/** A node with a server lying about its PID beside an honest one; runs `once`, then `check`. */
function wrongPidRun(
  check: (run: OnceRun, honest: E2eServer) => Promise<void>,
): Promise<void> {
  const PORT = 56250;
  return withNode("e2e-wrongpid", async (r) => {
    const liarPod = await r.node.addPod({ name: "liar", namespace: "e2e-c2" });
    const honestPod = await r.node.addPod({ name: "honest", namespace: "e2e-c2" });
    const liar = await startServer({ pod: liarPod, container: "app", imageRef: img("liar") }, {
      binary: "liar-srv",
      env: { COVERAGE_PORT: String(PORT), FIXTURE_MODE: "wrong-pid" },
    });
    const honest = await startServer(
      { pod: honestPod, container: "app", imageRef: img("honest") },
      { binary: "honest-srv", env: { COVERAGE_PORT: String(PORT) } },
    );
    assert.equal(await reportedPid(liar), 1 + 12345, "the fixture lies about its PID");
    await check(await runOnce(r, PORT), honest);
  });
}

e2eTest(
  "once: a server whose PID answer is not its own is stored nowhere; the honest one is",
  skip,
  () =>
    wrongPidRun(async (run, honest) => {
      assert.equal(run.prefixes.size, 1, run.why);
      await assertStored(run, await expectPod(honest, "e2e-c2/honest/app", img("honest"), 1));
      for (const p of run.prefixes.keys()) {
        assert.ok(!p.includes("liar"), `the lying server was stored: ${p}`);
      }
    }),
);

e2eTest(
  "once: a refused server (PID not its own) is named in the summary and once exits 1",
  skip,
  () =>
    wrongPidRun((run) => {
      // A coverage server was found and not stored: the summary names it and once fails.
      assert.match(run.stdout, /liar-srv/, run.why);
      assert.notEqual(run.code, 0, run.why);
      return Promise.resolve();
    }),
);
