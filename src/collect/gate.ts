/**
 * Node-wide bounds on pulls: how many run at once and how many body bytes they hold, shared
 * fairly between servers, with room kept for final pulls.
 */

/**
 * How urgent a pull is, most urgent first. `final`: the last pull of a pod being deleted or of
 * shutdown; `suspect`: of a server whose last pull was cut for slowness or timed out (its final
 * pull is `final-suspect`); `periodic`: the rest.
 */
export type PullPriority = "final" | "final-suspect" | "periodic" | "suspect";

const RANK: Record<PullPriority, number> = {
  "final": 0,
  "final-suspect": 1,
  "periodic": 2,
  "suspect": 3,
};
const isFinal = (p: PullPriority) => p === "final" || p === "final-suspect";
const isSuspect = (p: PullPriority) => p === "suspect" || p === "final-suspect";

/** Who asks for a slot, and how urgently (asked again each time the gate picks a waiter). */
export interface SlotRequest {
  /** The pod (or host server) the pull is for: waiters of owners holding fewer slots go first. */
  owner: string;
  priority: () => PullPriority;
}

/** What one pull holds of the gate: a slot, and the body bytes accounted to it. */
export interface PullSlot {
  /**
   * Waits until `bytes` more fit in the budget (or this slot is the oldest holder of bytes: it
   * always proceeds, so the gate never deadlocks). At most the per-pull share is reserved up
   * front, whatever was asked: the rest is taken as it arrives (see `grow`). Rejects when
   * `signal` aborts.
   */
  reserve(bytes: number, signal?: AbortSignal): Promise<void>;
  /** Takes `bytes` more at once (bytes already read); `room` then waits for the budget. */
  grow(bytes: number): void;
  /** Waits until the budget holds what is taken, or this slot is the oldest holder of bytes. */
  room(signal?: AbortSignal): Promise<void>;
  /** Bytes held by this slot. */
  readonly held: number;
  /** Gives the slot and its bytes back; safe to call twice. */
  release(): void;
}

interface SlotWaiter {
  seq: number;
  req: SlotRequest;
  /** Hands the slot taken for it (see #grant) to the waiter. */
  wake: (holder: Holder) => void;
}

interface ByteWaiter {
  final: boolean;
  ready: () => boolean;
  wake: () => void;
}

interface Holder {
  owner: string;
  priority: PullPriority;
  /** Order of the first byte taken (the oldest holder of bytes always proceeds). */
  since: number;
  held: number;
}

/**
 * At most `maxPulls` slots at once, and about `maxBytes` held across them.
 *
 * - Slots: final pulls are served first and may use every slot; periodic pulls leave
 *   `finalReserve` slots free for them; suspect pulls (a server that was slow last time, final or
 *   not) use at most `suspectMax` slots, so slow servers cannot take every slot from healthy
 *   ones. Among waiters of one priority, an owner holding fewer slots goes first, then first come.
 * - Bytes: a pull reserves at most `maxBytes / maxPulls` up front (an announced length is not
 *   believed beyond that) and takes the rest as it arrives; while the budget is full it waits
 *   before reading on, except the oldest holder, which always proceeds (the held total is then
 *   bounded by the budget plus that one body). An oversized body never gets the gate to itself.
 *
 * @example
 * const gate = new PullGate(8, 32 << 20);
 * const slot = await gate.slot(signal, { owner: podUid, priority: () => "periodic" });
 * try { await slot.reserve(contentLength, signal); ... } finally { slot.release(); }
 */
export class PullGate {
  /** Slots kept for final pulls (periodic pulls never take them). */
  readonly finalReserve: number;
  /** Most slots suspect pulls hold at once. */
  readonly suspectMax: number;
  /** Most bytes a pull reserves before its body arrives. */
  readonly perPull: number;
  #holders = new Set<Holder>();
  #bytes = 0;
  #peakBytes = 0;
  #seq = 0;
  #slotQueue: SlotWaiter[] = [];
  #byteQueue: ByteWaiter[] = [];

  constructor(readonly maxPulls: number, readonly maxBytes: number) {
    this.finalReserve = maxPulls >= 2 ? Math.max(1, Math.floor(maxPulls / 4)) : 0;
    this.suspectMax = Math.max(1, Math.floor((maxPulls - this.finalReserve) / 2));
    this.perPull = Math.max(1, Math.floor(maxBytes / Math.max(1, maxPulls)));
  }

  /** Slots in use. */
  get inFlight(): number {
    return this.#holders.size;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The most bytes ever held at once. */
  get peakBytes(): number {
    return this.#peakBytes;
  }

  /** Slots in use by pulls of `priority`. */
  inUse(priority: PullPriority): number {
    return this.#count((p) => p === priority);
  }

  #count(which: (p: PullPriority) => boolean): number {
    let n = 0;
    for (const h of this.#holders) if (which(h.priority)) n++;
    return n;
  }

  /** Waits for a slot (see the class). Rejects when `signal` aborts. */
  async slot(
    signal?: AbortSignal,
    req: SlotRequest = { owner: "", priority: () => "periodic" },
  ): Promise<PullSlot> {
    signal?.throwIfAborted();
    const holder = await new Promise<Holder>((resolve, reject) => {
      const waiter: SlotWaiter = {
        seq: this.#seq++,
        req,
        wake: (h) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(h);
        },
      };
      const onAbort = () => {
        const at = this.#slotQueue.indexOf(waiter);
        if (at >= 0) this.#slotQueue.splice(at, 1);
        reject(signal!.reason);
        this.poke();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#slotQueue.push(waiter);
      this.poke();
    });
    return this.#slotOf(holder);
  }

  /** Serves what waits and can be served now; call after a waiter's priority changed. */
  poke(): void {
    while (this.#byteQueue.length > 0) {
      const at = this.#nextByteWaiter();
      if (at < 0) break;
      this.#byteQueue.splice(at, 1)[0].wake();
    }
    while (this.#slotQueue.length > 0 && this.#holders.size < this.maxPulls) {
      const at = this.#nextSlotWaiter();
      if (at < 0) break;
      const [w] = this.#slotQueue.splice(at, 1);
      this.#grant(w);
    }
  }

  #grant(w: SlotWaiter): void {
    const priority = w.req.priority();
    const holder: Holder = { owner: w.req.owner, priority, since: Infinity, held: 0 };
    this.#holders.add(holder);
    w.wake(holder);
  }

  #admits(priority: PullPriority): boolean {
    if (this.#holders.size >= this.maxPulls) return false;
    if (isSuspect(priority) && this.#count(isSuspect) >= this.suspectMax) return false;
    if (isFinal(priority)) return true;
    return this.#holders.size - this.#count(isFinal) < this.maxPulls - this.finalReserve;
  }

  /** The waiter to serve next: final first, then owners holding fewest slots, then FIFO. */
  #nextSlotWaiter(): number {
    const heldBy = new Map<string, number>();
    for (const h of this.#holders) heldBy.set(h.owner, (heldBy.get(h.owner) ?? 0) + 1);
    let best = -1;
    let bestKey: [number, number, number] = [Infinity, Infinity, Infinity];
    this.#slotQueue.forEach((w, i) => {
      const p = w.req.priority();
      if (!this.#admits(p)) return;
      const key: [number, number, number] = [RANK[p], heldBy.get(w.req.owner) ?? 0, w.seq];
      if (
        key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1]) ||
        (key[0] === bestKey[0] && key[1] === bestKey[1] && key[2] < bestKey[2])
      ) {
        best = i;
        bestKey = key;
      }
    });
    return best;
  }

  /** Final pulls' byte waiters first, then first come; only one that is ready now. */
  #nextByteWaiter(): number {
    const finalAt = this.#byteQueue.findIndex((w) => w.final && w.ready());
    if (finalAt >= 0) return finalAt;
    return this.#byteQueue.findIndex((w) => w.ready());
  }

  #oldest(): Holder | undefined {
    let oldest: Holder | undefined;
    for (const h of this.#holders) {
      if (h.held > 0 && (!oldest || h.since < oldest.since)) oldest = h;
    }
    return oldest;
  }

  #take(h: Holder, n: number): void {
    if (n <= 0 || !this.#holders.has(h)) return; // nothing is taken for a released slot
    if (h.held === 0) h.since = this.#seq++;
    h.held += n;
    this.#bytes += n;
    this.#peakBytes = Math.max(this.#peakBytes, this.#bytes);
  }

  #waitBytes(h: Holder, ready: () => boolean, grant: () => void, signal?: AbortSignal) {
    signal?.throwIfAborted();
    if (ready()) {
      grant();
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: ByteWaiter = {
        final: isFinal(h.priority),
        ready,
        wake: () => {
          signal?.removeEventListener("abort", onAbort);
          grant();
          resolve();
        },
      };
      const onAbort = () => {
        const at = this.#byteQueue.indexOf(waiter);
        if (at >= 0) this.#byteQueue.splice(at, 1);
        reject(signal!.reason);
        this.poke();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#byteQueue.push(waiter);
    });
  }

  #slotOf(h: Holder): PullSlot {
    let released = false;
    const first = () => this.#oldest() === h || this.#oldest() === undefined;
    return {
      reserve: (bytes, sig) => {
        const n = Math.min(this.perPull, Math.max(0, Math.ceil(bytes)));
        return this.#waitBytes(
          h,
          () => this.#bytes + n <= this.maxBytes || first(),
          () => this.#take(h, n),
          sig,
        );
      },
      grow: (bytes) => this.#take(h, Math.max(0, Math.ceil(bytes))),
      room: (sig) =>
        this.#waitBytes(h, () => this.#bytes <= this.maxBytes || first(), () => {}, sig),
      get held() {
        return h.held;
      },
      release: () => {
        if (released) return;
        released = true;
        this.#holders.delete(h);
        this.#bytes -= h.held;
        h.held = 0;
        this.poke();
      },
    };
  }
}
