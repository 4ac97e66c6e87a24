/**
 * What the composition root (src/app/) gives every part, what a part of the daemon is, and the
 * logger a config asks for.
 */

import type { Config } from "./config.ts";
import type { Health } from "./health.ts";
import { createLogger, type Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type { System } from "./system.ts";

/** What every part is given by the composition root. */
export interface Deps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  health: Health;
  system: System;
}

/** A long-running part of the daemon (engine, kube watch, spool drain...). */
export interface Part {
  name: string;
  /** Runs until `signal` aborts. A rejection is logged; the daemon goes on without the part. */
  run(signal: AbortSignal): Promise<void>;
  /** Called once on shutdown, before `run`'s signal aborts: last work (the final pull). */
  beforeStop?(deadline: AbortSignal): Promise<void>;
  /** What /status shows under the part's name. */
  status?(): unknown;
  /** Entries of the part's long-lived maps, by name (/status `sizes`, /metrics). */
  sizes?(): Record<string, number>;
}

/** The logger the config asks for; no time stamps under journald, which stamps lines itself. */
export function loggerFor(config: Config, env = Deno.env.toObject()): Logger {
  return createLogger({
    level: config.logLevel,
    format: config.logFormat,
    timestamps: !env.JOURNAL_STREAM,
  });
}
