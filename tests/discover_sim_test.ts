/** Discovery and probe on a simulated node: real processes, netns, PID namespaces, fake crictl. */

import assert from "node:assert/strict";
import { covserverBinary, hasGo } from "./harness/gobuild.ts";
import { canSimulateNode, SimNode } from "./harness/node.ts";
import { coveragePortOf, simDiscoverer } from "./harness/sim_discover.ts";
import { attribute, probe } from "../src/probe/probe.ts";
import { createSystem, type System } from "../src/system.ts";
import { Health } from "../src/health.ts";
import type { Candidate } from "../src/target.ts";

const skip = !(await hasGo()) || !(await canSimulateNode());

Deno.test({
  name: "discovery on a SimNode: pod IP, hostNetwork inode filter next to a host process, " +
    "probe and attribution" + (skip ? " (skipped: needs root, netns, cgroups, Go)" : ""),
  ignore: skip,
  sanitizeResources: false, // fetch keeps pooled connections to the servers
  async fn() {
    const bin = await covserverBinary("simdisc");
    const base = 56000 + Math.floor(Math.random() * 3000);
    await using node = await SimNode.create({ name: "disc" });
    const pod = await node.addPod({ name: "web-1", namespace: "demo" });
    const web = await pod.addContainer({
      name: "web",
      command: bin,
      env: { COVERAGE_PORT: String(base) },
    });
    const api = await (await node.addPod({ name: "api", namespace: "ks", hostNetwork: true }))
      .addContainer({ name: "api", command: bin, env: { COVERAGE_PORT: String(base + 10) } });
    // a host process whose port falls inside the hostNetwork container's range too
    const host = await node.addHostProcess({
      command: bin,
      env: { COVERAGE_PORT: String(base + 20), APP_PORT: "0" },
    });
    const webPort = await coveragePortOf(web);
    const apiPort = await coveragePortOf(api);
    const hostPort = await coveragePortOf(host);

    const health = new Health();
    const ops: string[] = [];
    const real = createSystem("/");
    const counted: System = {
      ...real,
      readText: (p) => (ops.push(p), real.readText(p)),
      readLink: (p) => (ops.push(p), real.readLink(p)),
      readDir: (p) => (ops.push(p), real.readDir(p)),
    };
    const d = simDiscoverer(node, base, { system: counted, health });
    const r = await d.scan(new AbortController().signal);
    assert.equal(r.crictlOk, true, r.crictlError);
    const ours = (c: Candidate) => c.owner.kind === "container" || c.pids.includes(host.hostPid);
    const got = r.candidates.filter(ours).map((c) => [
      c.owner.kind === "host" ? "_host_" : c.owner.container.name,
      c.host,
      c.port,
    ]).sort();
    assert.deepEqual(got, [
      // Go's `:port` is an IPv6-any (dual-stack) socket: dialled at ::1
      ["_host_", "::1", hostPort],
      ["api", "::1", apiPort],
      ["web", pod.ip, webPort],
    ]);

    // Idle: no process table, no fd dirs. Other programs on this machine may open listeners in
    // our range now and then (that rightly costs a walk), so one quiet scan out of three suffices.
    const idle: string[][] = [];
    for (let i = 0; i < 3; i++) {
      ops.length = 0;
      const again = await d.scan(new AbortController().signal);
      assert.equal(again.candidates.filter(ours).length, 3);
      idle.push(ops.filter((p) => /^\/proc\/\d+\/(status|fd)$/.test(p)));
    }
    assert.ok(idle.some((reads) => reads.length === 0), JSON.stringify(idle));

    const expectPid = new Map([["web", web.hostPid], ["api", api.hostPid]]);
    for (const c of r.candidates.filter(ours)) {
      const res = await probe(c, { timeoutMs: 2000 });
      assert.equal(res.kind, "coverage", JSON.stringify(res));
      if (res.kind !== "coverage") continue;
      assert.equal(res.identity.binary, "simdisc");
      const want = c.owner.kind === "host" ? host.hostPid : expectPid.get(c.owner.container.name);
      assert.equal(await attribute(createSystem("/"), c, res.identity), want);
    }

    node.setCrictlFault("exit1");
    const down = await d.scan(new AbortController().signal);
    assert.equal(down.crictlOk, false);
    assert.equal(down.candidates.filter(ours).length, 3, "last good container view kept");
    assert.equal(health.get("crictl")?.degraded, true);

    const quick = simDiscoverer(node, base, { crictlTimeout: 500 });
    node.setCrictlFault("hang");
    const started = Date.now();
    const hung = await quick.scan(new AbortController().signal);
    assert.equal(hung.crictlOk, false);
    assert.match(hung.crictlError ?? "", /no answer within 500ms/);
    assert.ok(Date.now() - started < 5000, "the hanging crictl was killed at the timeout");
    node.setCrictlFault(null);
    const back = await d.scan(new AbortController().signal);
    assert.equal(back.crictlOk, true);
    assert.equal(health.get("crictl")?.degraded, undefined);
  },
});
