/**
 * Pods of the kubelet tier: the covserver fixture as a Pod object bound to the node by
 * `spec.nodeName` (no scheduler), created through the API; the kubelet runs it. Helpers wait
 * for the API's view and find the kubelet-made container in the runtime.
 */

import type { KubeletNode } from "./kubelet_node.ts";
import { COVSERVER_IMAGE } from "./images.ts";

/** The app port of every covserver pod of the tier (pod network: one per pod IP). */
export const APP_PORT = 18080;

/**
 * A Pod object running the covserver image with `imagePullPolicy: Never` (the image is imported
 * into the node's runtime, no registry), restartPolicy Always.
 * @example covserverPod({ name: "web", namespace: "kl", nodeName: "n", binary: "kl-web", coveragePort: 57400 })
 */
export function covserverPod(p: {
  name: string;
  namespace: string;
  nodeName: string;
  binary: string;
  coveragePort: number;
  graceSeconds?: number;
  /** A preStop `sleep` action (no binary needed): the kubelet waits this long before SIGTERM. */
  preStopSleepSeconds?: number;
}): Record<string, unknown> {
  const env = {
    COVERAGE_PORT: String(p.coveragePort),
    APP_PORT: String(APP_PORT),
    FIXTURE_BINARY_NAME: p.binary,
  };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: p.name, namespace: p.namespace, labels: { app: p.name } },
    spec: {
      nodeName: p.nodeName,
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: p.graceSeconds ?? 30,
      restartPolicy: "Always",
      containers: [{
        name: "app",
        image: COVSERVER_IMAGE,
        imagePullPolicy: "Never",
        ...(p.preStopSleepSeconds
          ? { lifecycle: { preStop: { sleep: { seconds: p.preStopSleepSeconds } } } }
          : {}),
        env: Object.entries(env).map(([name, value]) => ({ name, value })),
      }],
    },
  };
}

/** Creates a namespace and its `default` ServiceAccount (no controller manager makes it). */
export async function createNamespace(node: KubeletNode, name: string): Promise<void> {
  await node.cp.admin("POST", "/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name },
  });
  await node.cp.admin("POST", `/api/v1/namespaces/${name}/serviceaccounts`, {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "default" },
  });
}

/** The kubelet-made container of a pod, as the runtime reports it. */
export interface KubeletContainer {
  id: string;
  /** PID of its process in the node's PID namespace (the runtime's view). */
  pid: number;
  podIp: string;
  appUrl: string;
  restartCount: number;
}

/**
 * Waits (up to `ms`) for the pod's container `app` to run with an ID other than `not`, and the
 * API to show the pod Running with an IP; returns it.
 * @example const c = await runningContainer(node, "kl", "web");
 */
export async function runningContainer(
  node: KubeletNode,
  namespace: string,
  pod: string,
  o: { not?: string; ms?: number } = {},
): Promise<KubeletContainer> {
  const deadline = Date.now() + (o.ms ?? 60_000);
  let last = "";
  while (Date.now() < deadline) {
    try {
      const r = await node.cp.admin("GET", `/api/v1/namespaces/${namespace}/pods/${pod}`);
      const status = r.json?.status as Record<string, unknown> | undefined;
      const podIp = String(status?.podIP ?? "");
      const ps = JSON.parse(
        await node.crictl([
          "ps",
          "-o",
          "json",
          "--state",
          "running",
          "--label",
          `io.kubernetes.pod.name=${pod}`,
          "--label",
          `io.kubernetes.pod.namespace=${namespace}`,
        ]),
      ) as { containers: { id: string; annotations: Record<string, string> }[] };
      const c = ps.containers.find((x) => x.id !== o.not);
      last = `phase ${status?.phase}, ip "${podIp}", ${ps.containers.length} running`;
      if (c && status?.phase === "Running" && podIp) {
        const info = JSON.parse(await node.crictl(["inspect", c.id]));
        return {
          id: c.id,
          pid: Number(info?.info?.pid),
          podIp,
          appUrl: `http://${podIp}:${APP_PORT}`,
          restartCount: Number(c.annotations["io.kubernetes.container.restartCount"] ?? 0),
        };
      }
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 250)); // the kubelet's progress has no event here
  }
  throw new Error(
    `pod ${namespace}/${pod}: no running container within ${o.ms ?? 60_000} ms: ${last}`,
  );
}

/**
 * Runs an app route of a covserver inside the node's network (pod IPs live only there).
 * @example await hitNodeRoute(node, c, "alpha");
 */
export async function hitNodeRoute(
  node: KubeletNode,
  c: { appUrl: string },
  route: string,
): Promise<void> {
  await node.inNodeNet("curl", [
    "-sSf",
    "-m",
    "10",
    "-o",
    "/dev/null",
    `${c.appUrl}/run/${route}?n=2`,
  ]);
}
