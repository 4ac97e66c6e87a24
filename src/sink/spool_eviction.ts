/**
 * The spool's eviction policy. Every object has an owner (a pod, and within it a server); the
 * spool is bounded in objects per server, in bytes and objects per pod, and in bytes in all.
 * What goes first is taken from whoever is over a bound, and past the total from the pod that
 * spools the most counters: a pod that floods loses its own objects, not another pod's final
 * counters. Within each choice, objects written again and again (counters: a newer copy will
 * come) go before those written once (meta-data, info.json: every later object needs them),
 * oldest first.
 */

/** Who an object belongs to (see storeOwnerOf in layout.ts). */
export interface SpoolOwner {
  pod: string;
  server: string;
}

/** The spool's bounds (bytes are the objects' sizes). */
export interface SpoolBounds {
  maxBytes: number;
  /** Most bytes of one pod (default: maxBytes). */
  podMaxBytes?: number;
  /** Most objects of one pod (default: unbounded). */
  podMaxObjects?: number;
  /** Most objects of one server (default: unbounded). */
  serverMaxObjects?: number;
}

/** How the policy sees objects: written once or not, and whose. */
export interface SpoolPolicy {
  writtenOnce: (key: string) => boolean;
  ownerOf: (key: string) => SpoolOwner;
}

interface Held<T> {
  /** Objects not written once (counters), then those written once; each oldest first. */
  counters: T[];
  once: T[];
  objects: number;
  bytes: number;
  /** Bytes of `counters`. */
  counterBytes: number;
}

interface Pod<T> extends Held<T> {
  servers: Map<string, Held<T>>;
}

interface Place<T> {
  entry: T;
  pod: Pod<T>;
  podName: string;
  server: Held<T>;
  serverName: string;
  once: boolean;
}

function held<T>(): Held<T> {
  return { counters: [], once: [], objects: 0, bytes: 0, counterBytes: 0 };
}

/** The one with the largest `size` (the first of equals: the one holding the oldest object). */
function biggest<H>(all: Iterable<H>, size: (h: H) => number): H | undefined {
  let best: H | undefined;
  for (const h of all) if (best === undefined || size(h) > size(best)) best = h;
  return best;
}

/**
 * Whose each spooled object is and how much every owner holds, kept in step with the spool (an
 * object's owner is worked out once, when it is added), and the choice of what to drop.
 *
 * @example
 * const t = new SpoolTally({ writtenOnce, ownerOf: storeOwnerOf });
 * t.add({ key: "n/ns/p/c/t/i/b/covcounters.ab.1.1", bytes: 9 });
 * t.victims({ maxBytes: 5 }) // [that object]
 */
export class SpoolTally<T extends { key: string; bytes: number }> {
  readonly #pods = new Map<string, Pod<T>>();
  readonly #where = new Map<string, Place<T>>();
  #bytes = 0;

  constructor(readonly policy: SpoolPolicy) {}

  /** Bytes of all objects. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Counts `e` as the newest object (an earlier copy of its key is forgotten). */
  add(e: T): void {
    this.remove(e.key);
    const o = this.policy.ownerOf(e.key);
    let pod = this.#pods.get(o.pod);
    if (!pod) this.#pods.set(o.pod, pod = { ...held<T>(), servers: new Map() });
    let server = pod.servers.get(o.server);
    if (!server) pod.servers.set(o.server, server = held<T>());
    const once = this.policy.writtenOnce(e.key);
    this.#where.set(e.key, { entry: e, pod, podName: o.pod, server, serverName: o.server, once });
    for (const h of [pod, server]) {
      (once ? h.once : h.counters).push(e);
      this.#count(h, e, once, 1);
    }
    this.#bytes += e.bytes;
  }

  /** Forgets the object of `key`, if counted. */
  remove(key: string): void {
    const w = this.#where.get(key);
    if (!w) return;
    this.#where.delete(key);
    for (const h of [w.pod, w.server]) {
      const list = w.once ? h.once : h.counters;
      list.splice(list.indexOf(w.entry), 1);
      this.#count(h, w.entry, w.once, -1);
    }
    if (w.server.objects === 0) w.pod.servers.delete(w.serverName);
    if (w.pod.objects === 0) this.#pods.delete(w.podName);
    this.#bytes -= w.entry.bytes;
  }

  /**
   * Chooses what to drop so that every bound holds, never `keep`, and forgets it (the caller
   * removes it from the spool). With `keep` (the object just written), only its owner's bounds
   * are looked at unless `all`: nobody else grew.
   */
  victims(bounds: SpoolBounds, keep?: string, all = keep === undefined): T[] {
    const victims: T[] = [];
    const drop = (e: T | undefined): boolean => {
      if (!e) return false;
      this.remove(e.key);
      victims.push(e);
      return true;
    };
    const serverMax = bounds.serverMaxObjects ?? Infinity;
    const podBytes = bounds.podMaxBytes ?? bounds.maxBytes;
    const podObjects = bounds.podMaxObjects ?? Infinity;
    const w = all || keep === undefined ? undefined : this.#where.get(keep);
    const pods = w ? [w.pod] : [...this.#pods.values()];
    for (const pod of pods) {
      for (const s of w ? [w.server] : [...pod.servers.values()]) {
        while (s.objects > serverMax) {
          if (!drop(this.#candidate(s, false, keep) ?? this.#candidate(s, true, keep))) break;
        }
      }
      while (pod.bytes > podBytes || pod.objects > podObjects) {
        if (!drop(this.#fromPod(pod, keep))) break;
      }
    }
    while (this.#bytes > bounds.maxBytes) {
      const every = [...this.#pods.values()];
      const pod = biggest(
        every.filter((p) => this.#candidate(p, false, keep)),
        (p) => p.counterBytes,
      ) ??
        biggest(every.filter((p) => this.#candidate(p, true, keep)), (p) => p.bytes);
      if (!pod || !drop(this.#fromPod(pod, keep))) break;
    }
    return victims;
  }

  /** The oldest object of `h` that may go, of counters or of those written once. */
  #candidate(h: Held<T>, once: boolean, keep?: string): T | undefined {
    const list = once ? h.once : h.counters;
    return list[0]?.key !== keep ? list[0] : list[1];
  }

  /** The next object to drop from `pod`: from its server with the most counter bytes. */
  #fromPod(pod: Pod<T>, keep?: string): T | undefined {
    for (const once of [false, true]) {
      if (!this.#candidate(pod, once, keep)) continue;
      const servers = [...pod.servers.values()].filter((s) => this.#candidate(s, once, keep));
      const s = biggest(servers, (h) => once ? h.bytes : h.counterBytes);
      if (s) return this.#candidate(s, once, keep);
    }
    return undefined;
  }

  #count(h: Held<T>, e: T, once: boolean, sign: 1 | -1): void {
    h.objects += sign;
    h.bytes += sign * e.bytes;
    if (!once) h.counterBytes += sign * e.bytes;
  }
}

/**
 * The objects to drop so that every bound holds; never `keep` (the object being spooled).
 * `entries` are oldest first.
 *
 * @example
 * const policy = { writtenOnce: (k: string) => k.endsWith("m"), ownerOf: (k: string) =>
 *   ({ pod: k[0], server: k[0] }) };
 * evictionVictims([{ key: "a/c", bytes: 5 }, { key: "b/c1", bytes: 5 }, { key: "b/c2", bytes: 5 }],
 *   { maxBytes: 10 }, policy)
 * // [{ key: "b/c1", bytes: 5 }]: pod b spools the most counters
 */
export function evictionVictims<T extends { key: string; bytes: number }>(
  entries: T[],
  bounds: SpoolBounds,
  policy: SpoolPolicy,
  keep?: string,
): T[] {
  const t = new SpoolTally<T>(policy);
  for (const e of entries) t.add(e);
  return t.victims(bounds, keep, true);
}
