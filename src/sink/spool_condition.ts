/**
 * What a spool says about itself: the store's fault as the last write saw it (logged once per
 * change), and, from that and what waits in the spool, the sink's health condition and the
 * spool's gauges.
 */

import { errorText } from "../errors.ts";
import type { Health } from "../health.ts";
import { type Logger, OnceLog } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import { SinkError } from "./sink.ts";

const M_BYTES = "coverage_collector_spool_bytes";
const M_OBJECTS = "coverage_collector_spool_objects";

/**
 * The store's fault and its publication.
 *
 * @example
 * const cond = new SpoolCondition("s3://b", log, metrics, health);
 * cond.setFault(e); cond.publish(3, 1200); // health "sink": degraded, 3 objects spooled
 */
export class SpoolCondition {
  #fault: { message: string; permanent: boolean } | null = null;
  #once = new OnceLog();

  constructor(
    readonly sink: string,
    readonly log: Logger,
    readonly metrics?: Metrics,
    readonly health?: Health,
  ) {}

  /** The store's fault, or null while writes work. */
  get fault(): { message: string; permanent: boolean } | null {
    return this.#fault;
  }

  /** A write failed with `e`; a permanent SinkError is a refusal, anything else a fault. */
  setFault(e: unknown): void {
    const permanent = e instanceof SinkError && e.permanent;
    this.#fault = { message: errorText(e), permanent };
    if (this.#once.changed("fault", this.#fault.message)) {
      this.log[permanent ? "error" : "warn"](
        permanent ? "store refuses writes; spooling until fixed" : "store unreachable; spooling",
        { sink: this.sink, error: this.#fault.message },
      );
    }
  }

  /** A write worked; false when there was no fault to clear. */
  clearFault(): boolean {
    if (!this.#fault) return false;
    this.#fault = null;
    if (this.#once.cleared("fault")) {
      this.log.info("store writes work again", { sink: this.sink });
    }
    return true;
  }

  /** Publishes gauges and the health condition for `objects` spooled holding `bytes`. */
  publish(objects: number, bytes: number): void {
    this.metrics?.set(M_BYTES, "Bytes waiting in the S3 spool", bytes);
    this.metrics?.set(M_OBJECTS, "Objects waiting in the S3 spool", objects);
    const waiting = objects > 0 ? `${objects} objects (${bytes} bytes) spooled for retry` : "";
    if (this.#fault?.permanent) {
      const reason = `${this.#fault.message}${waiting ? `; ${waiting}` : ""}`;
      this.health?.set("sink", { ready: false, reason });
    } else if (objects > 0 || this.#fault) {
      const reason = [waiting, this.#fault?.message].filter((s) => s).join(": ");
      this.health?.set("sink", { ready: true, degraded: true, reason });
    } else {
      this.health?.set("sink", { ready: true });
    }
  }
}
