/**
 * What a spool lost: objects the store refused for themselves (kept for /status, counted) and
 * keys dropped unstored (evicted or refused), remembered until their writer asks, so that it
 * writes them again. Both bounded: the oldest are forgotten first.
 */

import { errorText } from "../errors.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { KeyRejectedError } from "./sink.ts";

const M_REJECTED = "coverage_collector_sink_rejected_total";
const M_REJECTED_HELP = "Objects the store refused for themselves (dropped, others kept going)";

/**
 * Book of a spool's losses.
 *
 * @example
 * const losses = new SpoolLosses(log, metrics);
 * losses.dropped("p/covmeta.ab"); losses.takeDropped("p/covmeta.ab") // true, then false
 */
export class SpoolLosses {
  /** Refused keys, oldest first. */
  #rejected = new Map<string, { error: string; at: string }>();
  #rejectedTotal = 0;
  #dropped = new Set<string>();

  constructor(
    readonly log: Logger,
    readonly metrics?: Metrics,
    readonly limits = { rejected: 20, dropped: 4096 },
  ) {
    metrics?.counter(M_REJECTED, M_REJECTED_HELP);
  }

  /** Records and reports a key the store refused; logs once per key and error. */
  rejected(key: string, e: KeyRejectedError): void {
    const error = errorText(e);
    const known = this.#rejected.get(key)?.error === error;
    this.#rejected.delete(key);
    this.#rejected.set(key, { error, at: new Date().toISOString() });
    trim(this.#rejected, this.limits.rejected);
    this.#rejectedTotal++;
    this.metrics?.inc(M_REJECTED, M_REJECTED_HELP);
    if (!known) {
      this.log.error("store refuses this object; dropped, others go on", { object: key, error });
    }
  }

  /** Remembers a key dropped unstored. */
  dropped(key: string): void {
    this.#dropped.delete(key);
    this.#dropped.add(key);
    trim(this.#dropped, this.limits.dropped);
  }

  /** True (once) when `key` was dropped unstored since it was last written. */
  takeDropped(key: string): boolean {
    return this.#dropped.delete(key);
  }

  /** Keys refused lately, oldest first. */
  rejectedKeys(): string[] {
    return [...this.#rejected.keys()];
  }

  /** Sizes of the books (the soak benchmark watches them). */
  sizes(): { rejectedKept: number; droppedKept: number } {
    return { rejectedKept: this.#rejected.size, droppedKept: this.#dropped.size };
  }

  status(): Record<string, unknown> {
    return {
      rejectedObjects: this.#rejectedTotal,
      rejected: [...this.#rejected].map(([key, r]) => ({ key, ...r })),
      droppedKeysRemembered: this.#dropped.size,
    };
  }
}

function trim(
  m: { size: number; keys(): Iterable<string>; delete(k: string): boolean },
  max: number,
) {
  for (const k of [...m.keys()]) {
    if (m.size <= max) break;
    m.delete(k);
  }
}
