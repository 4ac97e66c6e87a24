/**
 * Discovery against hostile or unlucky pods on a simulated node: a socket bound with IP_FREEBIND
 * to another pod's IP is never dialled, and a sidecar whose `crictl inspect` failed is never
 * filed under its sibling.
 */

import assert from "node:assert/strict";
import { covserverBinary, hasGo } from "./harness/gobuild.ts";
import { canSimulateNode, SimNode } from "./harness/node.ts";
import { coveragePortOf, simDiscoverer } from "./harness/sim_discover.ts";
import { attribute, probe } from "../src/probe/probe.ts";
import { createSystem } from "../src/system.ts";
import type { Candidate } from "../src/target.ts";

const skip = !(await hasGo()) || !(await canSimulateNode());
const why = skip ? " (skipped: needs root, netns, cgroups, Go)" : "";

const ownerName = (c: Candidate) =>
  c.owner.kind === "host" ? "_host_" : `${c.owner.container.podName}/${c.owner.container.name}`;

/** Where each candidate would be filed: owner, host, port and the host PID attribution gives. */
async function filed(cands: Candidate[], port: number): Promise<string[]> {
  const out: string[] = [];
  for (const c of cands.filter((c) => c.port === port)) {
    const res = await probe(c, { timeoutMs: 2000 });
    const pid = res.kind === "coverage"
      ? await attribute(createSystem("/"), c, res.identity)
      : res.kind;
    out.push(`${ownerName(c)} ${c.host} ${pid}`);
  }
  return out.sort();
}

Deno.test({
  name: "FREEBIND: a socket bound to another pod's IP is never dialled nor filed here " +
    "(pod network and hostNetwork)" + why,
  ignore: skip,
  sanitizeResources: false, // fetch keeps pooled connections to the servers
  async fn() {
    const bin = await covserverBinary("freebind");
    const base = 56000 + Math.floor(Math.random() * 3000);
    await using node = await SimNode.create({ name: "freebind" });
    const victimPod = await node.addPod({ name: "victim", namespace: "demo" });
    const victim = await victimPod.addContainer({
      name: "app",
      command: bin,
      env: { COVERAGE_PORT: String(base) },
    });
    const port = await coveragePortOf(victim);
    const env = { COVERAGE_PORT: String(port), FIXTURE_BIND_ADDR: victimPod.ip };
    // In its own pod network: the victim's IP and port, bound with IP_FREEBIND.
    const thief = await (await node.addPod({ name: "thief", namespace: "demo" }))
      .addContainer({ name: "app", command: bin, env });
    // In the host network (its own PID namespace, so it too is PID 1 like the victim's server).
    const hostThief =
      await (await node.addPod({ name: "hthief", namespace: "demo", hostNetwork: true }))
        .addContainer({ name: "app", command: bin, env });
    // And a process outside any container (the port is taken there now: it binds the next one).
    const procThief = await node.addHostProcess({ command: bin, env });
    assert.equal(await coveragePortOf(thief), port);
    assert.equal(await coveragePortOf(hostThief), port);
    const procPort = await coveragePortOf(procThief);

    const r = await simDiscoverer(node, base).scan(new AbortController().signal);
    assert.equal(r.crictlOk, true, r.crictlError);
    const ours = r.candidates.filter((c) =>
      c.owner.kind === "container" && c.owner.container.namespace === "demo"
    );
    assert.deepEqual(await filed(ours, port), [`victim/app ${victimPod.ip} ${victim.hostPid}`]);
    // Nothing else is even dialled at the victim's address.
    assert.deepEqual(
      r.candidates.filter((c) => c.host === victimPod.ip).map((c) => `${ownerName(c)} ${c.port}`),
      [`victim/app ${port}`],
    );
    assert.equal(r.candidates.some((c) => c.port === procPort), false);
  },
});

Deno.test({
  name: "siblings: while a sidecar's crictl inspect fails, its server is not filed under the " +
    "other container; once described, it is filed under the sidecar" + why,
  ignore: skip,
  sanitizeResources: false,
  async fn() {
    const bin = await covserverBinary("siblings");
    const base = 56000 + Math.floor(Math.random() * 3000);
    await using node = await SimNode.create({ name: "siblings" });
    const pod = await node.addPod({ name: "pair", namespace: "demo" });
    const env = { COVERAGE_PORT: String(base) };
    const app = await pod.addContainer({ name: "app", command: bin, env });
    const appPort = await coveragePortOf(app);
    const d = simDiscoverer(node, base);
    const signal = new AbortController().signal;
    const first = await d.scan(signal);
    assert.deepEqual(await filed(first.candidates, appPort), [
      `pair/app ${pod.ip} ${app.hostPid}`,
    ]);

    // The sidecar comes while inspect fails; the app is already known (not inspected again).
    node.setCrictlFault({ mode: "exit1", commands: ["inspect"] });
    const sidecar = await pod.addContainer({ name: "sidecar", command: bin, env });
    const sidePort = await coveragePortOf(sidecar);
    assert.notEqual(sidePort, appPort);
    const during = await d.scan(signal);
    assert.deepEqual(await filed(during.candidates, sidePort), [], "not filed under app: wait");
    assert.deepEqual(await filed(during.candidates, appPort), [
      `pair/app ${pod.ip} ${app.hostPid}`,
    ]);

    node.setCrictlFault(null);
    const after = await d.scan(signal);
    assert.deepEqual(await filed(after.candidates, sidePort), [
      `pair/sidecar ${pod.ip} ${sidecar.hostPid}`,
    ]);
    assert.deepEqual(await filed(after.candidates, appPort), [
      `pair/app ${pod.ip} ${app.hostPid}`,
    ]);
  },
});

Deno.test({
  name: "siblings: the server of a container crictl does not list yet is not attributed to the " +
    "other container (its PID 1 does not hold the socket)" + why,
  ignore: skip,
  sanitizeResources: false,
  async fn() {
    const bin = await covserverBinary("siblings");
    const base = 56000 + Math.floor(Math.random() * 3000);
    await using node = await SimNode.create({ name: "unlisted" });
    const pod = await node.addPod({ name: "pair", namespace: "demo" });
    const env = { COVERAGE_PORT: String(base) };
    const app = await pod.addContainer({ name: "app", command: bin, env });
    const appPort = await coveragePortOf(app);
    const sidecar = await pod.addContainer({ name: "sidecar", command: bin, env });
    const sidePort = await coveragePortOf(sidecar);
    // Its process runs and listens, but `crictl ps` does not show it yet (it raced the scan).
    const hidden = { ...node.state.doc.containers.find((c) => c.id === sidecar.id)! };
    node.state.update((d) => d.containers = d.containers.filter((c) => c.id !== sidecar.id));
    const d = simDiscoverer(node, base);
    const signal = new AbortController().signal;
    const during = await d.scan(signal);
    for (const line of await filed(during.candidates, sidePort)) {
      assert.match(line, /^pair\/app \S+ null$/, "claimed by the sole container, never attributed");
    }
    assert.deepEqual(await filed(during.candidates, appPort), [
      `pair/app ${pod.ip} ${app.hostPid}`,
    ]);
    node.state.update((d) => void d.containers.push(hidden));
    const after = await d.scan(signal);
    assert.deepEqual(await filed(after.candidates, sidePort), [
      `pair/sidecar ${pod.ip} ${sidecar.hostPid}`,
    ]);
  },
});
