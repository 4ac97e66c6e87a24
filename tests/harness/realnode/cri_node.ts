/**
 * The one interface the real-node tests drive, whichever runtime is under it: containerd
 * (RealNode, realnode.ts) or CRI-O (CrioNode, crionode.ts). A test body written against it runs
 * on both.
 */

import type {
  CriPodOptions,
  RealContainer,
  RealContainerSpec,
  RealLeftovers,
  RealPod,
} from "./real_types.ts";

export type { CriPodOptions };

/** The runtimes of the real-node tier. */
export type Runtime = "containerd" | "crio";

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
  /** Makes this host's loopback `port` answer on the node's loopback (as is, for containerd). */
  exposeHostPort(port: number): Promise<void>;
  /** A URL of this host reaching a loopback `url` of the node (as is, for containerd). */
  reachFromHost(url: string): Promise<string>;
  close(): Promise<void>;
  leftovers(): Promise<RealLeftovers>;
}
