/**
 * Who runs a pod, from what the pod object itself says (no further API call): its controller
 * (the ownerReference with `controller: true`) and the workload behind it. A ReplicaSet named
 * `<deployment>-<hash>` whose pod carries `pod-template-hash=<hash>` is a Deployment's (the
 * Deployment controller names its ReplicaSets so); any other controller is the workload itself,
 * and a pod without one is its own.
 */

import { z } from "zod";
import type { Workload } from "../target.ts";

export type { Workload };

/** Longest kind (a Kubernetes kind is a short CamelCase word). */
const MAX_KIND = 63;
/** Longest object name (a DNS subdomain). */
const MAX_NAME = 253;
/** ownerReferences looked at: a pod has one or two; a hostile list costs no more than this. */
const MAX_REFS = 32;

/** A kind as ownerReferences (and info.json's workloadKind) carry it. */
export const Kind = z.string().min(1).max(MAX_KIND).regex(/^[A-Za-z][A-Za-z0-9]*$/);
/** A DNS subdomain, as the API server requires of the objects that own pods. */
export const Name = z.string().min(1).max(MAX_NAME).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);

/** One ownerReference; a malformed one is left out, never the pod. */
const OwnerRef = z.object({
  kind: Kind,
  name: Name,
  controller: z.boolean().optional(),
}).nullable().catch(null);

/** The pod fields the derivation reads (watch_stream's PodMeta carries them). */
export const PodOwnerFields = {
  ownerReferences: z.array(z.unknown()).optional().catch(undefined),
  labels: z.record(z.string(), z.unknown()).optional().catch(undefined),
};

/**
 * The workload of a pod.
 *
 * @example
 * workloadOf({ name: "web-7d4b9-x2x", ownerReferences: [{ kind: "ReplicaSet", name: "web-7d4b9", controller: true }],
 *   labels: { "pod-template-hash": "7d4b9" } }) // { controller: { kind: "ReplicaSet", name: "web-7d4b9" }, kind: "Deployment", name: "web" }
 */
export function workloadOf(
  pod: { name: string; ownerReferences?: unknown[]; labels?: Record<string, unknown> },
): Workload {
  const refs = (pod.ownerReferences ?? []).slice(0, MAX_REFS).map((r) => OwnerRef.parse(r));
  const c = refs.find((r) => r?.controller === true);
  if (!c) return { kind: "Pod", name: pod.name };
  const controller = { kind: c.kind, name: c.name };
  const hash = pod.labels?.["pod-template-hash"];
  if (
    c.kind === "ReplicaSet" && typeof hash === "string" && hash !== "" &&
    c.name.length > hash.length + 1 && c.name.endsWith(`-${hash}`)
  ) {
    return { controller, kind: "Deployment", name: c.name.slice(0, -hash.length - 1) };
  }
  return { controller, ...controller };
}
