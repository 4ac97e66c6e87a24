/**
 * The engine: the one owner of the targets on this node. It runs scans (on a timer and on
 * triggers, coalesced), probes only candidates it has not judged yet, starts one collector per
 * confirmed server, and offers the final pull that shutdown and pod deletion use.
 */

import type { CollectorStatus } from "../collect/collector_types.ts";
import type { Deps } from "../deps.ts";
import { finalPulls } from "./final_pull.ts";
import { Judge } from "./judge.ts";
import { registerEngineMetrics } from "./metrics.ts";
import { ScanPacer } from "./pacing.ts";
import type { CollectorHandle, Stages, StoreReport } from "./stages.ts";
import type { Logger } from "../log.ts";
import { sleep } from "../system.ts";
import type { Candidate, Identity, Target } from "../target.ts";
import { targetFields, targetLabel } from "../target.ts";

type LastScan = { at: string; ms: number; candidates: number; carried: number; crictlOk: boolean };

/** What /status shows of the engine. */
export interface EngineStatus {
  scans: number;
  lastScan: LastScan | null;
  targets: CollectorStatus[];
  judged: ReturnType<Judge["counts"]>;
}

interface Running {
  target: Target;
  collector: CollectorHandle;
  stop: AbortController;
  done: Promise<void>;
}

/** Without pod events, how often to look for new containers between scans. */
const CHANGE_CHECK_MS = 1_000;

/**
 * Finds coverage servers and keeps one collector running per server.
 *
 * @example const e = new Engine(deps, stages); await e.scanOnce(signal); e.status()
 */
export class Engine {
  #deps: Deps;
  #stages: Stages;
  #log: Logger;
  #running = new Map<string, Running>();
  #judge: Judge;
  #pacer = new ScanPacer();
  #wake: (() => void) | null = null;
  #pendingReasons: string[] = [];
  #scans = 0;
  #lastScan: LastScan | null = null;
  #collectorsSignal: AbortSignal | null = null;
  #scanInFlight: Promise<unknown> = Promise.resolve();
  /** A scan asked for that has not begun yet (later askers join it). */
  #queuedScan: { start: boolean; scan: Promise<Target[]> } | null = null;

  constructor(deps: Deps, stages: Stages) {
    this.#deps = deps;
    this.#stages = stages;
    this.#log = deps.log.with({ part: "engine" });
    this.#judge = new Judge(deps, stages, this.#log);
    deps.health.set("scan", { ready: false, reason: "no complete scan yet" });
    registerEngineMetrics(deps.metrics, this.#running);
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
      const carried = this.#lastScan?.carried ?? 0;
      await this.#idle(this.#pacer.nextDelay(this.#deps.config.scanInterval, carried), signal);
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
    // scans at once would probe the same new server twice). A scan asked for while another is
    // already waiting its turn joins that one: it has not begun, so it sees all that the new
    // caller wants seen (a burst of deletions of unknown pods costs one more scan, not one each).
    const start = opts.start ?? false;
    const queued = this.#queuedScan;
    if (queued && queued.start === start) return queued.scan;
    const next: Promise<Target[]> = this.#scanInFlight.catch(() => {}).then(() => {
      if (this.#queuedScan?.scan === next) this.#queuedScan = null;
      return this.#scan(signal, opts);
    });
    this.#queuedScan = { start, scan: next };
    this.#scanInFlight = next;
    return next;
  }

  async #scan(
    signal: AbortSignal,
    { start = false, reason = "once" }: { start?: boolean; reason?: string },
  ): Promise<Target[]> {
    const began = performance.now();
    this.#judge.beginScan();
    const view = await this.#stages.scan(signal);
    this.#pacer.note(view, this.#scans === 0, this.#deps.system.monotonic());
    const found: Target[] = [];
    const { carried } = await this.#judge.judgeAll(view.candidates, signal, (t) => {
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
      carried,
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
      carried,
      targets: this.#running.size,
    });
    return found;
  }

  /** Pulls and stores every server of a pod once more, now (pod being deleted). */
  async finalPull(podUid: string, reason: string, signal?: AbortSignal): Promise<StoreReport[]> {
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
    return await finalPulls(mine, reason, this.#log, signal);
  }

  /** Pulls every live server once more (shutdown). */
  finalPullAll(reason: string, signal?: AbortSignal): Promise<StoreReport[]> {
    return finalPulls([...this.#running.values()], reason, this.#log, signal);
  }

  /** Creates collectors for targets without starting their loops (the `once` command). */
  collectorFor(target: Target): CollectorHandle {
    return this.#stages.collector(target);
  }

  /** Candidates the last scan's probe budget left for the next (see Judge.judgeAll). */
  carriedInLastScan(): number {
    return this.#lastScan?.carried ?? 0;
  }

  /** Coverage servers the last scan refused to file under their apparent owner. */
  refusedInLastScan(): { candidate: Candidate; identity: Identity }[] {
    return this.#judge.refusedInLastScan();
  }

  /** Entries of the engine's long-lived maps and its stages' (flat under churn). */
  sizes(): Record<string, number> {
    return {
      "engine.running": this.#running.size,
      ...this.#judge.sizes(),
      ...this.#pacer.sizes(),
      "engine.pendingReasons": this.#pendingReasons.length,
      ...this.#stages.sizes?.(),
    };
  }

  /** What /status shows. */
  status(): EngineStatus {
    return {
      scans: this.#scans,
      lastScan: this.#lastScan,
      targets: [...this.#running.values()].map((r) => r.collector.status()),
      judged: this.#judge.counts(),
    };
  }

  #start(target: Target): void {
    if (this.#running.has(target.key)) return;
    const stop = new AbortController();
    const parent = this.#collectorsSignal;
    const signal = parent ? AbortSignal.any([parent, stop.signal]) : stop.signal;
    const collector = this.#stages.collector(target);
    const ended = this.#judge.onCollectorEnd(target.key);
    const done = collector.run(signal).then(
      (end) => {
        this.#log.info("collector ended", { ...targetFields(target), reason: end });
        if (end !== "stopped") this.triggerScan(`collector ${end}`);
      },
      (e) => this.#log.error("collector failed", { ...targetFields(target), error: e }),
    ).finally(() => {
      this.#running.delete(target.key);
      ended();
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
    this.#judge.startFailed(target.key);
    this.#log.error("collector could not start; judged again later", {
      ...targetFields(target),
      binary: target.identity.binary,
      error: e,
    });
  }

  async #idle(ms: number, signal: AbortSignal): Promise<void> {
    const wake = new AbortController();
    this.#wake = () => wake.abort();
    const both = AbortSignal.any([signal, wake.signal]);
    const until = performance.now() + ms;
    const { changed, watchingPods } = this.#stages;
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
