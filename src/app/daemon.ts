/** The composition root of the daemon: builds the parts, serves health, owns the lifecycle. */

import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { type Deps, loggerFor, type Part } from "../deps.ts";
import { makeDeps } from "./wiring.ts";
import { registerProcessMetrics } from "./process_metrics.ts";
import { createApp, serve } from "./health_server.ts";
import { onShutdownSignals, Unfinished, withDeadline } from "./shutdown.ts";
import { formatDuration } from "../units.ts";
import { VERSION } from "../version.ts";
import { registerRuntimeMetrics, runtimeStats, trackTimers } from "./runtime_stats.ts";

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

/**
 * Runs the daemon until SIGINT/SIGTERM; returns the exit code (0 on a clean stop).
 */
export async function runDaemon(
  config: Config,
  makeParts: PartsFactory,
  opts: { log?: Logger } = {},
): Promise<number> {
  const deps = makeDeps(config, opts.log ?? loggerFor(config));
  const { log, metrics, health } = deps;
  const startedAt = new Date();
  registerProcessMetrics(metrics, startedAt);
  trackTimers();

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
