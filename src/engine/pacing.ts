/**
 * When the engine scans next: at the scan interval, or within a second while a container that
 * appeared lately has not opened a coverage port yet (a new pod's server is found soon after it
 * listens, without scanning every second for ever), or while the last scan's probe budget left
 * candidates for the next.
 */

import type { ScanFindings } from "./stages.ts";

/** How long a new container counts as young; how soon to scan again while one is. */
const YOUNG_CONTAINER_MS = 30_000;
const FAST_RESCAN_MS = 1_000;

/**
 * Remembers when each container was first seen.
 *
 * @example
 * const pacer = new ScanPacer();
 * pacer.note(view, firstScan, system.monotonic()); await sleep(pacer.nextDelay(config.scanInterval));
 */
export class ScanPacer {
  #containerFirstSeen = new Map<string, number>();
  #youngWithoutServer = false;

  /**
   * Takes in a scan's containers (`firstScan`: those already running are not new); `now` is on
   * the monotonic clock.
   */
  note(view: ScanFindings, firstScan: boolean, now: number): void {
    const ids = new Set(view.containers.map((c) => c.id));
    // Containers already running at the first scan are not new: no fast rescans at start-up.
    const firstSeen = firstScan ? now - YOUNG_CONTAINER_MS : now;
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

  /**
   * Scan again soon while a new container has not shown a server yet, or when the last scan
   * `carried` candidates to the next; else the interval.
   */
  nextDelay(scanInterval: number, carried = 0): number {
    const soon = this.#youngWithoutServer || carried > 0;
    return soon ? Math.min(FAST_RESCAN_MS, scanInterval) : scanInterval;
  }

  /** Entries of the long-lived map (flat under churn). */
  sizes(): Record<string, number> {
    return { "engine.containerFirstSeen": this.#containerFirstSeen.size };
  }
}
