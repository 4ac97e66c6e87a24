/** One collector per coverage server: pull on a schedule, check, name, store what changed. */

import { errorText } from "../errors.ts";
import { sameIdentity } from "../probe/server_identity.ts";
import { type Logger, OnceLog } from "../log.ts";
import { sleep } from "../system.ts";
import { type Identity, type Target, targetFields } from "../target.ts";
import { type LiveCoverage, sharedTables, type StatementTable } from "../coverage/live.ts";
import {
  countersBytesBound,
  type CoveredUnits,
  statementsCovered,
} from "../coverage/covered_units.ts";
import {
  checkCoverage,
  CoverageError,
  type DecodedCoverage,
  type MetaFile,
  verifyMeta,
} from "./coverage.ts";
import type { PullSlot } from "./gate.ts";
import { pullCoverage, PullError, type PullFloor } from "./pull.ts";
import { nextDelay, serverAge, withIdle } from "./schedule.ts";
import * as rule from "./store_rule.ts";
import { PrefixWriter } from "./prefix_writer.ts";
import { TimelineKeeper } from "./timeline_keeper.ts";
import { serverAlive } from "./alive.ts";
import type {
  CollectorDeps,
  CollectorOptions,
  CollectorStatus,
  EndReason,
  PullOutcome,
} from "./collector_types.ts";

const PULLS = "coverage_collector_pulls_total";
const PULLS_HELP = "Coverage pulls by result";
const SKIPPED = "coverage_collector_skipped_unchanged_total";
const SKIPPED_HELP =
  "Pulls not stored: counters identical to the last stored, or no block covered that it lacked";
const REFUSED = "coverage_collector_counters_refused_total";
const REFUSED_HELP = "Counters not stored: they do not fit the server's meta-data, by kind";
const META_MISMATCH = "coverage_collector_meta_hash_mismatch_total";
const META_MISMATCH_HELP =
  "Pulls refused because a meta hash a server sent is not the one its meta-data contents give " +
  "(file: meta, the meta-data's own claim; counters, what the counters name)";

/**
 * Collects one coverage server until it goes away, changes identity, or the signal aborts.
 *
 * @example const end = await new Collector(target, deps).run(signal) // "pid-gone"
 */
export class Collector {
  /** Where this server's files go, and what was written there. */
  readonly #writer: PrefixWriter;
  /** When each unit was first seen covered, stored beside the counters. */
  readonly #timeline: TimelineKeeper;
  readonly #target: Target;
  readonly #deps: CollectorDeps;
  readonly #log: Logger;
  readonly #once = new OnceLog();
  #metaHash: string | undefined;
  /** The names a server may give the build's counters (MetaFile.names). */
  #metaNames: readonly string[] | undefined;
  readonly #refreshMs: number;
  #ended: EndReason | undefined;
  readonly #endNow = new AbortController();
  /** Pulls one after another, and stores one after another, but a pull need not wait for the
   * store before it: a final pull reaches a server about to exit while S3 is still slow. */
  #pulling: Promise<unknown> = Promise.resolve();
  #storing: Promise<unknown> = Promise.resolve();
  #lastPull: number | null = null;
  #lastError: string | null = null;
  #pulls = 0;
  /** Body size of the last full and nometa pull: what to reserve for the next. */
  #lastBody = { full: undefined as number | undefined, nometa: undefined as number | undefined };
  #table: StatementTable | undefined;
  #coverage: CollectorStatus["coverage"] = null;
  #measuredKeys = -1;
  /** Final pulls asked for and not yet done: a pull of this server waiting for a slot is final. */
  #finalAsked = 0;
  /** The last pull was cut for slowness or timed out: the next waits in the suspect class. */
  #suspect = false;
  readonly #floor: PullFloor | null | undefined;
  /** When a pull last covered something new (or the collector started), on the monotonic clock. */
  #activeAt: number;

  constructor(target: Target, deps: CollectorDeps, options: CollectorOptions = {}) {
    this.#target = target;
    this.#deps = deps;
    this.#refreshMs = options.refreshMs ?? rule.DEFAULT_REFRESH_MS;
    this.#floor = options.floor;
    this.#activeAt = deps.system.monotonic();
    this.#log = deps.log.with({ ...targetFields(target), binary: target.identity.binary });
    this.#writer = new PrefixWriter(target, deps, this.#log, this.#once);
    this.#timeline = new TimelineKeeper(target, this.#writer, deps, this.#log, this.#once);
    deps.metrics.counter(PULLS, PULLS_HELP);
    deps.metrics.counter(SKIPPED, SKIPPED_HELP);
    deps.metrics.counter(REFUSED, REFUSED_HELP);
    deps.metrics.counter(META_MISMATCH, META_MISMATCH_HELP);
  }

  /** The key prefix of this server's files (safe, bounded segments: see prefixFor). */
  get prefix(): string {
    return this.#writer.prefix;
  }

  /** The reason the collector ended, if it has. */
  get ended(): EndReason | undefined {
    return this.#ended;
  }

  /** Pulls on the schedule (by time since discovery) until the server is gone or `signal` aborts. */
  async run(signal: AbortSignal): Promise<EndReason> {
    const stop = AbortSignal.any([signal, this.#endNow.signal]);
    const age = serverAge(this.#deps.system, this.#target.discoveredAt);
    while (!stop.aborted) {
      await this.pullNow(rule.SCHEDULE_REASON, signal);
      if (this.#ended) return this.#ended;
      const { pullSchedule, pullIdle } = this.#deps.config;
      const quiet = this.#deps.system.monotonic() - this.#activeAt;
      if (!await sleep(withIdle(nextDelay(pullSchedule, age()), pullIdle, quiet), stop)) break;
    }
    return this.#ended ?? "stopped";
  }

  /**
   * One pull now (final pull, `once`); waits for a pull under way (never two at a time), not for
   * the store of the one before. Resolves once this pull is stored (or not).
   */
  pullNow(reason: string, signal: AbortSignal): Promise<PullOutcome> {
    const final = reason !== rule.SCHEDULE_REASON;
    if (final) {
      // A scheduled pull of this server still waiting for a slot now waits as final too: the
      // final pull comes right after it and must not wait behind other servers' periodic pulls.
      this.#finalAsked++;
      this.#deps.gate?.poke();
    }
    const pulled = this.#pulling.then(() => this.#pullOnce(reason, signal)).finally(() => {
      if (final) this.#finalAsked--;
    });
    this.#pulling = pulled.catch(() => {});
    const stored = Promise.all([pulled, this.#storing]).then(async ([p]) => {
      if (!("decoded" in p)) return p;
      try {
        return await this.#store(p.decoded, p.at, reason, signal);
      } finally {
        p.slot?.release(); // the decoded body is stored (or dropped): its bytes leave the budget
      }
    });
    this.#storing = stored.catch(() => {});
    return stored;
  }

  /** Facts for /status. */
  status(): CollectorStatus {
    const c = this.#target.owner.kind === "container" ? this.#target.owner.container : undefined;
    const iso = (t: number | null) => t === null ? null : new Date(t).toISOString();
    return {
      namespace: c?.namespace ?? "_host_",
      pod: c?.podName ?? "",
      container: c?.name ?? "",
      binary: this.#target.identity.binary,
      address: this.#target.host,
      port: this.#target.port,
      prefix: this.prefix,
      lastPull: iso(this.#lastPull),
      lastStore: iso(this.#writer.lastStore),
      lastError: this.#lastError,
      pulls: this.#pulls,
      stores: this.#writer.stores,
      ended: this.#ended ?? null,
      coverage: this.#coverage,
      lastNewCoverage: iso(this.#timeline.lastNew),
    };
  }

  #end(reason: EndReason, detail: string): PullOutcome {
    if (!this.#ended) {
      this.#ended = reason;
      this.#log.info("collector ended", { reason, detail, pulls: this.#pulls });
      this.#endNow.abort();
    }
    return { result: "ended", end: this.#ended, error: detail };
  }

  #problem(kind: string, e: unknown): string {
    const text = errorText(e);
    this.#lastError = text;
    if (this.#once.changed(kind, text)) this.#log.warn(`${kind} failed`, { error: text });
    return text;
  }

  #same(identity: Identity | null | undefined): boolean {
    return identity !== null && identity !== undefined &&
      sameIdentity(identity, this.#target.identity);
  }

  /** False when the server process is gone: no /proc entry, a zombie, or a reused PID. */
  #alive(): Promise<boolean> {
    return serverAlive(this.#deps.system, this.#target);
  }

  async #pullOnce(
    reason: string,
    signal: AbortSignal,
  ): Promise<PullOutcome | { decoded: DecodedCoverage; at: number; slot?: PullSlot }> {
    if (this.#ended) return { result: "ended", end: this.#ended };
    if (signal.aborted) return { result: "aborted", error: "stopped before the pull" };
    if (!await this.#alive()) return this.#end("pid-gone", `host PID ${this.#target.hostPid}`);
    this.#writer.rewriteDropped();
    // The slot is held from the request until the decoded body is stored (see pullNow).
    let slot: PullSlot | undefined;
    try {
      slot = await this.#deps.gate?.slot(signal, {
        owner: this.#target.owner.kind === "container"
          ? this.#target.owner.container.podUid
          : this.#target.key,
        priority: () =>
          this.#finalAsked > 0
            ? (this.#suspect ? "final-suspect" : "final")
            : (this.#suspect ? "suspect" : "periodic"),
      });
    } catch {
      return { result: "aborted", error: "stopped while waiting for a pull slot" };
    }
    let handedOn = false;
    try {
      const out = await this.#pullHeld(reason, signal, slot);
      handedOn = "decoded" in out;
      return handedOn ? { ...out, slot } : out;
    } finally {
      if (!handedOn) slot?.release();
    }
  }

  async #pullHeld(
    reason: string,
    signal: AbortSignal,
    slot: PullSlot | undefined,
  ): Promise<PullOutcome | { decoded: DecodedCoverage; at: number }> {
    const nometa = this.#writer.metaStored && this.#metaHash !== undefined;
    const { metrics, config } = this.#deps;
    this.#pulls++;
    const at = this.#lastPull = this.#deps.system.now();
    let decoded: DecodedCoverage;
    try {
      const res = await pullCoverage({
        host: this.#target.host,
        port: this.#target.port,
        nometa,
        timeoutMs: config.pullTimeout,
        maxBody: nometa && this.#table ? this.#nometaMaxBody(this.#table) : config.maxBody,
        signal,
        slot,
        expectBytes: nometa ? this.#lastBody.nometa : this.#lastBody.full,
        floor: this.#floor,
      });
      this.#suspect = false;
      if (!this.#same(res.identity)) return this.#identityChanged(res.identity);
      this.#lastBody[nometa ? "nometa" : "full"] = res.bodyBytes;
      // The whole meta-data is decoded and its hashes checked, yielding as it goes (a large
      // file must not stall /healthz or the other servers); a build seen before is not redone.
      let meta: MetaFile | undefined;
      if (res.body.meta_data.byteLength > 0) {
        meta = await verifyMeta(res.body.meta_data, {
          tables: this.#deps.tables ?? sharedTables,
          signal,
        });
      }
      decoded = checkCoverage(res.body, {
        expectMeta: !nometa,
        metaHash: this.#metaHash,
        metaNames: this.#metaNames,
        meta,
      });
    } catch (e) {
      if (signal.aborted && !(e instanceof PullError || e instanceof CoverageError)) {
        metrics.inc(PULLS, PULLS_HELP, { result: "aborted" });
        return { result: "aborted", error: errorText(e) };
      }
      const answered = e instanceof PullError || e instanceof CoverageError;
      if (answered && e.status !== undefined && !this.#same(e.identity)) {
        return this.#identityChanged(e.identity);
      }
      const kind = e instanceof PullError || e instanceof CoverageError ? e.kind : "error";
      this.#suspect = kind === "slow" || kind === "timeout";
      metrics.inc(PULLS, PULLS_HELP, { result: kind });
      if (e instanceof CoverageError && e.file) {
        metrics.inc(META_MISMATCH, META_MISMATCH_HELP, { file: e.file });
      }
      if (kind === "aborted") return { result: "aborted", error: errorText(e) };
      if (e instanceof PullError && !await this.#alive()) {
        return this.#end("pid-gone", `host PID ${this.#target.hostPid} after: ${e.message}`);
      }
      const error = this.#problem("pull", e);
      return { result: e instanceof CoverageError ? "rejected" : "failed", error };
    }
    metrics.inc(PULLS, PULLS_HELP, { result: "ok" });
    if (this.#once.cleared("pull")) this.#log.info("pull recovered", { reason });
    return { decoded, at };
  }

  /** A counters-only body cannot be larger than counters that fit the meta-data (base64, and
   * room for the JSON around them): it is cut there, before it is held or parsed. */
  #nometaMaxBody(table: StatementTable): number {
    const base64 = 4 * Math.ceil(countersBytesBound(table) / 3);
    return Math.min(this.#deps.config.maxBody, base64 + (64 << 10));
  }

  #measure(covered: CoveredUnits | null, now: number): void {
    // One process's covered set only grows: the same size is the same set (a refresh store).
    if (!this.#table || covered === null || covered.count === this.#measuredKeys) return;
    if (covered.kind !== "meta" || covered.layout !== this.#table) return;
    this.#measuredKeys = covered.count;
    const n = statementsCovered(this.#table.stmts, covered);
    const total = this.#table.total;
    const c: LiveCoverage = { covered: n, total, percent: total === 0 ? 0 : (100 * n) / total };
    if (this.#coverage?.covered === c.covered && this.#coverage.total === c.total) return;
    this.#coverage = { ...c, lastChange: new Date(now).toISOString() };
  }

  #identityChanged(identity: Identity | null | undefined): PullOutcome {
    this.#deps.metrics.inc(PULLS, PULLS_HELP, { result: "identity-changed" });
    const now = identity ? `${identity.binary} pid ${identity.pid}` : "no coverage identity";
    return this.#end(
      "identity-changed",
      `expected ${this.#target.identity.binary} pid ${this.#target.identity.pid}, got ${now}`,
    );
  }

  async #store(
    d: DecodedCoverage,
    pulledAt: number,
    reason: string,
    signal: AbortSignal,
  ): Promise<PullOutcome> {
    if (d.meta) {
      // Keyed by the hash computed from the contents (verifyMeta), never by a claimed one.
      this.#metaHash = d.meta.hash;
      this.#metaNames = d.meta.names;
      if (this.#table !== d.meta.table) {
        this.#table = d.meta.table;
        this.#measuredKeys = -1;
      }
    }
    const hash = this.#metaHash!;
    const counters = d.counters.bytes;
    try {
      await this.#writer.putOnce(hash, d.meta?.bytes, reason, signal);
      const now = this.#deps.system.now();
      const decision = await rule.decideStoreAsync(counters, this.#writer.last, {
        now: this.#deps.system.monotonic(), // the refresh waits on it, never on the wall clock
        refreshMs: this.#refreshMs,
        final: reason !== rule.SCHEDULE_REASON,
        layout: this.#table?.hash === hash ? this.#table : undefined,
        signal,
      });
      if (!decision.store && decision.why === "refused") {
        // Not stored; the last stored counters stay, and the next pull that fits is judged.
        const { kind, message: error } = decision.refused;
        this.#deps.metrics.inc(REFUSED, REFUSED_HELP, { kind });
        this.#lastError = error;
        if (this.#once.changed("refused", error)) {
          this.#log.warn("counters refused: the last stored counters stay", { kind, error });
        }
        return { result: "rejected", error };
      }
      if (!decision.store) {
        this.#timeline.judged(pulledAt);
        this.#deps.metrics.inc(SKIPPED, SKIPPED_HELP);
        this.#lastError = null;
        return { result: "unchanged" };
      }
      // Anything but a refresh may be new coverage (unparsed counters cannot tell): fast again.
      if (decision.why !== "refresh") this.#activeAt = this.#deps.system.monotonic();
      // Measured even when the store below fails: it is what the server covers.
      this.#measure(decision.covered, now);
      const error = decision.parseError;
      if (error && this.#once.changed("parse", error)) {
        this.#log.warn("counters not parsed: stored whenever their bytes change", { error });
      }
      await this.#timeline.observe(this.#table, decision.covered, pulledAt);
      await this.#writer.putCounters(hash, d.counters.pid, counters, decision.covered, signal);
      await this.#timeline.store(signal);
    } catch (e) {
      return { result: "store-failed", error: this.#problem("store", e) };
    }
    if (this.#once.cleared("store")) this.#log.info("store recovered", { reason });
    this.#lastError = null;
    return { result: "stored", bytes: counters.byteLength };
  }
}
