/** Node-wide bounds on pulls: how many run at once and how many body bytes they hold. */

/** What one pull holds of the gate: a slot, and the body bytes reserved for it. */
export interface PullSlot {
  /**
   * Waits until `bytes` more fit in the budget, or until no other pull holds bytes (a body larger
   * than the whole budget still runs, alone). Rejects when `signal` aborts.
   */
  reserve(bytes: number, signal?: AbortSignal): Promise<void>;
  /** Takes `bytes` more without waiting (a body longer than its reservation, already read). */
  grow(bytes: number): void;
  /** Bytes held by this slot. */
  readonly held: number;
  /** Gives the slot and its bytes back; safe to call twice. */
  release(): void;
}

interface Waiter {
  ready: () => boolean;
  /** Takes what was waited for, synchronously, then resolves the waiter. */
  wake: () => void;
}

/**
 * At most `maxPulls` slots at once, and at most `maxBytes` reserved across them. Waiters are
 * served first come, first served; bytes are admitted before a body is read (from its
 * Content-Length or the server's last body size) so the sum stays inside the budget, except for
 * bodies longer than announced, which grow past it and hold back the next admissions.
 *
 * @example
 * const gate = new PullGate(8, 32 << 20);
 * const slot = await gate.slot(signal);
 * try { await slot.reserve(contentLength, signal); ... } finally { slot.release(); }
 */
export class PullGate {
  #slots = 0;
  #bytes = 0;
  #holders = 0;
  #peakBytes = 0;
  /** Waiting for a slot, and (separately: only slot holders wait here) for bytes. */
  #slotQueue: Waiter[] = [];
  #byteQueue: Waiter[] = [];

  constructor(readonly maxPulls: number, readonly maxBytes: number) {}

  /** Slots in use. */
  get inFlight(): number {
    return this.#slots;
  }

  /** Bytes reserved now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The most bytes ever reserved at once. */
  get peakBytes(): number {
    return this.#peakBytes;
  }

  /** Waits for a free slot (FIFO). Rejects when `signal` aborts. */
  async slot(signal?: AbortSignal): Promise<PullSlot> {
    let held = 0;
    let released = false;
    const take = (n: number) => {
      if (held === 0 && n > 0) this.#holders++;
      held += n;
      this.#bytes += n;
      this.#peakBytes = Math.max(this.#peakBytes, this.#bytes);
    };
    await this.#wait(
      this.#slotQueue,
      () => this.#slots < this.maxPulls,
      () => this.#slots++,
      signal,
    );
    return {
      reserve: (bytes, sig) => {
        const n = Math.max(0, Math.ceil(bytes));
        return this.#wait(
          this.#byteQueue,
          () => this.#bytes + n <= this.maxBytes || this.#holders - (held > 0 ? 1 : 0) === 0,
          () => take(n),
          sig,
        );
      },
      grow: (bytes) => take(Math.max(0, Math.ceil(bytes))),
      get held() {
        return held;
      },
      release: () => {
        if (released) return;
        released = true;
        this.#slots--;
        this.#bytes -= held;
        if (held > 0) this.#holders--;
        held = 0;
        this.#pump();
      },
    };
  }

  #wait(
    queue: Waiter[],
    ready: () => boolean,
    grant: () => void,
    signal?: AbortSignal,
  ): Promise<void> {
    signal?.throwIfAborted();
    if (queue.length === 0 && ready()) {
      grant();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        ready,
        wake: () => {
          signal?.removeEventListener("abort", onAbort);
          grant();
          resolve();
        },
      };
      const onAbort = () => {
        const at = queue.indexOf(waiter);
        if (at >= 0) queue.splice(at, 1);
        reject(signal!.reason);
        this.#pump();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      queue.push(waiter);
    });
  }

  /** Wakes waiters of each queue in order while the first one's condition holds. */
  #pump(): void {
    for (const queue of [this.#byteQueue, this.#slotQueue]) {
      while (queue.length > 0 && queue[0].ready()) queue.shift()!.wake();
    }
  }
}
