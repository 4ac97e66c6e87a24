/** Readiness of the parts of the collector, and the facts /status shows about them. */

export interface Condition {
  /** False until the part can do its work. */
  ready: boolean;
  /** True when the part works with a fault (e.g. crictl failing, running on the last good view). */
  degraded?: boolean;
  /** What a person should know: why it is not ready, what is degraded. */
  reason?: string;
  since: string;
}

/**
 * The one owner of readiness. Parts report their condition under a name; /readyz is ready when
 * every registered part is ready.
 *
 * @example
 * const h = new Health(); h.set("scan", { ready: false, reason: "no scan yet" });
 * h.ready() // false
 */
export class Health {
  #conditions = new Map<string, Condition>();
  #now: () => Date;

  constructor(now: () => Date = () => new Date()) {
    this.#now = now;
  }

  /** Sets the condition of a part; `since` moves only when readiness or the reason changes. */
  set(part: string, c: Omit<Condition, "since">): void {
    const old = this.#conditions.get(part);
    const same = old && old.ready === c.ready && old.reason === c.reason &&
      !!old.degraded === !!c.degraded;
    this.#conditions.set(part, { ...c, since: same ? old.since : this.#now().toISOString() });
  }

  /** Removes a part (it no longer takes part in readiness). */
  delete(part: string): void {
    this.#conditions.delete(part);
  }

  get(part: string): Condition | undefined {
    return this.#conditions.get(part);
  }

  ready(): boolean {
    for (const c of this.#conditions.values()) if (!c.ready) return false;
    return true;
  }

  degraded(): boolean {
    for (const c of this.#conditions.values()) if (c.degraded) return true;
    return false;
  }

  /** Reasons of every part not ready or degraded, as `part: reason`. */
  reasons(): string[] {
    const out: string[] = [];
    for (const [part, c] of this.#conditions) {
      if (!c.ready || c.degraded) {
        out.push(`${part}: ${c.reason ?? (c.ready ? "degraded" : "not ready")}`);
      }
    }
    return out;
  }

  snapshot(): Record<string, Condition> {
    return Object.fromEntries(this.#conditions);
  }
}
