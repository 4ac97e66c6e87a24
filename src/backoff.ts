/** Capped exponential backoff with jitter: the API server (forever), S3 puts, the spool drain. */

import { sleep } from "./system.ts";

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  /** Fraction of the delay added at random (0.2 → up to +20%). */
  jitter?: number;
  random?: () => number;
  /** How to wait (tests record the delays instead). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<boolean>;
}

/**
 * Delays 1 s, 2 s, 4 s ... up to 30 s (by default), each with jitter; `reset()` after a success.
 *
 * @example
 * const b = new Backoff(); await b.wait(signal); // ~1 s
 * b.reset();
 */
export class Backoff {
  #attempt = 0;
  #o: Required<BackoffOptions>;

  constructor(opts: BackoffOptions = {}) {
    this.#o = {
      initialMs: 1000,
      maxMs: 30_000,
      jitter: 0.2,
      random: Math.random,
      sleep,
      ...opts,
    };
  }

  /** The next delay in ms (and counts the attempt). */
  next(): number {
    const base = Math.min(this.#o.maxMs, this.#o.initialMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(Math.min(this.#o.maxMs, base * (1 + this.#o.jitter * this.#o.random())));
  }

  /** Waits the next delay; false when `signal` aborted. */
  wait(signal: AbortSignal): Promise<boolean> {
    return this.#o.sleep(this.next(), signal);
  }

  reset(): void {
    this.#attempt = 0;
  }

  get attempts(): number {
    return this.#attempt;
  }
}

/**
 * "Full jitter" backoff before try `n + 1` (n from 0): uniform in 0..min(max, base·2ⁿ).
 *
 * @example fullJitter(3, { baseMs: 200, maxMs: 10_000 }) // somewhere in 0..1600
 */
export function fullJitter(n: number, policy: { baseMs: number; maxMs: number }): number {
  return Math.random() * Math.min(policy.maxMs, policy.baseMs * 2 ** n);
}
