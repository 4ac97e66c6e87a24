/**
 * Discovery times that keep storage prefixes apart. A prefix holds the discovery second, not the
 * PID: two servers with the same path but for the time (two host processes of one binary, or a
 * container restarted under the same name) found in the same second would share one prefix and
 * overwrite each other's info.json. Such a server is dated one second later instead.
 */

import { prefixFor } from "../layout.ts";
import type { Target } from "../target.ts";

/** Seconds kept per path: only servers found within this window can collide. */
const WINDOW_S = 10;

/**
 * Hands out discovery times, distinct per storage path within a few seconds.
 *
 * @example
 * const clock = new DiscoveryClock();
 * clock.timeFor({ owner, identity }, Date.now()); // a Date; one second later for a twin
 */
export class DiscoveryClock {
  /** Storage path with the time left out → the last second handed out for it. */
  #last = new Map<string, number>();

  /** The discovery time of a server found at `nowMs`. */
  timeFor(target: Pick<Target, "owner" | "identity">, nowMs: number): Date {
    this.forget(nowMs);
    const path = prefixFor({ ...target, discoveredAt: new Date(0) }, "");
    const now = Math.floor(nowMs / 1000);
    const last = this.#last.get(path);
    const second = last !== undefined && last >= now ? last + 1 : now;
    this.#last.set(path, second);
    return second === now ? new Date(nowMs) : new Date(second * 1000);
  }

  /** Drops paths whose last second is past the window (so the map stays small under churn). */
  forget(nowMs: number): void {
    const oldest = Math.floor(nowMs / 1000) - WINDOW_S;
    for (const [path, second] of this.#last) if (second < oldest) this.#last.delete(path);
  }

  get size(): number {
    return this.#last.size;
  }
}
