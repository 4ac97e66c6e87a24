/** `once`: one scan, one full pull of every server, store, a summary table, an exit code. */

import { errorText } from "./errors.ts";
import { type Deps, loggerFor } from "./agent.ts";
import type { Config } from "./config.ts";
import type { PullReport } from "./engine.ts";
import { Health } from "./health.ts";
import { Metrics } from "./metrics.ts";
import { nodeHostname } from "./hostname.ts";
import { buildEngine, openPrefixMemory, openTimelineCopies } from "./parts.ts";
import { onShutdownSignals } from "./shutdown.ts";
import { createSink } from "./sink/select.ts";
import type { Sink } from "./sink/sink.ts";
import { createSystem, sleep } from "./system.ts";
import { safeText } from "./terminal_text.ts";
import { hostPort, type Target } from "./target.ts";

/** One row of the summary. */
export interface OnceRow {
  namespace: string;
  pod: string;
  container: string;
  binary: string;
  address: string;
  result: string;
  detail: string;
}

/** Renders rows as an aligned text table. @example renderTable([]) // "no coverage servers found" */
export function renderTable(found: OnceRow[]): string {
  if (found.length === 0) return "no coverage servers found";
  // Cells are what pods call themselves (a header byte 0x9b arrives as C1 CSI): escape them.
  const rows = found.map((r): OnceRow => ({
    namespace: safeText(r.namespace),
    pod: safeText(r.pod),
    container: safeText(r.container),
    binary: safeText(r.binary),
    address: safeText(r.address),
    result: safeText(r.result),
    detail: safeText(r.detail),
  }));
  const head: OnceRow = {
    namespace: "NAMESPACE",
    pod: "POD",
    container: "CONTAINER",
    binary: "BINARY",
    address: "ADDRESS",
    result: "RESULT",
    detail: "PREFIX / ERROR",
  };
  const cols = Object.keys(head) as (keyof OnceRow)[];
  const width = Object.fromEntries(
    cols.map((c) => [c, Math.max(...[head, ...rows].map((r) => r[c].length))]),
  );
  return [head, ...rows].map((r) =>
    cols.map((c, i) => i === cols.length - 1 ? r[c] : r[c].padEnd(width[c])).join("  ")
  ).join("\n");
}

function rowOf(t: Pick<Target, "owner" | "host" | "port" | "identity">, rep: PullReport): OnceRow {
  const c = t.owner.kind === "container" ? t.owner.container : null;
  return {
    namespace: c?.namespace ?? "_host_",
    pod: c?.podName ?? "-",
    container: c?.name ?? "-",
    binary: t.identity.binary,
    address: hostPort(t.host, t.port),
    result: rep.stored ? "stored" : (rep.result ?? "failed"),
    detail: rep.stored ? (rep.prefix ?? "") : (rep.error ?? ""),
  };
}

/** Gives a spooling sink up to `ms` to send what it holds; returns how many objects are left. */
async function drainSpool(sink: Sink, ms: number, signal: AbortSignal): Promise<number> {
  let left = sink.pending?.() ?? 0;
  if (!sink.flush || left === 0) return 0;
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(ms)]);
  while (left > 0 && !deadline.aborted) {
    left = await sink.flush(deadline);
    if (left > 0) await sleep(500, deadline);
  }
  return left;
}

/** Runs `once`; returns 0 when every confirmed server was stored, else 1. */
export async function runOnce(config: Config, stdout: (s: string) => void): Promise<number> {
  const log = loggerFor(config);
  const system = createSystem(config.hostRoot);
  const deps: Deps = { config, log, metrics: new Metrics(), health: new Health(), system };
  const shutdown = onShutdownSignals(log);
  try {
    const sink = await createSink(deps);
    const hostname = await nodeHostname(system, config.hostname);
    const memory = await openPrefixMemory(deps, hostname);
    const timelines = memory && await openTimelineCopies(deps, hostname, memory);
    const nodeName = () => config.nodeName || undefined;
    const engine = buildEngine(deps, sink, hostname, nodeName, undefined, memory, timelines);
    const signal = shutdown.signal;
    const targets = await engine.scanOnce(signal);
    const refused = engine.refusedInLastScan();
    // A scan's probe budget may leave candidates for the next (silent sockets): once wants all.
    // Each is probed in full once at most, then backed off, so this ends.
    while (!signal.aborted && engine.carriedInLastScan() > 0) {
      targets.push(...await engine.scanOnce(signal));
      refused.push(...engine.refusedInLastScan());
    }
    const rows = await Promise.all(targets.map(async (t) => {
      try {
        return rowOf(t, await engine.collectorFor(t).pullNow("once", signal));
      } catch (e) {
        return rowOf(t, { stored: false, error: errorText(e) });
      }
    }));
    for (const { candidate, identity } of refused) {
      rows.push(rowOf({ ...candidate, identity }, {
        stored: false,
        result: "refused",
        error: `reported PID ${identity.pid} is not a process of this owner: not stored`,
      }));
    }
    rows.sort((a, b) =>
      `${a.namespace}/${a.pod}/${a.container}/${a.address}`.localeCompare(
        `${b.namespace}/${b.pod}/${b.container}/${b.address}`,
      )
    );
    stdout(renderTable(rows));
    const stored = rows.filter((r) => r.result === "stored").length;
    // A refused server counts as not stored: something on the node answers as a coverage server
    // under an owner it does not belong to, and the operator should look.
    stdout(`${stored} of ${rows.length} coverage servers stored into ${sink.description}`);
    const left = await drainSpool(sink, config.shutdownTimeout, signal);
    if (left > 0) {
      stdout(
        `${left} objects could not reach S3 and wait in the spool under ${config.stateDir}; ` +
          "the next run of the collector sends them",
      );
    }
    return stored === rows.length && left === 0 ? 0 : 1;
  } catch (e) {
    log.error("once failed", { error: e });
    return 1;
  } finally {
    shutdown.dispose();
  }
}
