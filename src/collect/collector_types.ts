/** The contracts of one collector: what it needs, what a pull comes to, what /status shows. */

import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { Sink } from "../sink/sink.ts";
import type { System } from "../system.ts";
import type { LiveCoverage, StatementTables } from "../coverage/live.ts";
import type { PullGate } from "./gate.ts";
import type { PullFloor } from "./pull.ts";
import type { TimelineCopy } from "./timeline_copies.ts";
import type { Workload } from "../target.ts";
import type { ImageSource } from "../cri/image_source.ts";

/** Why a collector's run ended. */
export type EndReason = "stopped" | "pid-gone" | "identity-changed";

/** What one pull came to. `ended`: the collector is over (see `end`), nothing was pulled. */
export interface PullOutcome {
  result: "stored" | "unchanged" | "rejected" | "failed" | "store-failed" | "ended" | "aborted";
  /** Set when this pull (or an earlier one) ended the collector. */
  end?: EndReason;
  /** What went wrong, for logs and /status. */
  error?: string;
  /** Counter bytes stored by this pull. */
  bytes?: number;
}

/** What /status shows about one collector. */
export interface CollectorStatus {
  namespace: string;
  pod: string;
  container: string;
  binary: string;
  address: string;
  port: number;
  prefix: string;
  lastPull: string | null;
  lastStore: string | null;
  lastError: string | null;
  pulls: number;
  stores: number;
  ended: EndReason | null;
  /** Statements covered / total by the last counters seen; null before the first. */
  coverage: (LiveCoverage & { lastChange: string }) | null;
  /** When the server last covered a block no pull had seen covered (ISO); null when never. */
  lastNewCoverage: string | null;
}

export interface CollectorDeps {
  sink: Sink;
  system: System;
  log: Logger;
  metrics: Metrics;
  config:
    & Pick<Config, "pullSchedule" | "pullTimeout" | "maxBody">
    & Partial<Pick<Config, "pullIdle">>;
  /** Host name of the node: the first segment of every key. */
  hostname: string;
  /** The node name once known (for info.json). */
  nodeName?: () => string | undefined;
  /** Node-wide bounds on pulls in flight and body bytes held (held from pull to store). */
  gate?: PullGate;
  /** Statement tables shared per checked meta-data file (default: the process's). */
  tables?: StatementTables;
  /** Who runs the pod of this UID, per the pod watch (for info.json). */
  podWorkload?: (podUid: string) => Workload | undefined;
  /** The image's source labels (for info.json when the headers carry no source_url/commit). */
  imageSource?: (image: string, signal: AbortSignal) => Promise<ImageSource>;
  /** The node's boot ID (for info.json: with the start time it names the process). */
  bootId?: string;
  /** Called once the meta-data is stored: the prefix's discovery time and meta hash (the
   * prefix memory keeps them across restarts). */
  remember?: (discoveredAt: Date, metaHash: string) => Promise<void> | void;
  /** This process's timeline as the collector last kept it in its state dir (continued after
   * a restart: see timeline_copies.ts). */
  timelineCopy?: TimelineCopy;
}

/** Tuning of one collector (not a setting: tests and benchmarks change it). */
export interface CollectorOptions {
  /** Changed counters without new coverage are stored once the last store is this old. */
  refreshMs?: number;
  /** The slowest answer a pull waits for (default: pull.ts DEFAULT_FLOOR; null: none). */
  floor?: PullFloor | null;
}
