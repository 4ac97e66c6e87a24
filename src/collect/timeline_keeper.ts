/**
 * One collector's timeline of its process: recorded pull by pull (TimelineRecorder), stored
 * beside the counters when they are stored for new coverage (PrefixWriter.putTimeline), kept in
 * the state dir (TimelineCopy) and merged back after a restart of the collector, and counted:
 * statements newly covered, per binary, and when the process last covered something new.
 */

import { errorText } from "../errors.ts";
import type { Logger, OnceLog } from "../log.ts";
import type { CoveredUnits } from "../coverage/covered_units.ts";
import type { StatementTable } from "../coverage/live.ts";
import type { Target } from "../target.ts";
import type { CollectorDeps } from "./collector_types.ts";
import type { PrefixWriter } from "./prefix_writer.ts";
import { TimelineRecorder } from "./timeline_recorder.ts";

const NEW_STATEMENTS = "coverage_collector_newly_covered_statements_total";
const NEW_STATEMENTS_HELP =
  "Statements seen covered for the first time, per binary (at a collector's first pull of a " +
  "server, all it covers then)";

/** The largest timeline of `units` units (5-byte header, 8-byte varints, 4-byte CRC). */
function maxTimelineBytes(units: number): number {
  return 5 + 16 + 4 + 24 * units + 8 * units;
}

/**
 * @example const k = new TimelineKeeper(target, writer, deps, log, once); await k.observe(table, covered, at)
 */
export class TimelineKeeper {
  #recorder: TimelineRecorder | undefined;
  #table: StatementTable | undefined;
  /** Steps not yet stored (a store that failed, or an object the sink dropped). */
  #unstored = false;

  constructor(
    readonly target: Target,
    readonly writer: PrefixWriter,
    readonly deps: CollectorDeps,
    readonly log: Logger,
    readonly once: OnceLog,
  ) {
    deps.metrics.counter(NEW_STATEMENTS, NEW_STATEMENTS_HELP);
  }

  /** When the process last covered something new (ms since the epoch); null when never. */
  get lastNew(): number | null {
    return this.#recorder?.lastNew ?? null;
  }

  /** A pull at `at` judged to cover nothing new (not stored, or identical to the last stored). */
  judged(at: number): void {
    this.#recorder?.judged(at);
  }

  /**
   * The units `covered` holds that no pull before held become a step at `at`; returns how many.
   * `covered` must be judged against `table` (the meta-data of `hash`), else nothing is recorded.
   */
  async observe(
    table: StatementTable | undefined,
    covered: CoveredUnits | null,
    at: number,
  ): Promise<number> {
    if (!table || covered?.kind !== "meta" || covered.layout.hash !== table.hash) return 0;
    const r = await this.#recorderFor(table);
    const fresh = r.observe(covered, at);
    if (fresh.length === 0) return 0;
    this.#unstored = true;
    let stmts = 0;
    for (const u of fresh) stmts += table.stmts[u];
    this.deps.metrics.inc(NEW_STATEMENTS, NEW_STATEMENTS_HELP, {
      binary: this.target.identity.binary,
    }, stmts);
    return fresh.length;
  }

  /** Stores the timeline when it holds steps not stored yet (after the counters are stored).
   * A failure is logged and left for the next store; it never fails the counters' store. */
  async store(signal: AbortSignal): Promise<void> {
    if (this.writer.takeTimelineDropped()) this.#unstored = true;
    const r = this.#recorder, table = this.#table;
    if (!this.#unstored || !r || !table) return;
    const bytes = r.encode();
    this.#unstored = false;
    await this.deps.timelineCopy?.write(bytes);
    try {
      await this.writer.putTimeline(table.hash, bytes, signal);
      if (this.once.cleared("timeline")) this.log.info("timeline stored again");
    } catch (e) {
      this.#unstored = true;
      const error = errorText(e);
      if (this.once.changed("timeline", error)) {
        this.log.warn("timeline not stored: written with the next counters", { error });
      }
    }
  }

  async #recorderFor(table: StatementTable): Promise<TimelineRecorder> {
    if (this.#recorder && this.#table === table) return this.#recorder;
    const units = table.fnStart[table.fnStart.length - 1];
    if (this.#recorder && this.#table?.hash === table.hash) {
      this.#table = table; // the same build's table made again: the units are the same
      return this.#recorder;
    }
    const r = new TimelineRecorder(units);
    this.#recorder = r;
    this.#table = table;
    // Only the process stored before the restart, under the prefix it had, is continued.
    const remembered = this.target.remembered;
    const copy = this.deps.timelineCopy;
    if (remembered?.metaHash === table.hash && copy) {
      const bytes = await copy.read(maxTimelineBytes(units));
      if (bytes) {
        try {
          r.restore(bytes);
          this.log.info("timeline continued from before the restart", {
            steps: r.timeline.steps.length,
          });
        } catch (e) {
          this.log.warn("timeline copy refused: starting anew", { error: errorText(e) });
        }
      }
    }
    return r;
  }
}
