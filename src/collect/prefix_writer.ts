/**
 * What one collector has written under its prefix, and the writes themselves: meta-data and
 * info.json once, counters into two slots in turn (so an interrupted upload leaves the other
 * whole), each put counted. The collector decides *whether* counters are stored; this decides
 * *where*, and remembers what the sink took back.
 */

import { countersKey, infoJson, infoKey, metaKey, prefixFor } from "../layout.ts";
import type { Logger, OnceLog } from "../log.ts";
import { SinkError } from "../sink/sink.ts";
import type { Target } from "../target.ts";
import type { CoveredUnits } from "../coverage/covered_units.ts";
import { timelineName } from "../coverage/timeline.ts";
import type { CollectorDeps } from "./collector_types.ts";
import type { ImageSource } from "../cri/image_source.ts";
import type { StoredSnapshot } from "./store_rule.ts";

/** How long a store waits for the image's source labels (see putOnce). */
export const IMAGE_SOURCE_WAIT_MS = 1000;

/** `p`'s value if it settles within `ms`, else undefined (p keeps running; a rejection is undefined). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([p.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

const STORES = "coverage_collector_stores_total";
const STORES_HELP = "Objects stored by result";
const BYTES = "coverage_collector_stored_bytes_total";
const BYTES_HELP = "Bytes of coverage objects stored";
const PID_MISMATCH = "coverage_collector_counters_pid_mismatch_total";
const PID_MISMATCH_HELP =
  "Pulls whose counters_filename named another PID than X-Art-Coverage-Pid (stored under the latter)";

/**
 * The writes of one collector under its prefix.
 *
 * @example const w = new PrefixWriter(target, deps, log, once); await w.putMeta(hash, bytes, "first", signal);
 */
export class PrefixWriter {
  /** The key prefix of this server's files (safe, bounded segments: see prefixFor). */
  #prefix: string;
  /** The discovery time the prefix carries (see Target.remembered). */
  #prefixTime: Date;
  #metaHash: string | undefined;
  #infoStored = false;
  /** What info.json was written with: a fact learnt later has it written again (once each). */
  #infoHas = { workload: false, source: false };
  /** The image's source labels once crictl answered ({} when it has none): not asked again. */
  #imageSource: ImageSource | undefined;
  #last: StoredSnapshot | undefined;
  #lastKey: string | undefined;
  #slot: 1 | 2 = 1;
  #timelineKey: string | undefined;
  /** The timeline stored last was dropped unstored: write it again. */
  #timelineDropped = false;
  #stores = 0;
  #lastStore: number | null = null;

  constructor(
    readonly target: Target,
    readonly deps: CollectorDeps,
    readonly log: Logger,
    readonly once: OnceLog,
  ) {
    this.#prefixTime = target.discoveredAt;
    this.#prefix = prefixFor(target, deps.hostname);
    deps.metrics.counter(STORES, STORES_HELP);
    deps.metrics.counter(BYTES, BYTES_HELP);
    deps.metrics.counter(PID_MISMATCH, PID_MISMATCH_HELP);
  }

  get prefix(): string {
    return this.#prefix;
  }

  /** The meta-data is stored (later pulls may leave it out). */
  get metaStored(): boolean {
    return this.#metaHash !== undefined;
  }

  /** The counters stored last (what the store rule compares against). */
  get last(): StoredSnapshot | undefined {
    return this.#last;
  }

  get stores(): number {
    return this.#stores;
  }

  get lastStore(): number | null {
    return this.#lastStore;
  }

  /**
   * Takes back what the sink accepted and then dropped unstored (a full spool, a refusal): the
   * meta-data is pulled and written again, the counters written on the next pull.
   */
  rewriteDropped(): void {
    const dropped = this.deps.sink.dropped?.bind(this.deps.sink);
    if (!dropped) return;
    const again: string[] = [];
    if (this.#metaHash && dropped(metaKey(this.#prefix, this.#metaHash))) {
      this.#metaHash = undefined;
      again.push("meta-data");
    }
    if (this.#infoStored && dropped(infoKey(this.#prefix))) {
      this.#infoStored = false;
      again.push("info.json");
    }
    if (this.#lastKey && dropped(this.#lastKey)) {
      this.#last = undefined;
      again.push("counters");
    }
    if (this.#timelineKey && dropped(this.#timelineKey)) {
      this.#timelineDropped = true;
      again.push("timeline");
    }
    if (again.length > 0) {
      this.log.warn("stored objects were dropped before reaching the store; writing again", {
        objects: again.join(","),
      });
    }
  }

  /**
   * Meta-data and info.json, each once. Before anything is stored, a remembered process whose
   * build (meta hash) is not the one its prefix holds (it exec'd another build under the same
   * name) is a new process to the store: it gets a fresh prefix.
   */
  async putOnce(
    hash: string,
    meta: Uint8Array | undefined,
    reason: string,
    signal: AbortSignal,
  ): Promise<void> {
    const r = this.target.remembered;
    if (r && this.#stores === 0 && r.metaHash !== hash) {
      this.log.info("remembered process has another build: new prefix", {
        remembered: r.metaHash,
        hash,
      });
      this.#prefixTime = r.freshAt;
      this.#prefix = prefixFor({ ...this.target, discoveredAt: r.freshAt }, this.deps.hostname);
    }
    if (this.#metaHash === undefined && meta) {
      await this.#put(metaKey(this.#prefix, hash), meta, signal);
      this.#metaHash = hash;
      await this.deps.remember?.(this.#prefixTime, hash);
      this.log.info("collecting", { prefix: this.#prefix, hash, reason });
    }
    const c = this.target.owner.kind === "container" ? this.target.owner.container : undefined;
    const workload = c ? this.deps.podWorkload?.(c.podUid) : undefined;
    const h = this.target.identity.extra;
    const ask = c && this.#imageSource === undefined &&
        (h.source_url === undefined || h.source_commit === undefined)
      ? this.deps.imageSource?.(c.imageRef, signal)
      : undefined;
    // crictl may be slow: the store does not wait long for the image's labels (a pod being
    // deleted has little time), and info.json is written again once they come.
    if (ask) this.#imageSource = await within(ask, IMAGE_SOURCE_WAIT_MS);
    const imageSource = this.#imageSource;
    const source = imageSource?.url !== undefined || imageSource?.commit !== undefined;
    // A collector started before the pod list arrived (a restart on a busy node), or before
    // crictl answered, wrote info.json without that fact: it is written again when it comes.
    const late = this.#infoStored &&
      ((!this.#infoHas.workload && workload !== undefined) || (!this.#infoHas.source && source));
    if (!this.#infoStored || late) {
      const info = infoJson({ ...this.target, discoveredAt: this.#prefixTime }, {
        hostname: this.deps.hostname,
        nodeName: this.deps.nodeName?.(),
        bootId: this.deps.bootId,
        workload,
        imageSource,
      });
      await this.#put(infoKey(this.#prefix), new TextEncoder().encode(info), signal);
      this.#infoStored = true;
      this.#infoHas = { workload: workload !== undefined, source };
      if (late) {
        this.log.debug("info.json written again with what was learnt since", {
          workloadKind: workload?.kind,
          workloadName: workload?.name,
          sourceFromImage: source,
        });
      }
    }
  }

  /** Counters into the next slot; `namedPid` is the PID the server's counters name claimed. */
  async putCounters(
    hash: string,
    namedPid: number,
    bytes: Uint8Array,
    covered: CoveredUnits | null,
    signal: AbortSignal,
  ): Promise<void> {
    const key = countersKey(this.#prefix, hash, this.#countersPid(namedPid), this.#slot);
    await this.#put(key, bytes, signal);
    this.#last = { bytes, covered, at: this.deps.system.monotonic() };
    this.#lastKey = key;
    this.#slot = this.#slot === 1 ? 2 : 1;
  }

  /** True (once) when the timeline stored last was dropped unstored (see rewriteDropped). */
  takeTimelineDropped(): boolean {
    const d = this.#timelineDropped;
    this.#timelineDropped = false;
    return d;
  }

  /** The process's timeline (`covtimeline.<hash>.<pid>`, one object rewritten as it grows). */
  async putTimeline(hash: string, bytes: Uint8Array, signal: AbortSignal): Promise<void> {
    const key = `${this.#prefix}/${timelineName(hash, this.target.identity.pid)}`;
    await this.#put(key, bytes, signal);
    this.#timelineKey = key;
  }

  /**
   * The PID in counters names: always the identity's (X-Art-Coverage-Pid, matched to the host
   * process's NSpid at discovery and checked on every answer), never the one the server puts in
   * its counters_filename: a new PID there each pull would be a new object each pull. A name
   * that disagrees is logged (once per value) and counted, and its data kept.
   */
  #countersPid(named: number): number {
    const pid = this.target.identity.pid;
    if (named !== pid) {
      this.deps.metrics.inc(PID_MISMATCH, PID_MISMATCH_HELP);
      if (this.once.changed("counters-pid", String(named))) {
        this.log.warn("counters_filename names another PID than the server's identity", {
          namedPid: named,
          pid,
        });
      }
    }
    return pid;
  }

  async #put(key: string, data: Uint8Array, signal: AbortSignal): Promise<void> {
    const { sink, metrics } = this.deps;
    try {
      await sink.put(key, data, signal);
    } catch (e) {
      const permanent = e instanceof SinkError && e.permanent;
      metrics.inc(STORES, STORES_HELP, { result: permanent ? "permanent" : "error" });
      throw e;
    }
    metrics.inc(STORES, STORES_HELP, { result: "ok" });
    metrics.inc(BYTES, BYTES_HELP, {}, data.byteLength);
    this.#stores++;
    this.#lastStore = this.deps.system.now();
  }
}
