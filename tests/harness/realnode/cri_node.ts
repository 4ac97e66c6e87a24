/**
 * The one interface the real-node tests drive, whichever runtime is under it: containerd
 * (RealNode, realnode.ts) or CRI-O (CrioNode, crionode.ts). A test body written against it runs
 * on both.
 */

import type { RealContainer, RealContainerSpec, RealLeftovers, RealPod } from "./realnode.ts";

/** The runtimes of the real-node tier. */
export type Runtime = "containerd" | "crio";

/** What a pod is asked for. */
export interface CriPodOptions {
  name: string;
  namespace: string;
  uid?: string;
  hostNetwork?: boolean;
  /** shareProcessNamespace (CRI-O: a real infra container holds the pod's PID namespace). */
  sharedPid?: boolean;
}

/** A running node: its runtime, the real crictl, pods and containers, and its teardown. */
export interface CriNode {
  readonly runtime: Runtime;
  readonly runId: string;
  readonly crictl: string;
  readonly endpoint: string;
  readonly cgroupParent: string;
  readonly pods: RealPod[];
  crictlRun(args: string[]): Promise<string>;
  runPod(o: CriPodOptions): Promise<RealPod>;
  startContainer(pod: RealPod, s: RealContainerSpec): Promise<RealContainer>;
  stopContainer(c: RealContainer, timeoutS?: number): Promise<void>;
  restartContainer(c: RealContainer, s: RealContainerSpec): Promise<RealContainer>;
  removePod(pod: RealPod): Promise<void>;
  /** `argv` run where the node's processes and network are (as is, for containerd). */
  inNode(argv: string[]): string[];
  /** GET from where the node's pod network is reachable. */
  get(url: string): Promise<{ status: number; body: string }>;
  /** This host's PID of a PID the runtime reported. */
  hostPidOf(nodePid: number): number;
  close(): Promise<void>;
  leftovers(): Promise<RealLeftovers>;
}
