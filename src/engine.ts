/**
 * The engine: the one owner of the targets on this node. It runs scans (on a timer and on
 * triggers, coalesced), probes only candidates it has not judged yet, starts one collector per
 * confirmed server, and offers the final pull that shutdown and pod deletion use.
 */

import { errorText } from "./errors.ts";
import type { LiveCoverage } from "./coverage/live.ts";
import type { Deps } from "./agent.ts";
import type { Logger } from "./log.ts";
import type { ProbeResult } from "./probe.ts";
import { readStartTime } from "./procfs/stat.ts";
import { sleep } from "./system.ts";
import type { Candidate, Identity, Owner, Target } from "./target.ts";
import { targetFields, targetLabel } from "./target.ts";

/** What one scan of the node found (see src/discover). */
export interface ScanView {
  candidates: Candidate[];
  containers: { id: string; podUid: string }[];
  crictlOk: boolean;
  crictlError?: string;
}

/** The outcome of one pull-and-store, as the engine reports it. */
export interface PullReport {
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
  pullNow(reason: string, signal: AbortSignal): Promise<PullReport>;
  status(): Record<string, unknown>;
}

/** The engine's seams: discovery, probe, attribution and collectors are passed in. */
export interface EngineParts {
  scan(signal: AbortSignal): Promise<ScanView>;
  probe(candidate: Candidate, signal: AbortSignal): Promise<ProbeResult>;
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
  /** Entries of the parts' own long-lived maps (discovery's), for `sizes`. */
  sizes?(): Record<string, number>;
}

interface Running {
  target: Target;
  collector: CollectorHandle;
  stop: AbortController;
  done: Promise<void>;
}

/** Judged candidates are not probed again while their socket lives. */
type Verdict = "collecting" | "not-coverage" | "refused";

/** How soon to scan again while a new container has not opened its coverage port yet. */
const YOUNG_CONTAINER_MS = 30_000;
const FAST_RESCAN_MS = 1_000;
const PROBE_CONCURRENCY = 16;
const CHANGE_CHECK_MS = 1_000;
const PROBE_RETRY_MS = 5_000;
const PROBE_RETRY_MAX_MS = 5 * 60_000;

const ownerKey = (o: Owner) => o.kind === "host" ? "_host_" : o.container.id;
const candidateKey = (c: Candidate) => `${ownerKey(c.owner)}|${c.host}|${c.port}|${c.inode}`;

/**
 * Finds coverage servers and keeps one collector running per server.
 *
 * @example const e = new Engine(deps, parts); await e.scanOnce(signal); e.status()
 */
export class Engine {
  #deps: Deps;
  #parts: EngineParts;
  #log: Logger;
  #running = new Map<string, Running>();
  #verdicts = new Map<string, Verdict>();
  /** Target key → the candidate key it was judged under. */
  #candidateOf = new Map<string, string>();
  #containerFirstSeen = new Map<string, number>();
  #wake: (() => void) | null = null;
  #pendingReasons: string[] = [];
  #scans = 0;
  #lastScan: { at: string; ms: number; candidates: number; crictlOk: boolean } | null = null;
  #collectorsSignal: AbortSignal | null = null;
  #refusedInScan: { candidate: Candidate; identity: Identity }[] = [];
  #scanInFlight: Promise<unknown> = Promise.resolve();
  /** Candidates whose probe failed (no HTTP answer): when to try again. */
  #probeErrors = new Map<string, { failures: number; retryAt: number }>();

  constructor(deps: Deps, parts: EngineParts) {
    this.#deps = deps;
    this.#parts = parts;
    this.#log = deps.log.with({ part: "engine" });
    deps.health.set("scan", { ready: false, reason: "no complete scan yet" });
    const m = deps.metrics;
    m.counter("coverage_collector_scans_total", "Discovery scans by result");
    m.counter("coverage_collector_probes_total", "Identity probes by result");
    m.counter("coverage_collector_attribution_refused_total", "Servers refused: PID not owner's");
    m.computed("coverage_collector_targets", "gauge", "Coverage servers being collected", () => [
      { labels: {}, value: this.#running.size },
    ]);
    const live = (pick: (c: LiveCoverage) => number) => () =>
      liveSamples(this.#running.values(), pick);
    m.computed(
      "coverage_collector_server_coverage_ratio",
      "gauge",
      "Statements covered / total of each collected server",
      live((c) => c.total === 0 ? 0 : c.covered / c.total),
    );
    m.computed(
      "coverage_collector_server_covered_statements",
      "gauge",
      "Statements covered of each collected server",
      live((c) => c.covered),
    );
    m.computed(
      "coverage_collector_server_statements",
      "gauge",
      "Statements of each collected server's binary",
      live((c) => c.total),
    );
  }

  /** Asks for a scan soon; a burst of triggers costs one scan. */
  triggerScan(reason: string): void {
    this.#pendingReasons.push(reason);
    this.#wake?.();
  }

  /** Scans until `signal` aborts: every scan interval, on triggers, and sooner for new pods. */
  async run(signal: AbortSignal): Promise<void> {
    this.#collectorsSignal = signal;
    while (!signal.aborted) {
      const reasons = this.#pendingReasons.splice(0);
      try {
        await this.scanOnce(signal, { start: true, reason: reasons.join(",") || "interval" });
      } catch (e) {
        if (signal.aborted) break;
        this.#log.error("scan failed", { error: e });
      }
      if (this.#pendingReasons.length > 0) continue;
      await this.#idle(this.#nextScanDelay(), signal);
    }
    await Promise.all([...this.#running.values()].map((r) => r.done));
  }

  /**
   * One scan: discover, probe what is new, start collectors (when `start`), forget what is gone.
   * Returns the targets confirmed in this scan that were not known before.
   */
  scanOnce(
    signal: AbortSignal,
    opts: { start?: boolean; reason?: string } = {},
  ): Promise<Target[]> {
    // One scan at a time: a trigger during a scan waits for it rather than racing it (two
    // scans at once would probe the same new server twice).
    const next = this.#scanInFlight.catch(() => {}).then(() => this.#scan(signal, opts));
    this.#scanInFlight = next;
    return next;
  }

  async #scan(
    signal: AbortSignal,
    { start = false, reason = "once" }: { start?: boolean; reason?: string },
  ): Promise<Target[]> {
    const began = performance.now();
    this.#refusedInScan = [];
    const view = await this.#parts.scan(signal);
    this.#noteContainers(view);
    // Forget judgements of sockets that are gone. A running collector whose socket vanished from
    // one scan is not disturbed: if the socket comes back, its target key is already running.
    const live = new Set(view.candidates.map(candidateKey));
    for (const key of [...this.#verdicts.keys()]) if (!live.has(key)) this.#verdicts.delete(key);
    for (const key of [...this.#probeErrors.keys()]) {
      if (!live.has(key)) this.#probeErrors.delete(key);
    }
    const now = this.#deps.system.now();
    const fresh = view.candidates.filter((c) => {
      const key = candidateKey(c);
      return !this.#verdicts.has(key) && (this.#probeErrors.get(key)?.retryAt ?? 0) <= now;
    });
    const found: Target[] = [];
    await forEachLimited(fresh, PROBE_CONCURRENCY, async (c) => {
      let t: Target | null;
      try {
        t = await this.#judge(c, signal);
      } catch (e) {
        if (signal.aborted) return;
        this.#log.warn("candidate not judged", { ...targetFields(c), host: c.host, error: e });
        return;
      }
      if (!t) return;
      found.push(t);
      if (!start) return;
      // At once, not after the scan's slowest probe (a server that answers slowly or not at all
      // never delays the others); and one server's failure to start (whatever it reported)
      // never keeps the others from theirs.
      try {
        this.#start(t);
      } catch (e) {
        this.#startFailed(t, e);
      }
    });
    const ms = Math.round(performance.now() - began);
    this.#scans++;
    this.#lastScan = {
      at: new Date(this.#deps.system.now()).toISOString(),
      ms,
      candidates: view.candidates.length,
      crictlOk: view.crictlOk,
    };
    this.#deps.metrics.inc("coverage_collector_scans_total", "Discovery scans by result", {
      result: view.crictlOk ? "ok" : "crictl-failed",
    });
    this.#deps.health.set("scan", { ready: true });
    this.#log.debug("scan done", {
      reason,
      ms,
      candidates: view.candidates.length,
      new: found.length,
      targets: this.#running.size,
    });
    return found;
  }

  /** Pulls and stores every server of a pod once more, now (pod being deleted). */
  async finalPull(podUid: string, reason: string, signal?: AbortSignal): Promise<PullReport[]> {
    const ofPod = () =>
      [...this.#running.values()].filter((r) =>
        r.target.owner.kind === "container" && r.target.owner.container.podUid === podUid
      );
    if (ofPod().length === 0) {
      // Not known yet (a pod deleted right after it started): a scan under way may be finding
      // it now; if not, scan once more.
      await this.#scanInFlight.catch(() => {});
      if (ofPod().length === 0) {
        await this.scanOnce(signal ?? new AbortController().signal, { start: true, reason });
      }
    }
    const mine = ofPod();
    if (mine.length === 0) {
      this.#log.info("final pull: no coverage server of the pod", { podUid, reason });
    }
    return await this.#pullAll(mine, reason, signal);
  }

  /** Pulls every live server once more (shutdown). */
  finalPullAll(reason: string, signal?: AbortSignal): Promise<PullReport[]> {
    return this.#pullAll([...this.#running.values()], reason, signal);
  }

  /** Creates collectors for targets without starting their loops (the `once` command). */
  collectorFor(target: Target): CollectorHandle {
    return this.#parts.collector(target);
  }

  /** Coverage servers the last scan refused to file under their apparent owner. */
  refusedInLastScan(): { candidate: Candidate; identity: Identity }[] {
    return [...this.#refusedInScan];
  }

  /** Entries of the engine's long-lived maps and its parts' (flat under churn). */
  sizes(): Record<string, number> {
    return {
      "engine.running": this.#running.size,
      "engine.verdicts": this.#verdicts.size,
      "engine.candidateOf": this.#candidateOf.size,
      "engine.containerFirstSeen": this.#containerFirstSeen.size,
      "engine.probeErrors": this.#probeErrors.size,
      "engine.pendingReasons": this.#pendingReasons.length,
      ...this.#parts.sizes?.(),
    };
  }

  /** What /status shows. */
  status(): Record<string, unknown> {
    return {
      scans: this.#scans,
      lastScan: this.#lastScan,
      targets: [...this.#running.values()].map((r) => r.collector.status()),
      judged: [...this.#verdicts.values()].reduce<Record<string, number>>((acc, v) => {
        acc[v] = (acc[v] ?? 0) + 1;
        return acc;
      }, {}),
    };
  }

  async #pullAll(list: Running[], reason: string, signal?: AbortSignal): Promise<PullReport[]> {
    const s = signal ?? new AbortController().signal;
    return await Promise.all(list.map(async (r) => {
      try {
        const rep = await r.collector.pullNow(reason, s);
        const st = r.collector.status();
        this.#log.info("final pull", {
          ...targetFields(r.target),
          reason,
          stored: rep.stored,
          result: rep.result,
          // When the process is already gone, the pull before this one holds its last data.
          lastStore: rep.stored ? undefined : st.lastStore,
        });
        return rep;
      } catch (e) {
        this.#log.warn("final pull failed", { ...targetFields(r.target), reason, error: e });
        return { stored: false, error: errorText(e) };
      }
    }));
  }

  async #judge(c: Candidate, signal: AbortSignal): Promise<Target | null> {
    const key = candidateKey(c);
    const fields = targetFields(c);
    const verdict = await this.#parts.probe(c, signal);
    const m = this.#deps.metrics;
    m.inc("coverage_collector_probes_total", "Identity probes by result", { result: verdict.kind });
    if (verdict.kind === "error") {
      // A listener that does not answer HTTP is tried again later, less and less often.
      const failures = (this.#probeErrors.get(key)?.failures ?? 0) + 1;
      const wait = Math.min(PROBE_RETRY_MAX_MS, PROBE_RETRY_MS * 2 ** (failures - 1));
      this.#probeErrors.set(key, { failures, retryAt: this.#deps.system.now() + wait });
      this.#log.debug("probe failed", { ...fields, host: c.host, error: verdict.error, failures });
      return null;
    }
    this.#probeErrors.delete(key);
    if (verdict.kind === "not-coverage") {
      this.#verdicts.set(key, "not-coverage");
      this.#log.info("not a coverage server", { ...fields, host: c.host, status: verdict.status });
      return null;
    }
    const hostPid = await this.#parts.attribute(c, verdict.identity);
    if (hostPid === null) {
      this.#verdicts.set(key, "refused");
      this.#refusedInScan.push({ candidate: c, identity: verdict.identity });
      m.inc("coverage_collector_attribution_refused_total", "Servers refused: PID not owner's");
      this.#log.warn("server refused: its PID is not a process of the owner", {
        ...fields,
        host: c.host,
        binary: verdict.identity.binary,
        reportedPid: verdict.identity.pid,
      });
      return null;
    }
    this.#verdicts.set(key, "collecting");
    const target: Target = {
      key: `${ownerKey(c.owner)}:${c.port}:${hostPid}`,
      owner: c.owner,
      host: c.host,
      port: c.port,
      identity: verdict.identity,
      hostPid,
      hostStartTime: await readStartTime(this.#deps.system, hostPid) ?? undefined,
      discoveredAt: new Date(this.#deps.system.now()),
    };
    this.#candidateOf.set(target.key, key);
    this.#log.info("coverage server found", {
      ...fields,
      host: c.host,
      binary: verdict.identity.binary,
      pid: hostPid,
    });
    return target;
  }

  #start(target: Target): void {
    if (this.#running.has(target.key)) return;
    const stop = new AbortController();
    const parent = this.#collectorsSignal;
    const signal = parent ? AbortSignal.any([parent, stop.signal]) : stop.signal;
    const collector = this.#parts.collector(target);
    const key = this.#candidateOf.get(target.key);
    const done = collector.run(signal).then(
      (end) => {
        this.#log.info("collector ended", { ...targetFields(target), reason: end });
        if (end !== "stopped") this.triggerScan(`collector ${end}`);
      },
      (e) => this.#log.error("collector failed", { ...targetFields(target), error: e }),
    ).finally(() => {
      this.#running.delete(target.key);
      this.#candidateOf.delete(target.key);
      if (key) this.#verdicts.delete(key);
    });
    this.#running.set(target.key, { target, collector, stop, done });
    this.#log.debug("collector started", { target: targetLabel(target) });
  }

  /**
   * A confirmed server whose collector could not be made: forget its verdict, so it is judged
   * again, and wait before that like after a failed probe (no spinning on a server that always
   * fails the same way).
   */
  #startFailed(target: Target, e: unknown): void {
    const key = this.#candidateOf.get(target.key);
    this.#candidateOf.delete(target.key);
    if (key) {
      this.#verdicts.delete(key);
      const failures = (this.#probeErrors.get(key)?.failures ?? 0) + 1;
      const wait = Math.min(PROBE_RETRY_MAX_MS, PROBE_RETRY_MS * 2 ** (failures - 1));
      this.#probeErrors.set(key, { failures, retryAt: this.#deps.system.now() + wait });
    }
    this.#log.error("collector could not start; judged again later", {
      ...targetFields(target),
      binary: target.identity.binary.slice(0, 200),
      error: e,
    });
  }

  #noteContainers(view: ScanView): void {
    const now = this.#deps.system.now();
    const ids = new Set(view.containers.map((c) => c.id));
    // Containers already running at the first scan are not new: no fast rescans at start-up.
    const firstSeen = this.#scans === 0 ? now - YOUNG_CONTAINER_MS : now;
    for (const id of ids) {
      if (!this.#containerFirstSeen.has(id)) this.#containerFirstSeen.set(id, firstSeen);
    }
    for (const id of [...this.#containerFirstSeen.keys()]) {
      if (!ids.has(id)) this.#containerFirstSeen.delete(id);
    }
    this.#youngWithoutServer = view.containers.some((c) =>
      now - (this.#containerFirstSeen.get(c.id) ?? now) < YOUNG_CONTAINER_MS &&
      !view.candidates.some((k) => k.owner.kind === "container" && k.owner.container.id === c.id)
    );
  }

  #youngWithoutServer = false;

  /** Scan again soon while a new container has not shown a server yet; else the interval. */
  #nextScanDelay(): number {
    return this.#youngWithoutServer
      ? Math.min(FAST_RESCAN_MS, this.#deps.config.scanInterval)
      : this.#deps.config.scanInterval;
  }

  async #idle(ms: number, signal: AbortSignal): Promise<void> {
    const wake = new AbortController();
    this.#wake = () => wake.abort();
    const both = AbortSignal.any([signal, wake.signal]);
    const until = performance.now() + ms;
    const { changed, watchingPods } = this.#parts;
    // Without pod events, look for new containers every second (one `crictl ps`), so a new
    // server is found in about a second rather than a scan interval.
    while (!both.aborted && performance.now() < until) {
      const lookEvery = changed && !(watchingPods?.() ?? false) ? CHANGE_CHECK_MS : Infinity;
      if (!await sleep(Math.min(lookEvery, until - performance.now()), both)) break;
      if (performance.now() >= until || lookEvery === Infinity) break;
      if (await changed!(both).catch(() => false)) {
        this.#pendingReasons.push("new containers");
        break;
      }
    }
    this.#wake = null;
  }
}

/** Runs `fn` over `items`, at most `limit` at a time. */
async function forEachLimited<T>(
  items: T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * One sample per server with live coverage, labelled by namespace, pod, container and binary
 * (two servers with the same labels: the better covered one).
 *
 * @example liveSamples(running, (c) => c.covered) // [{ labels: { namespace: "ns", ... }, value: 12 }]
 */
export function liveSamples(
  running: Iterable<{ collector: { status(): Record<string, unknown> } }>,
  pick: (c: LiveCoverage) => number,
): { labels: Record<string, string>; value: number }[] {
  const best = new Map<string, { labels: Record<string, string>; c: LiveCoverage }>();
  for (const r of running) {
    const st = r.collector.status();
    const c = st.coverage as LiveCoverage | null | undefined;
    if (!c || typeof c.covered !== "number") continue;
    const labels = {
      namespace: String(st.namespace ?? ""),
      pod: String(st.pod ?? ""),
      container: String(st.container ?? ""),
      binary: String(st.binary ?? ""),
    };
    const key = JSON.stringify(labels);
    const have = best.get(key);
    if (!have || have.c.covered < c.covered) best.set(key, { labels, c });
  }
  return [...best.values()].map(({ labels, c }) => ({ labels, value: pick(c) }));
}
