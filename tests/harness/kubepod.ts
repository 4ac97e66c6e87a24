/** Shapes the fake API server (tests/fixtures/fakekube) takes and returns. */

import { z } from "zod";

/** What `addPod`/`updatePod` take; unset fields get realistic defaults. */
export interface PodInput {
  name: string;
  /** Default `default`. */
  namespace?: string;
  /** Default a random UUID. */
  uid?: string;
  /** Default the fake's node. */
  nodeName?: string;
  hostNetwork?: boolean;
  /** Default `Running`. */
  phase?: string;
  /** Default a random 10.244.1.x (the host IP for hostNetwork pods). */
  podIP?: string;
  /** Default 10.0.0.5. */
  hostIP?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Default one container `app`. `containerID` is a bare 64-hex ID or `cri-o://<id>`;
   * default a random ID. */
  containers?: { name: string; image?: string; containerID?: string }[];
}

/** A Pod as the fake serves it (extra fields kept). */
export const FakePodSchema = z.looseObject({
  kind: z.string().optional(),
  apiVersion: z.string().optional(),
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string(),
    uid: z.string(),
    resourceVersion: z.string(),
    deletionTimestamp: z.string().optional(),
    deletionGracePeriodSeconds: z.number().optional(),
  }),
  spec: z.looseObject({
    nodeName: z.string(),
    hostNetwork: z.boolean().optional(),
    containers: z.array(z.looseObject({ name: z.string(), image: z.string() })),
  }),
  status: z.looseObject({
    phase: z.string(),
    podIP: z.string().optional(),
    containerStatuses: z.array(z.looseObject({ name: z.string(), containerID: z.string() })),
  }),
});
export type FakePod = z.infer<typeof FakePodSchema>;

/** One API request as the fake logged it. */
export const RequestRecordSchema = z.object({
  time: z.string(),
  method: z.string(),
  path: z.string(),
  query: z.string(),
  /** Authenticated user name, "" when none. */
  user: z.string(),
  auth: z.enum(["cert", "token", "none"]),
  /** 0 when the handler was cut before answering (dropStreams). */
  status: z.number(),
});
export type RequestRecord = z.infer<typeof RequestRecordSchema>;
export const RequestsSchema = z.array(RequestRecordSchema);
