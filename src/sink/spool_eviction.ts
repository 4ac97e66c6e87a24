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
  entries: T[];
  bytes: number;
  /** Bytes of objects not written once (counters). */
  counterBytes: number;
}

class Tally<T extends { key: string; bytes: number }> {
  readonly pods = new Map<string, Held<T> & { servers: Map<string, Held<T>> }>();
  bytes = 0;

  constructor(entries: T[], readonly policy: SpoolPolicy, readonly keep?: string) {
    for (const e of entries) {
      const o = policy.ownerOf(e.key);
      let pod = this.pods.get(o.pod);
      if (!pod) this.pods.set(o.pod, pod = { ...held<T>(), servers: new Map() });
      let server = pod.servers.get(o.server);
      if (!server) pod.servers.set(o.server, server = held<T>());
      for (const h of [pod, server]) this.#add(h, e, 1);
      this.bytes += e.bytes;
    }
  }

  /** The oldest object of `h` that may go, counters before written-once ones. */
  candidate(h: Held<T>, once: boolean): T | undefined {
    return h.entries.find((e) => e.key !== this.keep && this.policy.writtenOnce(e.key) === once);
  }

  /** The next object to drop from `pod`: from its server with the most counter bytes. */
  fromPod(pod: Held<T> & { servers: Map<string, Held<T>> }): T | undefined {
    for (const once of [false, true]) {
      const servers = [...pod.servers.values()].filter((s) => this.candidate(s, once));
      const s = biggest(servers, (h) => once ? h.bytes : h.counterBytes);
      if (s) return this.candidate(s, once);
    }
    return undefined;
  }

  remove(e: T): void {
    const o = this.policy.ownerOf(e.key);
    const pod = this.pods.get(o.pod)!;
    const server = pod.servers.get(o.server)!;
    for (const h of [pod, server]) {
      h.entries.splice(h.entries.indexOf(e), 1);
      this.#add(h, e, -1);
    }
    this.bytes -= e.bytes;
  }

  #add(h: Held<T>, e: T, sign: 1 | -1): void {
    if (sign > 0) h.entries.push(e);
    h.bytes += sign * e.bytes;
    if (!this.policy.writtenOnce(e.key)) h.counterBytes += sign * e.bytes;
  }
}

function held<T>(): Held<T> {
  return { entries: [], bytes: 0, counterBytes: 0 };
}

/** The one with the largest `size` (the first of equals: the one holding the oldest object). */
function biggest<H>(all: Iterable<H>, size: (h: H) => number): H | undefined {
  let best: H | undefined;
  for (const h of all) if (best === undefined || size(h) > size(best)) best = h;
  return best;
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
  const t = new Tally(entries, policy, keep);
  const victims: T[] = [];
  const drop = (e: T | undefined): boolean => {
    if (!e) return false;
    t.remove(e);
    victims.push(e);
    return true;
  };
  const serverMax = bounds.serverMaxObjects ?? Infinity;
  const podBytes = bounds.podMaxBytes ?? bounds.maxBytes;
  const podObjects = bounds.podMaxObjects ?? Infinity;
  for (const pod of t.pods.values()) {
    for (const s of pod.servers.values()) {
      while (s.entries.length > serverMax) {
        if (!drop(t.candidate(s, false) ?? t.candidate(s, true))) break;
      }
    }
    while (pod.bytes > podBytes || pod.entries.length > podObjects) {
      if (!drop(t.fromPod(pod))) break;
    }
  }
  while (t.bytes > bounds.maxBytes) {
    const withCounters = [...t.pods.values()].filter((p) =>
      [...p.servers.values()].some((s) => t.candidate(s, false))
    );
    const pod = biggest(withCounters, (p) => p.counterBytes) ??
      biggest([...t.pods.values()].filter((p) => t.fromPod(p)), (p) => p.bytes);
    if (!pod || !drop(t.fromPod(pod))) break;
  }
  return victims;
}
