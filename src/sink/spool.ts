/**
 * A local spool in front of a remote sink: a write the store does not take (down, throttled,
 * refusing) is kept on disk, newest bytes per key, bounded in size, and retried in the
 * background until it is stored. The spool survives a restart.
 */

import { errorText } from "../errors.ts";
import { KeyRejectedError, type Sink, SinkError } from "./sink.ts";
import { keySegments } from "./key.ts";
import { SpoolCondition } from "./spool_condition.ts";
import type { SpoolOwner } from "./spool_eviction.ts";
import { SpoolIndex } from "./spool_index.ts";
import { SpoolLosses } from "./spool_losses.ts";
import { fullJitter } from "../backoff.ts";
import { type Logger, silentLogger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { Health } from "../health.ts";
import { sleep } from "../system.ts";

export interface SpoolOptions {
  /** The spool directory (`<state-dir>/spool`). */
  dir: string;
  /**
   * Most bytes kept; past it the oldest objects are dropped, those `writtenOnce` last.
   * 0 turns spooling off.
   */
  maxBytes: number;
  /**
   * True for objects written once and needed by every later one (meta-data): evicted only when
   * nothing else is left to evict, so later objects are not stored without them.
   */
  writtenOnce?: (key: string) => boolean;
  /**
   * The pod and server an object belongs to (storeOwnerOf in layout.ts): the bounds below hold
   * per owner, and a full spool takes from the pod spooling the most counters first. Default:
   * everything is one owner's (oldest first).
   */
  ownerOf?: (key: string) => SpoolOwner;
  /** Most bytes one pod keeps spooled (default: maxBytes); a larger object is not spooled. */
  podMaxBytes?: number;
  /** Most objects one pod keeps spooled (default: unbounded). */
  podMaxObjects?: number;
  /** Most objects one server keeps spooled (default: unbounded). */
  serverMaxObjects?: number;
  log?: Logger;
  metrics?: Metrics;
  health?: Health;
  /** Backoff of the background retry after a transient fault. */
  backoff?: { baseMs: number; maxMs: number };
  /** Wait before trying again after a permanent fault (403...): no storm against a refusal. */
  permanentRetryMs?: number;
}

const M_EVICT = "coverage_collector_spool_evictions_total";
const M_PUTS = "coverage_collector_sink_puts_total";

/**
 * Wraps a remote sink with a disk spool. Make one with `SpoolingSink.open` (loads the spool).
 *
 * @example
 * const sink = await SpoolingSink.open(s3, { dir: "state/spool", maxBytes: 256 << 20, log });
 * sink.run(signal); // drains in the background
 */
export class SpoolingSink implements Sink {
  readonly description: string;
  #inner: Sink;
  #o:
    & Required<Omit<SpoolOptions, "metrics" | "health" | "podMaxObjects" | "serverMaxObjects">>
    & Pick<SpoolOptions, "metrics" | "health" | "podMaxObjects" | "serverMaxObjects">;
  #losses: SpoolLosses;
  #index: SpoolIndex;
  #condition: SpoolCondition;
  #lock: Promise<unknown> = Promise.resolve();
  #wake: PromiseWithResolvers<void> | null = null;
  #emptyWaiters: Array<() => void> = [];

  private constructor(inner: Sink, opts: SpoolOptions) {
    this.#inner = inner;
    this.description = inner.description;
    this.#o = {
      ...opts,
      log: opts.log ?? silentLogger,
      backoff: opts.backoff ?? { baseMs: 1000, maxMs: 60_000 },
      permanentRetryMs: opts.permanentRetryMs ?? 300_000,
      writtenOnce: opts.writtenOnce ?? (() => false),
      ownerOf: opts.ownerOf ?? (() => ({ pod: "", server: "" })),
      podMaxBytes: Math.min(opts.podMaxBytes ?? opts.maxBytes, opts.maxBytes),
    };
    this.#index = new SpoolIndex(opts.dir, this.#o);
    this.#losses = new SpoolLosses(this.#o.log, opts.metrics);
    this.#condition = new SpoolCondition(this.description, this.#o.log, opts.metrics, opts.health);
    opts.metrics?.counter(M_EVICT, "Spooled objects dropped to keep the spool under its limit");
    opts.metrics?.counter(M_PUTS, "Writes to the sink by result");
  }

  /** Opens the spool in `opts.dir`, taking up what an earlier run left there. */
  static async open(inner: Sink, opts: SpoolOptions): Promise<SpoolingSink> {
    const s = new SpoolingSink(inner, opts);
    await s.#load();
    return s;
  }

  /** Keys waiting in the spool, oldest first. */
  spooled(): string[] {
    return this.#index.keys();
  }

  pending(): number {
    return this.#index.size;
  }

  dropped(key: string): boolean {
    return this.#losses.takeDropped(key);
  }

  /** Keys the store refused lately, oldest first (at most 20). */
  rejected(): string[] {
    return this.#losses.rejectedKeys();
  }

  /** Resolves when nothing is spooled (at once when empty), or when `signal` aborts. */
  drained(signal?: AbortSignal): Promise<void> {
    if (this.#index.size === 0 || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener("abort", done);
        resolve();
      };
      this.#emptyWaiters.push(done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  async put(key: string, data: Uint8Array, signal?: AbortSignal): Promise<void> {
    keySegments(key); // an unsafe key is the caller's fault: never spooled
    this.#losses.takeDropped(key); // written again
    // While the store is failing, or an older copy waits, go to the spool: the drain is the one
    // that talks to the store then, so keys stay in order and a refusal is not hammered.
    if (this.#index.has(key) || (this.#condition.fault && this.#index.size > 0)) {
      await this.#spool(key, data, this.#condition.fault?.message ?? "an older copy is spooled");
      return;
    }
    try {
      await this.#inner.put(key, data, signal);
      this.#count("stored");
      this.#clearFault();
    } catch (e) {
      if (e instanceof SinkError && e.permanent && /unsafe object key/.test(e.message)) throw e;
      if (e instanceof KeyRejectedError) {
        this.#reject(key, e);
        throw e;
      }
      this.#setFault(e);
      if (this.#o.maxBytes === 0) {
        this.#count("failed");
        throw e;
      }
      await this.#spool(key, data, errorText(e));
    }
  }

  /** Retries spooled objects, oldest first, until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      const first = this.#index.oldest();
      if (!first) {
        await this.#idle(signal);
        continue;
      }
      const { key, seq } = first;
      let data: Uint8Array;
      try {
        data = await this.#index.read(first);
      } catch (e) {
        this.#o.log.error("spooled object unreadable; dropped", {
          object: key,
          error: errorText(e),
        });
        await this.#remove(key, seq);
        continue;
      }
      try {
        await this.#inner.put(key, data, signal);
      } catch (e) {
        if (signal.aborted) break;
        if (e instanceof KeyRejectedError) {
          // This object only: drop it and go on with the next at once.
          failures = 0;
          await this.#remove(key, seq, e);
          continue;
        }
        this.#setFault(e);
        const permanent = e instanceof SinkError && e.permanent;
        await sleep(
          permanent ? this.#o.permanentRetryMs : fullJitter(failures++, this.#o.backoff),
          signal,
        );
        continue;
      }
      failures = 0;
      await this.#remove(key, seq);
      this.#count("drained");
      this.#clearFault();
      if (this.#index.size === 0) this.#o.log.info("spool drained", { sink: this.description });
    }
  }

  /**
   * Tries every spooled object once, now, without backoff (shutdown: the last chance to send
   * the final pull's bytes). Resolves with how many objects are still spooled.
   */
  async flush(signal: AbortSignal): Promise<number> {
    for (const entry of this.#index.entries()) {
      const { key, seq } = entry;
      if (signal.aborted) break;
      try {
        await this.#inner.put(key, await this.#index.read(entry), signal);
      } catch (e) {
        if (signal.aborted) break;
        if (e instanceof KeyRejectedError) await this.#remove(key, seq, e);
        else this.#setFault(e);
        continue;
      }
      await this.#remove(key, seq);
      this.#count("drained");
    }
    if (this.#index.size === 0) this.#clearFault();
    return this.#index.size;
  }

  status(): Record<string, unknown> {
    return {
      ...this.#inner.status?.(),
      spooledObjects: this.#index.size,
      spooledBytes: this.#index.bytes,
      spoolMaxBytes: this.#o.maxBytes,
      fault: this.#condition.fault?.message,
      faultPermanent: this.#condition.fault?.permanent,
      ...this.#losses.status(),
    };
  }

  /** Sizes of what the spool holds in memory (the soak benchmark watches them). */
  sizes(): Record<string, number> {
    return {
      spooled: this.#index.size,
      emptyWaiters: this.#emptyWaiters.length,
      ...this.#losses.sizes(),
    };
  }

  #reject(key: string, e: KeyRejectedError): void {
    this.#losses.rejected(key, e);
    this.#count("rejected");
  }

  #count(result: string): void {
    this.#o.metrics?.inc(M_PUTS, "Writes to the sink by result", { result });
  }

  /** Runs `fn` after every earlier spool change: disk and map change together. */
  #locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(fn);
    this.#lock = run.catch(() => {});
    return run;
  }

  #spool(key: string, data: Uint8Array, why: string): Promise<void> {
    return this.#locked(async () => {
      const { maxBytes, podMaxBytes } = this.#o;
      if (data.length > podMaxBytes) {
        this.#count("failed");
        const pod = this.#o.ownerOf(key).pod;
        const limit = podMaxBytes < maxBytes
          ? `one pod's share of the spool (${podMaxBytes} bytes for ${pod})`
          : `the spool limit of ${maxBytes}`;
        throw new SinkError(
          `${this.description}: ${key} not stored (${why}) and its ${data.length} bytes exceed ` +
            limit,
          false,
        );
      }
      await this.#index.write(key, data, Date.now());
      this.#count("spooled");
      await this.#evict(key);
      this.#changed();
      this.#wake?.resolve();
    });
  }

  /**
   * Drops objects (never `keep`) until the spool fits its limit (see spool_eviction.ts); the
   * writer is told of each through `dropped`, so that it writes it again.
   */
  async #evict(keep?: string): Promise<void> {
    const { writtenOnce: once, ownerOf } = this.#o;
    const victims = this.#index.victims(this.#o, keep);
    for (const e of victims) {
      await this.#index.remove(e);
      this.#losses.dropped(e.key);
      this.#o.metrics?.inc(M_EVICT, "Spooled objects dropped to keep the spool under its limit");
      this.#o.log.warn("spool full; oldest object dropped", {
        object: e.key,
        pod: ownerOf(e.key).pod,
        bytes: e.bytes,
        spoolMax: this.#o.maxBytes,
        podMax: this.#o.podMaxBytes,
        writtenOnce: once(e.key),
      });
    }
  }

  /**
   * Removes `key` once stored (or refused: `rejected`), unless newer bytes were spooled
   * meanwhile (those are tried in turn).
   */
  #remove(key: string, seq: number, rejected?: KeyRejectedError): Promise<void> {
    return this.#locked(async () => {
      const e = this.#index.get(key);
      if (rejected) this.#reject(key, rejected);
      if (e && e.seq === seq) {
        await this.#index.remove(e);
        if (rejected) this.#losses.dropped(key);
      }
      this.#changed();
    });
  }

  async #load(): Promise<void> {
    const found = await this.#index.load(this.#o.log);
    await this.#evict();
    if (found > 0) {
      this.#o.log.info("spool found from an earlier run; will retry", {
        dir: this.#o.dir,
        objects: this.#index.size,
        bytes: this.#index.bytes,
      });
    }
    this.#changed();
  }

  #setFault(e: unknown): void {
    this.#condition.setFault(e);
    this.#changed();
  }

  #clearFault(): void {
    if (this.#condition.clearFault()) this.#changed();
  }

  /** Publishes gauges and the health condition; wakes those waiting for an empty spool. */
  #changed(): void {
    this.#condition.publish(this.#index.size, this.#index.bytes);
    if (this.#index.size === 0) { for (const w of this.#emptyWaiters.splice(0)) w(); }
  }

  #idle(signal: AbortSignal): Promise<void> {
    const w = Promise.withResolvers<void>();
    this.#wake = w;
    const onAbort = () => w.resolve();
    signal.addEventListener("abort", onAbort, { once: true });
    return w.promise.finally(() => {
      signal.removeEventListener("abort", onAbort);
      if (this.#wake === w) this.#wake = null;
    });
  }
}
