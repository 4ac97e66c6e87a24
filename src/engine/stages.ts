/**
 * The contracts of the engine's stages: what a scan found, the probe, attribution and collector
 * it is given, what a pull came to. In a file of their own, so that the engine and its helpers
 * import them and no helper imports the engine.
 */

import type { CollectorStatus } from "../collect/collector_types.ts";
import type { ProbeResult } from "../probe/probe.ts";
import type { Candidate, Identity, Target } from "../target.ts";

/** What one scan of the node found (see src/discover). */
export interface ScanFindings {
  candidates: Candidate[];
  containers: { id: string; podUid: string }[];
  crictlOk: boolean;
  crictlError?: string;
}

/** The outcome of one pull-and-store, as the engine reports it. */
export interface StoreReport {
  stored: boolean;
  /** The collector's own word for the outcome (stored, unchanged, rejected...). */
  result?: string;
  /** Why nothing was stored (unchanged data counts as stored). */
  error?: string;
  /** Where the server's files go. */
  prefix?: string;
}

/** One collector per confirmed server (see src/collect/collector.ts). */
export interface CollectorHandle {
  run(signal: AbortSignal): Promise<string>;
  pullNow(reason: string, signal: AbortSignal): Promise<StoreReport>;
  /** What /status shows of it; the engine's gauges read its labels and live coverage. */
  status(): CollectorStatus;
}

/** The engine's seams: discovery, probe, attribution and collectors are passed in. */
export interface Stages {
  scan(signal: AbortSignal): Promise<ScanFindings>;
  /** `timeoutMs`: how long this probe may take (the judge gives new candidates less). */
  probe(candidate: Candidate, signal: AbortSignal, timeoutMs: number): Promise<ProbeResult>;
  /** The host PID of the server among the owner's processes, or null (refuse). */
  attribute(candidate: Candidate, identity: Identity): Promise<number | null>;
  collector(target: Target): CollectorHandle;
  /**
   * A cheap look for something new between scans (`crictl ps` only), used while no pod events
   * come (host-only mode): true starts a scan at once.
   */
  changed?(signal: AbortSignal): Promise<boolean>;
  /** True while pod events arrive (the kube watch runs): no need to look between scans. */
  watchingPods?(): boolean;
  /**
   * The discovery time a process stored before a restart keeps, and the meta hash its prefix
   * holds (src/collect/prefix_memory.ts); undefined for a process not stored before.
   */
  recall?(target: Target): { discoveredAt: Date; metaHash: string } | undefined;
  /** Entries of the stages' own long-lived maps (discovery's), for `sizes`. */
  sizes?(): Record<string, number>;
}
