/** A daemon part that never ends its work: the shutdown deadline's reporting is tested with it. */

import type { Part } from "../../src/deps.ts";

/** A part stuck in `where`, and what a test awaits of it. */
export interface StuckPart extends Part {
  /** Resolves when the shutdown reached the stuck spot (final work began, or the run's stop). */
  reached: Promise<void>;
  /** Lets the stuck work end (so nothing is left pending after the test). */
  release(): void;
}

/**
 * A part whose final work (`"final work"`) or whose run after its signal aborted (`"run"`)
 * never ends until `release()`.
 *
 * @example const stuck = stuckPart("watch", "run"); // parts: [stuck]; await stuck.reached
 */
export function stuckPart(name: string, where: "final work" | "run"): StuckPart {
  let reach!: () => void;
  const reached = new Promise<void>((r) => reach = r);
  let release!: () => void;
  const released = new Promise<void>((r) => release = r);
  return {
    name,
    reached,
    release,
    async run(signal) {
      await new Promise<void>((r) => signal.addEventListener("abort", () => r(), { once: true }));
      if (where === "run") {
        reach();
        await released;
      }
    },
    async beforeStop() {
      if (where === "final work") {
        reach();
        await released;
      }
    },
    status: () => ({ stuckIn: where }),
  };
}
