/**
 * crictl JSON output: only the fields discovery reads are checked and kept; the rest (runtimeSpec,
 * tens of KB per container) is stripped, so what is cached stays small.
 */

import { z } from "zod";

const Labels = z.record(z.string(), z.string()).nullish().transform((l) => l ?? {});
const Metadata = z.object({
  name: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  attempt: z.number().optional(),
}).nullish();

/** One container of `crictl ps -o json`. */
export const PsContainer = z.object({
  id: z.string().min(1),
  podSandboxId: z.string().min(1),
  metadata: Metadata,
  imageRef: z.string().nullish(),
  state: z.string().nullish(),
  labels: Labels,
});
export type PsContainer = z.infer<typeof PsContainer>;

/** `crictl ps -o json`. */
export const PsOutput = z.object({
  containers: z.array(PsContainer).nullish().transform((c) => c ?? []),
});
export type PsOutput = z.infer<typeof PsOutput>;

/** `crictl inspect <id>`: info.pid is the host PID of the container's process (0 if not running). */
export const InspectOutput = z.object({
  status: z.object({
    id: z.string(),
    metadata: Metadata,
    imageRef: z.string().nullish(),
    labels: Labels,
  }),
  info: z.object({
    pid: z.number().int().nonnegative(),
    sandboxID: z.string().nullish(),
  }),
});
export type InspectOutput = z.infer<typeof InspectOutput>;

/** `crictl inspectp <sandbox-id>`: pod metadata, IP and whether it has its own network. */
export const InspectpOutput = z.object({
  status: z.object({
    id: z.string(),
    metadata: Metadata,
    state: z.string().nullish(),
    network: z.object({
      ip: z.string().nullish(),
      /** The pod's other IPs (dual stack): `{ip}` objects, or plain strings from some tools. */
      additionalIps: z.array(z.union([z.string(), z.object({ ip: z.string() })])).nullish(),
    }).nullish(),
    linux: z.object({
      namespaces: z.object({
        options: z.object({ network: z.string().nullish() }).nullish(),
      }).nullish(),
    }).nullish(),
    labels: Labels,
  }),
});
export type InspectpOutput = z.infer<typeof InspectpOutput>;

const ImageLabels = z.record(z.string(), z.unknown()).nullish().catch(null);

/**
 * `crictl inspecti <image>`: the image's labels. crictl puts the runtime's verbose `info` JSON
 * under `info`; containerd and CRI-O both give the OCI image config there (`imageSpec.config.Labels`),
 * CRI-O also the labels alone (`labels`). Any of it may be missing.
 */
export const InspectiOutput = z.object({
  status: z.object({ id: z.string() }),
  info: z.object({
    imageSpec: z.object({
      config: z.object({ Labels: ImageLabels }).nullish().catch(null),
    }).nullish().catch(null),
    labels: ImageLabels,
  }).nullish().catch(null),
});
export type InspectiOutput = z.infer<typeof InspectiOutput>;
