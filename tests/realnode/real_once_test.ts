/**
 * `coverage-collector once` on a real node (containerd or CRI-O, one body; the real crictl): a pod-network pod with
 * an app container and a sidecar (each its own coverage server), a hostNetwork pod and a host
 * process. Each server is attributed to its real container ID and host PID, and `go tool covdata`
 * judges what was stored.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { startCovserver } from "../harness/covserver.ts";
import type { RealContainer } from "../harness/realnode/realnode.ts";
import { assertRoutes, byPrefix, checkPrefixFiles, filesUnder, TIME } from "../e2e/e2e_util.ts";
import { hitRoute, REAL_PORT, realTestOnEach, withRealNode } from "./real_run.ts";

await realTestOnEach(
  "once on a real node stores pod-network, sidecar, hostNetwork and host servers " +
    "under their real container IDs",
  (runtime) =>
    withRealNode("once", async (r) => {
      const { node } = r;
      const web = await node.runPod({ name: "web", namespace: "real-a" });
      const hostnet = await node.runPod({ name: "agent", namespace: "real-a", hostNetwork: true });
      const env = (binary: string) => ({ FIXTURE_BINARY_NAME: binary });
      const app = await node.startContainer(web, {
        name: "app",
        coveragePort: REAL_PORT,
        env: env("real-web"),
      });
      const side = await node.startContainer(web, {
        name: "sidecar",
        coveragePort: REAL_PORT,
        env: env("real-side"),
      });
      const agent = await node.startContainer(hostnet, {
        name: "agent",
        coveragePort: REAL_PORT,
        env: env("real-hostnet"),
      });
      // A host process: on CRI-O, one of the node's (its namespaces are the node's host).
      await using host = await startCovserver({
        name: "real-host",
        coveragePort: REAL_PORT,
        wrap: runtime === "crio"
          ? (a) => node.inNode(["setpriv", "--pdeathsig", "SIGKILL", "--", ...a])
          : undefined,
      });
      assert.deepEqual([app.coveragePort, side.coveragePort].sort(), [REAL_PORT, REAL_PORT + 1]);
      assert.match(web.ip, /^10\.77\.\d+\.\d+$/);

      await hitRoute(app, "alpha", 3, node);
      await hitRoute(side, "beta", 1, node);
      await hitRoute(agent, "gamma", 2, node);
      await hitRoute({ appUrl: `http://127.0.0.1:${host.appPort}` }, "alpha", 1, node);
      await hitRoute({ appUrl: `http://127.0.0.1:${host.appPort}` }, "beta", 1, node);

      const c = await r.collector("once");
      const { code } = await c.status;
      const stdout = await c.stdout;
      const prefixes = byPrefix(await filesUnder(r.out));
      const why = `stdout:\n${stdout}\nlog:\n${c.lines.join("\n")}\nfiles: ${
        [...prefixes.keys()].join(" ")
      }`;
      // Other tests on this shared machine run host processes with coverage servers that may
      // vanish mid-pull; such a row may fail (and so the exit status), never one of ours.
      const failed = stdout.split("\n").filter((l) =>
        /^\S+ +\S+ +\S+ +\S+ +\S+ +(?!stored)\S+/.test(l)
      )
        .filter((l) => !l.startsWith("NAMESPACE "));
      const foreign = (l: string) => l.startsWith("_host_ ") && !/ real-host /.test(l);
      assert.deepEqual(failed.filter((l) => !foreign(l)), [], why);
      if (failed.length === 0) assert.equal(code, 0, why);
      // Other tests' host processes on this shared machine may be stored too: only _host_ ones.
      const ours = (p: string) => !p.startsWith("realnode/_host_/") || p.endsWith("/real-host");
      assert.equal([...prefixes.keys()].filter(ours).length, 4, why);

      const inPod = (ct: RealContainer, binary: string, ran: string[]) => ({
        pattern: new RegExp(
          `^realnode/real-a/${ct.pod.name}/${ct.name}/${TIME}/sha256-[0-9a-f]{64}/${binary}$`,
        ),
        binary,
        ran,
        info: { containerId: ct.id, hostPid: ct.pid, podUid: ct.pod.uid, owner: "container" },
        pid: ct.pod.hostNetwork ? undefined : 1,
      });
      const expected = [
        inPod(app, "real-web", ["alpha"]),
        inPod(side, "real-side", ["beta"]),
        inPod(agent, "real-hostnet", ["gamma"]),
        {
          pattern: new RegExp(`^realnode/_host_/${TIME}/real-host$`),
          binary: "real-host",
          ran: ["alpha", "beta"],
          info: { hostPid: host.pid, owner: "host" },
          pid: host.pid,
        },
      ];
      for (const e of expected) {
        const matching = [...prefixes.keys()].filter((p) => e.pattern.test(p));
        assert.equal(matching.length, 1, `${e.pattern}: ${why}`);
        const prefix = matching[0];
        assert.match(stdout, new RegExp(` stored +${prefix.replaceAll(".", "\\.")}\n`), why);
        const files = checkPrefixFiles(prefix, prefixes.get(prefix)!);
        const info = JSON.parse(await Deno.readTextFile(join(r.out, prefix, "info.json")));
        assert.equal(info.binary, e.binary, prefix);
        for (const [k, v] of Object.entries(e.info)) assert.equal(info[k], v, `${prefix} ${k}`);
        if (e.pid !== undefined) assert.equal(files.pid, e.pid, `counters pid of ${prefix}`);
        assert.equal(info.pid, files.pid, prefix);
        await assertRoutes(join(r.out, prefix), e.ran, prefix);
      }
    }, runtime),
);
