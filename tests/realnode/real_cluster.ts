/**
 * The frame of the real control-plane tests: a RealNode plus etcd + kube-apiserver (per-run PKI,
 * Node authorizer, NodeRestriction), pods created through the API and their containers started in
 * containerd with the API's name, namespace and UID, as a kubelet would.
 */

import { join } from "node:path";
import { realPeers } from "../harness/peers.ts";
import { type ApiPod, ControlPlane } from "../harness/realnode/controlplane.ts";
import type { RealContainer, RealContainerSpec, RealPod } from "../harness/realnode/realnode.ts";
import type { Runtime } from "../harness/realnode/cri_node.ts";
import {
  type RealRun,
  realSkipReason,
  realTest,
  RUNTIMES,
  runtimeSkipReason,
  withRealNode,
} from "./real_run.ts";

/** The node's name in the API (the collector learns it through SelfSubjectReview). */
export const NODE = "ccpeers-node-a";
/** Another node: its pods must stay invisible to NODE's kubelet identity. */
export const OTHER = "ccpeers-node-b";

let reason: Promise<string | null> | undefined;

/**
 * Why the control-plane tests cannot run (null when they can): the real node's reasons, then etcd
 * and kube-apiserver (built when missing: the first build of kube-apiserver takes ≈20 min).
 * @example clusterSkipReason().then((r) => console.log(r ?? "ok"));
 */
export function clusterSkipReason(): Promise<string | null> {
  reason ??= (async () => {
    const node = await realSkipReason();
    if (node) return node;
    const p = await realPeers(["etcd", "kube-apiserver"]);
    return p.ok ? null : p.reason;
  })();
  return reason;
}

/**
 * Registers one control-plane test per runtime from one body: `<name> [containerd]`,
 * `<name> [crio]`, each ignored with its own reason.
 * @example await clusterTestOnEach("deletion → final pull", (rt) => withRealCluster("x", body, rt));
 */
export async function clusterTestOnEach(
  name: string,
  fn: (runtime: Runtime) => Promise<void>,
): Promise<void> {
  const base = await clusterSkipReason();
  for (const rt of RUNTIMES) {
    realTest(`${name} [${rt}]`, base ?? await runtimeSkipReason(rt), () => fn(rt));
  }
}

/** A pod running on the real node and known to the API server. */
export interface ClusterPod {
  api: ApiPod;
  pod: RealPod;
  containers: RealContainer[];
}

/** What `withRealCluster` gives a test. */
export interface ClusterRun extends RealRun {
  cp: ControlPlane;
  /** The kubelet-style kubeconfig of NODE (one PEM with certificate and key). */
  kubeconfig: string;
  /** Creates the pod through the API, runs it in containerd, reports it Running as the kubelet. */
  startPod(
    o: {
      name: string;
      namespace: string;
      hostNetwork?: boolean;
      labels?: Record<string, string>;
      ownerReferences?: Record<string, unknown>[];
    },
    containers: RealContainerSpec[],
  ): Promise<ClusterPod>;
}

/**
 * `withRealNode` plus a control plane, closed at the end.
 * @example await withRealCluster("kube", async ({ cp, startPod, collector }) => { ... });
 */
export function withRealCluster(
  name: string,
  body: (r: ClusterRun) => Promise<void>,
  runtime: Runtime = "containerd",
): Promise<void> {
  return withRealNode(name, async (r) => {
    const peers = await realPeers(["etcd", "kube-apiserver"]);
    if (!peers.ok) throw new Error(peers.reason);
    const cp = await ControlPlane.start({
      dir: join(r.dir, "cp"),
      peers: { etcd: peers.paths.etcd, kubeApiserver: peers.paths["kube-apiserver"] },
      nodes: [NODE, OTHER],
    });
    r.defer(() => cp.close());
    // On CRI-O the collector runs inside the node: the API answers on its loopback too.
    await r.node.exposeHostPort(Number(new URL(cp.url).port));
    const kubeconfig = await cp.kubeconfigFor(NODE);
    await body({
      ...r,
      cp,
      kubeconfig,
      startPod: async (o, specs) => {
        const { labels, ownerReferences, ...run } = o;
        const api = await cp.createPod({ ...run, nodeName: NODE, labels, ownerReferences });
        const pod = await r.node.runPod({ ...run, uid: api.uid });
        const containers: RealContainer[] = [];
        for (const s of specs) containers.push(await r.node.startContainer(pod, s));
        await cp.markRunning(api, pod.ip);
        return { api, pod, containers };
      },
    });
  }, runtime);
}
