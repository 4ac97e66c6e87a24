/**
 * What the tests that run a real kubelet share: why one cannot run here, and a kubelet node made
 * from the peer cache (tests/harness/realnode/kubelet_node.ts).
 */

import { realPeers } from "../harness/peers.ts";
import type { Runtime } from "../harness/realnode/cri_node.ts";
import { crioPeers } from "../harness/realnode/crio_peers.ts";
import { KubeletNode } from "../harness/realnode/kubelet_node.ts";
import { realSkipReason } from "./real_run.ts";

/** Why a kubelet node on `runtime` cannot run here, or null. */
export async function kubeletSkipReason(runtime: Runtime): Promise<string | null> {
  const node = await realSkipReason();
  if (node) return node;
  const p = await realPeers(["etcd", "kube-apiserver", "kubelet"]);
  if (!p.ok) return p.reason;
  if (runtime === "crio") {
    const c = await crioPeers();
    if (!c.ok) return c.reason;
  }
  return null;
}

/**
 * A kubelet node named `nodeName` on `runtime`, its peers from the cache.
 *
 * @example await using node = await startKubeletNode("ccpeers-kubelet", "crio");
 */
export async function startKubeletNode(nodeName: string, runtime: Runtime): Promise<KubeletNode> {
  const peers = await realPeers(["crictl", "etcd", "kube-apiserver", "kubelet"]);
  if (!peers.ok) throw new Error(peers.reason);
  return await KubeletNode.create(
    {
      crictl: peers.paths.crictl,
      etcd: peers.paths.etcd,
      kubeApiserver: peers.paths["kube-apiserver"],
      kubelet: peers.paths.kubelet,
    },
    nodeName,
    runtime,
  );
}
