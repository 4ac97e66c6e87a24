/**
 * A ready-made node for end-to-end runs: a SimNode with pods of Go coverage servers
 * (tests/fixtures/covserver), optionally a fake kube API that lists the same pods (same uid,
 * name, namespace, pod IP and container IDs) and an S3 server with a registry auth file, plus
 * the collector flags that point at all of it. Used by scripts/fakenode.ts and scripts/bench.ts.
 */

import { join } from "node:path";
import { covserverBinary } from "./gobuild.ts";
import { type FakeKube, startFakeKube } from "./kubeapi.ts";
import { SimNode } from "./node.ts";
import type { SimContainer, SimPod } from "./node.ts";
import { type S3Server, s3SinkFlags, startS3 } from "./s3.ts";

/** What to build. */
export interface ScenarioOptions {
  /** Pods to start with (at most 64 pod-network pods per node over its life). */
  pods: number;
  /** Coverage servers (containers) per pod; default 1. */
  serversPerPod?: number;
  /** Every n-th pod (n, 2n, ...) is hostNetwork; 0 (default) = none. */
  hostNetworkEvery?: number;
  /** Start a fake kube API listing the pods; default false (host-only collector). */
  kube?: boolean;
  /** Start an S3 server and write a registry auth file; default false (directory sink). */
  s3?: boolean;
  /** First coverage port (servers bind the first free of port..port+49); default 53700. */
  portStart?: number;
  /** Namespace of the pods; default `ccsim`. */
  namespace?: string;
  /** How many pods start at once; default 6. */
  parallel?: number;
}

/** One coverage server of the scenario. */
export interface ScenarioServer {
  pod: SimPod;
  container: SimContainer;
  coveragePort: number;
  /** `Date.now()` when its `coverage-port=` line was seen. */
  portLineAt: number;
  /** `{hostname}/{namespace}/{pod}/{container}`: where its files go under the output dir. */
  keyPrefix: string;
}

/** A pod of the scenario with its servers. */
export interface ScenarioPod {
  pod: SimPod;
  servers: ScenarioServer[];
}

/** The running scenario. Always `close()` it. */
export interface Scenario extends AsyncDisposable {
  node: SimNode;
  kube?: FakeKube;
  s3?: S3Server;
  /** Temp dir holding output, state and auth file. */
  dir: string;
  /** The dir sink's directory (unused with s3). */
  outputDir: string;
  stateDir: string;
  /** Host name the collector is told to use (`--hostname`), first segment of every key. */
  hostname: string;
  /** Flags for `coverage-collector run` (or `once`) against this node. */
  collectorArgs: string[];
  /** Environment for the collector (none needed so far; kept for callers that print it). */
  env: Record<string, string>;
  /** Live pods, oldest first. */
  pods: ScenarioPod[];
  /** Adds a pod of `servers` coverage servers (registered in kube once they listen). */
  addPod(opts?: { name?: string; servers?: number; hostNetwork?: boolean }): Promise<ScenarioPod>;
  /** Kube: marks it deleting; stops the containers; removes the pod from crictl and kube. */
  deletePod(pod: ScenarioPod, opts?: { graceMs?: number }): Promise<void>;
  close(): Promise<void>;
}

/**
 * Builds a node with `pods` pods of coverage servers and the collector flags for it.
 * @example
 * await using sc = await buildScenario({ pods: 3, kube: true });
 * const c = await spawnCollector(["run", ...sc.collectorArgs], { env: sc.env });
 */
export async function buildScenario(opts: ScenarioOptions): Promise<Scenario> {
  const binary = await covserverBinary("covserver");
  const portStart = opts.portStart ?? 53700;
  const namespace = opts.namespace ?? "ccsim";
  const perPod = opts.serversPerPod ?? 1;
  const node = await SimNode.create();
  const hostname = node.name;
  // One image for every server, as when one build runs in many pods.
  const digest = Array.from(crypto.getRandomValues(new Uint8Array(32)))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  const imageRef = `quay.io/ccsim/covserver@sha256:${digest}`;
  const dir = await Deno.makeTempDir({ prefix: `ccsim-${node.runId}-scn-` });
  const outputDir = join(dir, "out");
  const stateDir = join(dir, "state");
  let kube: FakeKube | undefined;
  let s3: S3Server | undefined;
  const pods: ScenarioPod[] = [];
  let seq = 0;

  const close = async () => {
    const errors: unknown[] = [];
    for (const step of [() => node.close(), () => kube?.close(), () => s3?.close()]) {
      try {
        await step();
      } catch (e) {
        errors.push(e);
      }
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    if (errors.length) throw new AggregateError(errors, `scenario cleanup: ${errors.join("; ")}`);
  };

  const addPod: Scenario["addPod"] = async (o = {}) => {
    const n = seq++;
    const hostNetwork = o.hostNetwork ??
      (opts.hostNetworkEvery ? (n + 1) % opts.hostNetworkEvery === 0 : false);
    const name = o.name ?? `cov-${String(n).padStart(3, "0")}`;
    const pod = await node.addPod({ name, namespace, hostNetwork });
    const servers: ScenarioServer[] = [];
    const entry: ScenarioPod = { pod, servers };
    pods.push(entry);
    const count = o.servers ?? perPod;
    // Containers of one pod start one after another: they share the netns and its port range.
    for (let i = 0; i < count; i++) {
      const cname = `srv-${i}`;
      const container = await pod.addContainer({
        name: cname,
        command: binary,
        imageRef,
        env: { COVERAGE_PORT: String(portStart), APP_PORT: "0", FIXTURE_MODE: "" },
      });
      const m = await container.waitLine(/coverage-port=(\d+)/, 20_000);
      servers.push({
        pod,
        container,
        coveragePort: Number(m[1]),
        portLineAt: Date.now(),
        keyPrefix: [hostname, namespace, name, cname].join("/"),
      });
    }
    await kube?.addPod({
      name,
      namespace,
      uid: pod.uid,
      nodeName: node.name,
      hostNetwork,
      // hostNetwork pods: the fake gives them the node's IP (crictl reports "").
      podIP: pod.ip || undefined,
      containers: servers.map((s) => ({
        name: s.container.name,
        image: "quay.io/ccsim/covserver:latest",
        containerID: `cri-o://${s.container.id}`,
      })),
    });
    return entry;
  };

  const deletePod: Scenario["deletePod"] = async (entry, o = {}) => {
    const { pod } = entry;
    if (kube) await kube.markDeleting(pod.namespace, pod.name, Math.ceil((o.graceMs ?? 0) / 1000));
    await pod.delete({ graceMs: o.graceMs ?? 2000 });
    node.pods.delete(pod);
    pods.splice(pods.indexOf(entry), 1);
    if (kube) await kube.deletePod(pod.namespace, pod.name);
  };

  try {
    const flags = [
      "--crictl",
      node.crictlPath,
      "--hostname",
      hostname,
      "--host-root",
      "/",
      "--port-start",
      String(portStart),
      "--port-span",
      "50",
      "--health-addr",
      "127.0.0.1:0",
      "--output-dir",
      outputDir,
      "--state-dir",
      stateDir,
    ];
    const [k, s] = await Promise.all([
      opts.kube ? startFakeKube({ nodeName: node.name }) : undefined,
      opts.s3 ? startS3() : undefined,
    ]);
    kube = k;
    s3 = s;
    if (kube) flags.push("--kubeconfig", kube.kubeconfigPath, "--node-name", node.name);
    else flags.push("--kubeconfig-wait", "0s");
    if (s3) flags.push(...await s3SinkFlags(s3, dir));
    else flags.push("--sink", "dir");
    const queue = Array.from({ length: opts.pods }, (_, i) => i);
    const worker = async () => {
      while (queue.shift() !== undefined) await addPod();
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.parallel ?? 6) }, worker));
    pods.sort((a, b) => a.pod.name.localeCompare(b.pod.name));
    return {
      node,
      kube,
      s3,
      dir,
      outputDir,
      stateDir,
      hostname,
      collectorArgs: flags,
      env: {},
      pods,
      addPod,
      deletePod,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (e) {
    await close().catch(() => {});
    throw e;
  }
}

/** Every server of the scenario's live pods. @example allServers(sc).length */
export function allServers(sc: Pick<Scenario, "pods">): ScenarioServer[] {
  return sc.pods.flatMap((p) => p.servers);
}
