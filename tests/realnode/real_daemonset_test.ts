/**
 * The shipped DaemonSet (scripts/deploy/daemonset.yaml) run by a real kubelet v1.37.2 on CRI-O:
 * its objects applied to the real kube-apiserver and the Pod its controller would make created
 * from its template (tests/harness/realnode/daemonset.ts: the image name is the one change). The
 * kubelet runs the collector image (tests/harness/realnode/collector_image.ts) privileged, in the
 * node's PID and network namespaces, with the node's `/` at /host; the collector, with only the
 * manifest's flags, finds the other pods' servers through /host (crictl, the CRI-O socket, /proc)
 * and stores them in its hostPath dir; its /readyz turns ready and the kubelet's readiness probe
 * with it; deleting its pod through the API brings the kubelet's SIGTERM and the shutdown pull,
 * which stores code run just before the deletion.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { assertRoutes, byPrefix, eventually, filesUnder } from "../e2e/e2e_util.ts";
import { logField } from "../e2e/kube_util.ts";
import { repoRoot } from "../harness/gobuild.ts";
import { COLLECTOR_IMAGE, collectorImageTar } from "../harness/realnode/collector_image.ts";
import {
  applyDaemonSet,
  importCrioImage,
  shapeCrioNodeForDaemonSet,
} from "../harness/realnode/daemonset.ts";
import type { KubeletNode } from "../harness/realnode/kubelet_node.ts";
import {
  covserverPod,
  createNamespace,
  hitNodeRoute,
  runningContainer,
} from "../harness/realnode/kubelet_pods.ts";
import { kubeletSkipReason, startKubeletNode } from "./kubelet_run.ts";
import { realTest } from "./real_run.ts";

const NODE = "ccpeers-ds";
const NS = "ds";
/** The collector's default first port (the manifest sets none). */
const DEFAULT_PORT = 53700;
const LIMIT = 90_000;

/** The stored prefix whose info.json names container `id`, once it holds counters. */
function storedPrefix(out: string, id: string, logs: () => Promise<string>): Promise<string> {
  return eventually(`a stored prefix of container ${id.slice(0, 12)}`, async () => {
    for (const [prefix, names] of byPrefix(await filesUnder(out).catch(() => []))) {
      if (!names.some((n) => n.startsWith("covcounters."))) continue;
      const info = JSON.parse(await Deno.readTextFile(join(out, prefix, "info.json")));
      if (info.containerId === id) return prefix;
    }
    return undefined;
  }, LIMIT).catch(async (e) => assert.fail(`${e}\n${await logs()}`));
}

/** The pod's container states and the kubelet's last lines naming it (a failure's detail). */
async function whyNotRunning(
  node: KubeletNode,
  meta: { name: string; namespace: string },
): Promise<string> {
  const r = await node.cp.admin("GET", `/api/v1/namespaces/${meta.namespace}/pods/${meta.name}`);
  const st = r.json?.status as Record<string, unknown> | undefined;
  const log = await Deno.readTextFile(join(node.dir, "kubelet.log")).catch(() => "");
  const named = log.split("\n").filter((l) => l.includes(meta.name)).slice(-8);
  return `${JSON.stringify(st?.containerStatuses ?? st?.conditions)}\n${named.join("\n")}`;
}

realTest(
  "the shipped DaemonSet on a real kubelet (CRI-O): its pod runs privileged, hostPID, host root " +
    "at /host; the collector stores the node's pods, turns ready, and its deletion → shutdown pull",
  await kubeletSkipReason("crio"),
  async () => {
    const stop = new AbortController();
    const node = await startKubeletNode(NODE, "crio");
    const lines: string[] = [];
    let logsNow = () => Promise.resolve(lines);
    const logs = (l = lines) => l.slice(-40).join("\n");
    try {
      const crio = node.crioNode!;
      const tar = join(node.dir, "collector.tar");
      await collectorImageTar(tar, stop.signal);
      await importCrioImage(crio, tar, COLLECTOR_IMAGE);
      await Deno.remove(tar);
      await shapeCrioNodeForDaemonSet(crio, node.peers.crictl);

      await createNamespace(node, NS);
      await node.cp.admin(
        "POST",
        `/api/v1/namespaces/${NS}/pods`,
        covserverPod({
          name: "web",
          namespace: NS,
          nodeName: NODE,
          binary: "ds-web",
          coveragePort: DEFAULT_PORT,
        }),
      );
      const web = await runningContainer(node, NS, "web");
      await hitNodeRoute(node, web, "alpha");

      const applied = Date.now();
      const pod = await applyDaemonSet(
        node,
        join(repoRoot, "scripts/deploy/daemonset.yaml"),
        COLLECTOR_IMAGE,
      );
      const meta = pod.metadata as { name: string; namespace: string };
      const ds = await runningContainer(node, meta.namespace, meta.name, { ms: LIMIT })
        .catch(async (e) => assert.fail(`${e}\n${await whyNotRunning(node, meta)}`));
      // The collector's log as the runtime keeps it (crictl logs: its stderr on crictl's).
      const readLogs = async () => {
        const o = await new Deno.Command(node.peers.crictl, {
          args: ["--runtime-endpoint", crio.endpoint, "logs", ds.id],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = new TextDecoder().decode(o.stderr) + new TextDecoder().decode(o.stdout);
        if (o.success) lines.splice(0, lines.length, ...text.split("\n"));
        return lines;
      };
      logsNow = readLogs;

      // Privileged, in the node's PID namespace, the node's / at /host (read-only).
      const hostPid = crio.hostPidOf(ds.pid);
      assert.equal(
        await Deno.readLink(`/proc/${hostPid}/ns/pid`),
        await Deno.readLink(`/proc/${crio.initPid}/ns/pid`),
      );
      assert.equal(
        await Deno.readLink(`/proc/${hostPid}/ns/net`),
        await Deno.readLink(`/proc/${crio.initPid}/ns/net`),
      );
      const capEff = (await Deno.readTextFile(`/proc/${hostPid}/status`)).match(
        /^CapEff:\s*(\S+)/m,
      )?.[1];
      const own = (await Deno.readTextFile(`/proc/self/status`)).match(/^CapEff:\s*(\S+)/m)?.[1];
      assert.equal(capEff, own, "privileged: the node's full capability set");
      const mounts = await Deno.readTextFile(`/proc/${hostPid}/mountinfo`);
      assert.match(mounts, /^\S+ \S+ \S+ \/ \/host ro,/m, mounts);

      // It stores the node's pod (found through /host: crictl, the CRI-O socket, /proc) and its
      // /readyz turns ready, on the node's loopback and in the kubelet's probe.
      const out = join(crio.paths.nsroot, "varlib", "coverage-collector", "coverage-data");
      const prefix = await storedPrefix(out, web.id, async () => logs(await logsNow()));
      await assertRoutes(join(out, prefix), ["alpha"], prefix);
      await eventually("/readyz 200 on the node's loopback", async () => {
        const code = await node.inNodeNet("curl", [
          "-s",
          "-o",
          "/dev/null",
          "-w",
          "%{http_code}",
          "http://127.0.0.1:9797/readyz",
        ]).catch(() => "000");
        return code === "200" ? true : undefined;
      }, LIMIT).catch(async (e) => assert.fail(`${e}\n${logs(await logsNow())}`));
      await eventually("the kubelet's readiness probe: pod Ready", async () => {
        const r = await node.cp.admin(
          "GET",
          `/api/v1/namespaces/${meta.namespace}/pods/${meta.name}`,
        );
        const conds = ((r.json?.status as Record<string, unknown>)?.conditions ?? []) as {
          type: string;
          status: string;
        }[];
        return conds.some((c) => c.type === "Ready" && c.status === "True") ? true : undefined;
      }, LIMIT).catch(async (e) => assert.fail(`${e}\n${logs(await logsNow())}`));

      const ready = Date.now();
      // gamma runs, then the collector's pod is deleted: the kubelet's SIGTERM starts the
      // shutdown pull, the only pull that can have stored gamma (the schedule's next is later).
      await hitNodeRoute(node, web, "gamma");
      const deleted = Date.now();
      await node.cp.admin("DELETE", `/api/v1/namespaces/${meta.namespace}/pods/${meta.name}`, {
        apiVersion: "v1",
        kind: "DeleteOptions",
        gracePeriodSeconds: 30,
      });
      await eventually("the collector stopped", async () => {
        const st = JSON.parse(await node.crictl(["inspect", ds.id]).catch(() => "{}"));
        return st?.status?.state === "CONTAINER_EXITED" ? true : undefined;
      }, LIMIT).catch(async (e) => assert.fail(`${e}\n${await whyNotRunning(node, meta)}`));
      console.log(
        `daemonset tier: manifest applied → pod Ready ${ready - applied} ms; ` +
          `DELETE → collector exited ${Date.now() - deleted} ms`,
      );
      await logsNow();
      const shutting = lines.findIndex((l) => l.includes('msg="shutting down"'));
      assert.ok(shutting >= 0, logs());
      const final = lines.slice(shutting).find((l) =>
        l.includes('msg="final pull"') && logField(l, "pod") === "web"
      );
      assert.ok(final, `no final pull of web after "shutting down":\n${logs()}`);
      assert.equal(logField(final, "stored"), "true", final);
      await assertRoutes(join(out, prefix), ["alpha", "gamma"], `${prefix} after the deletion`);
      await eventually("the collector's pod gone from the API", async () => {
        const r = await node.cp.request(
          node.cp.adminClient,
          "GET",
          `/api/v1/namespaces/${meta.namespace}/pods/${meta.name}`,
        );
        return r.status === 404 ? true : undefined;
      }, LIMIT);
    } finally {
      stop.abort();
      await node.close();
    }
    assert.deepEqual(await node.leftovers(), {
      processes: [],
      cgroups: [],
      paths: [],
      hostChanged: [],
    });
  },
);
