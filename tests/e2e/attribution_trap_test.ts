/**
 * An attribution trap that only attribution itself can catch (`once`, dir sink): the container's
 * init starts the server in a PID namespace of its own, so the server reports PID 1, which is also
 * the PID of the container's init, a process of the owner that does not hold the socket. The
 * reported PID names two processes of the owner: the server is refused, never guessed. Were it
 * filed under the init (the container's first PID), the collector's later NSpid check would pass
 * (the init's last NSpid is 1 as well) and nothing after attribution would stop the pulls.
 */

import assert from "node:assert/strict";
import { covserverBinary } from "../harness/gobuild.ts";
import { type E2eServer, e2eSkipReason, e2eTest, reportedPid, startServer } from "./e2e_util.ts";
import { assertStored, expectPod, runOnce, withNode } from "./e2e_run.ts";

const skip = await e2eSkipReason();
const PORT = 56650;
const IMG = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const img = (n: string) => `quay.io/e2e/${n}@${IMG}`;

/** The last NSpid of a host PID (its PID in its innermost PID namespace). */
async function innermostPid(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const m = /^NSpid:\s*([\d\s]+)$/m.exec(status);
  assert.ok(m, `/proc/${pid}/status has no NSpid line`);
  return Number(m[1].trim().split(/\s+/).at(-1));
}

/** The socket inodes a host PID holds. */
async function socketsOf(pid: number): Promise<Set<number>> {
  const out = new Set<number>();
  for await (const fd of Deno.readDir(`/proc/${pid}/fd`)) {
    const link = await Deno.readLink(`/proc/${pid}/fd/${fd.name}`).catch(() => "");
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m) out.add(Number(m[1]));
  }
  return out;
}

e2eTest(
  "once: a server whose reported PID is also its container init's (nested PID namespace) " +
    "is refused, stored nowhere; the honest server beside it is stored",
  skip,
  () =>
    withNode("e2e-nestpid", async (r) => {
      const ns = "e2e-c3";
      const nestedPod = await r.node.addPod({ name: "nested", namespace: ns });
      const honestPod = await r.node.addPod({ name: "honest", namespace: ns });
      const env = { APP_PORT: "0", COVERAGE_PORT: String(PORT) };
      const container = await nestedPod.addContainer({
        name: "app",
        command: "unshare",
        args: ["--pid", "--fork", "--kill-child", "--", await covserverBinary()],
        env: { ...env, FIXTURE_BINARY_NAME: "nested-srv" },
        imageRef: img("nested"),
      });
      const cov = await container.waitLine(/^coverage-port=(\d+)$/, 20_000);
      const app = await container.waitLine(/^app-port=(\d+)$/, 20_000);
      const nested: E2eServer = {
        proc: container,
        address: nestedPod.ip,
        coveragePort: Number(cov[1]),
        appPort: Number(app[1]),
        binary: "nested-srv",
      };
      const honest = await startServer(
        { pod: honestPod, container: "app", imageRef: img("honest") },
        { binary: "honest-srv", env: { COVERAGE_PORT: String(PORT) } },
      );

      // The trap as built: the init (unshare) and its child (the server) both are PID 1 in
      // their innermost namespace, the server says 1, and only the child holds sockets.
      const init = container.hostPid;
      const children = (await Deno.readTextFile(`/proc/${init}/task/${init}/children`)).trim();
      assert.match(children, /^\d+$/, `the init has one child: "${children}"`);
      const server = Number(children);
      assert.equal(await reportedPid(nested), 1, "the server reports PID 1");
      assert.equal(await innermostPid(init), 1, "the init is PID 1 of the container");
      assert.equal(await innermostPid(server), 1, "the server is PID 1 of its own namespace");
      assert.equal((await socketsOf(init)).size, 0, "the init holds no socket");
      assert.ok((await socketsOf(server)).size > 0, "the server holds its listeners");

      const run = await runOnce(r, PORT);
      await assertStored(run, await expectPod(honest, `${ns}/honest/app`, img("honest"), 1));
      for (const p of run.prefixes.keys()) {
        assert.ok(!p.includes("/nested/"), `the ambiguous server was stored: ${p}\n${run.why}`);
      }
      assert.equal(run.prefixes.size, 1, run.why);
      assert.match(run.stdout, /nested-srv/, `the summary names the refused server: ${run.why}`);
      assert.notEqual(run.code, 0, run.why);
      assert.ok(
        run.why.split("\n").some((l) =>
          /server refused: its PID is not a process of the owner/.test(l) && /pod=nested/.test(l)
        ),
        `no refusal logged for the nested server: ${run.why}`,
      );
    }),
);
