/** The composition root of the daemon: builds the parts, serves health, owns the lifecycle. */

import type { Config } from "../config.ts";
import { Health } from "../health.ts";
import { createLogger, type Logger } from "../log.ts";
import { Metrics } from "../metrics.ts";
import { registerProcessMetrics } from "./process_metrics.ts";
import { createApp, serve } from "./health_server.ts";
import { onShutdownSignals, Unfinished, withDeadline } from "./shutdown.ts";
import { createSystem, type System } from "../system.ts";
import { formatDuration } from "../units.ts";
import { VERSION } from "../version.ts";
import { registerRuntimeMetrics, runtimeStats, trackTimers } from "./runtime_stats.ts";

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

/** Builds the parts from the shared deps; the engine and kube issues add theirs here. */
export type PartsFactory = (deps: Deps) => Promise<Part[]>;

/** What a shutdown is doing: the parts' final work, then waiting for their runs to end. */
export type ShutdownPhase = "final work" | "stopping parts";

/** The deadline's warning, after one line per part still unfinished (with its status). */
function logUnfinished(
  log: Logger,
  parts: Part[],
  phase: ShutdownPhase,
  names: string[],
  timeoutMs: number,
): void {
  for (const name of names) {
    let status: string | undefined;
    try {
      status = JSON.stringify(parts.find((p) => p.name === name)?.status?.());
    } catch (e) {
      status = `(status failed: ${e instanceof Error ? e.message : e})`;
    }
    log.warn("part unfinished at the shutdown deadline", { part: name, phase, status });
  }
  log.warn("shutdown deadline passed; exiting with work unfinished", {
    deadline: formatDuration(timeoutMs),
    phase,
    unfinished: names.join(","),
  });
}

/** The logger the config asks for; no time stamps under journald, which stamps lines itself. */
export function loggerFor(config: Config, env = Deno.env.toObject()): Logger {
  return createLogger({
    level: config.logLevel,
    format: config.logFormat,
    timestamps: !env.JOURNAL_STREAM,
  });
}

/**
 * Runs the daemon until SIGINT/SIGTERM; returns the exit code (0 on a clean stop).
 */
export async function runDaemon(
  config: Config,
  makeParts: PartsFactory,
  opts: { log?: Logger } = {},
): Promise<number> {
  const log = opts.log ?? loggerFor(config);
  const startedAt = new Date();
  const metrics = new Metrics();
  registerProcessMetrics(metrics, startedAt);
  trackTimers();
  const health = new Health();
  const system = createSystem(config.hostRoot);
  const deps: Deps = { config, log, metrics, health, system };

  const shutdown = onShutdownSignals(log);
  let parts: Part[];
  try {
    parts = await makeParts(deps);
  } catch (e) {
    log.error("cannot start", { error: e });
    shutdown.dispose();
    return 1;
  }
  const sizes = () => ({
    ...Object.assign({}, ...parts.map((p) => p.sizes?.() ?? {})),
    "metrics.series": metrics.series(),
  });
  registerRuntimeMetrics(metrics, sizes);
  // Parts run until after their final work: the shutdown signal first calls beforeStop (the
  // final pull needs the collectors alive), then stops the loops.
  const partsStop = new AbortController();
  // What a shutdown still waits for: /status shows it, the deadline's warning names it.
  const finalWork = new Unfinished();
  const running = new Unfinished();
  const stop: { state?: { since: string; deadlineAt: string; phase: ShutdownPhase } } = {};
  const waitingFor = () => stop.state?.phase === "final work" ? finalWork.names() : running.names();
  const app = createApp({
    health,
    metrics,
    status: () => ({
      version: VERSION,
      startedAt: startedAt.toISOString(),
      runtime: runtimeStats(),
      sizes: sizes(),
      ...Object.fromEntries(parts.filter((p) => p.status).map((p) => [p.name, p.status!()])),
      ...(stop.state ? { shutdown: { ...stop.state, waitingFor: waitingFor() } } : {}),
    }),
  });
  const serverStop = new AbortController();
  let server;
  try {
    server = serve(app, config.healthAddr, serverStop.signal);
  } catch (e) {
    log.error("cannot start", { error: e });
    shutdown.dispose();
    return 1;
  }
  log.info("started", { version: VERSION, health: `http://${server.address}`, pid: Deno.pid });

  const runs = parts.map((p) =>
    running.track(
      p.name,
      p.run(partsStop.signal).catch((e) => {
        if (!partsStop.signal.aborted) log.error("part failed", { part: p.name, error: e });
      }),
    )
  );
  await new Promise<void>((resolve) => {
    if (shutdown.signal.aborted) resolve();
    shutdown.signal.addEventListener("abort", () => resolve(), { once: true });
  });

  const deadline = AbortSignal.timeout(config.shutdownTimeout);
  const state = stop.state = {
    since: new Date().toISOString(),
    deadlineAt: new Date(Date.now() + config.shutdownTimeout).toISOString(),
    phase: "final work" as ShutdownPhase,
  };
  const finished = withDeadline(
    (async () => {
      await Promise.all(parts.map((p) =>
        p.beforeStop &&
        finalWork.track(p.name, p.beforeStop(deadline)).catch((e) => {
          log.error("final work failed", { part: p.name, error: e });
        })
      ));
      state.phase = "stopping parts";
      partsStop.abort();
      await Promise.all(runs);
    })(),
    config.shutdownTimeout,
  );
  const inTime = await finished;
  if (!inTime) logUnfinished(log, parts, state.phase, waitingFor(), config.shutdownTimeout);
  partsStop.abort();
  serverStop.abort();
  await withDeadline(server.finished, 1000);
  shutdown.dispose();
  log.info("stopped");
  return 0;
}
