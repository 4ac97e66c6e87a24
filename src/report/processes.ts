/**
 * One process seen in two prefixes. Counter data is cumulative since the process started, so a
 * process stored twice (a collector restarted before it kept prefixes across restarts, or its
 * state dir lost) must be merged by the maximum of each counter, not added.
 *
 * "One process", what `report` merges by maximum: two counter sets (a `<hash>.<pid>` of a
 * prefix) are one process when
 * - their prefixes have the same path but for the discovery time (node; namespace, pod,
 *   container and image, or `_host_`; binary), and they have the same meta hash and the same PID
 *   in the counter file names; and
 * - their info.json files say it is one process:
 *   - both record `hostStartTime`: the same `hostPid`, `bootId` and `hostStartTime`, as /proc
 *     gave them (a reused PID starts later; a reboot changes the boot ID), or
 *   - one does not (written before start times were recorded): the same `hostPid` and the same
 *     `containerId` (a container ID names one life of one container, and a host PID within it
 *     is one process unless the PID space wraps while it runs), and the earlier prefix's counters
 *     are nowhere above the later one's (a process's counters only grow). A host process
 *     without a start time is never merged: after a reboot the same PID may run the same binary.
 * Anything else counts as different processes and is added, as before: doubt costs a sum (what
 * report always did), never a process's data.
 */

import { z } from "zod";
import type { ParsedCounters } from "../coverage/counters.ts";
import { latestOf } from "../coverage/profile.ts";
import type { StoredPrefix } from "./prefixes.ts";

/** Counter sets held for merging at most; past it, each is counted as its own process. */
export const MAX_HELD = 10_000;
/** Largest info.json read for its facts. */
export const MAX_INFO_BYTES = 64 << 10;

const opt = <T extends z.ZodType>(t: T) => t.optional().catch(undefined);

/** The facts of info.json that name a process; a missing or malformed one is left out. */
export const InfoFacts = z.object({
  hostPid: opt(z.number().int().positive()),
  hostStartTime: opt(z.string().regex(/^\d{1,20}$/)),
  bootId: opt(z.string().regex(/^[0-9a-f-]{1,64}$/)),
  containerId: opt(z.string().min(1).max(256)),
});
export type InfoFacts = z.infer<typeof InfoFacts>;

/**
 * The process facts of an info.json's bytes; {} when it is not a JSON object.
 *
 * @example parseInfoFacts(new TextEncoder().encode('{"hostPid":7}')) // { hostPid: 7 }
 */
export function parseInfoFacts(bytes: Uint8Array | null): InfoFacts {
  if (bytes === null) return {};
  try {
    const r = InfoFacts.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return r.success ? r.data : {};
  } catch {
    return {};
  }
}

/**
 * What the facts of two prefixes' info.json say (see the file's comment): the same process,
 * different ones, or the same if the later counters are nowhere below the earlier.
 *
 * @example sameProcess({ hostPid: 7, hostStartTime: "9", bootId: "b" }, { hostPid: 7, hostStartTime: "9", bootId: "b" }) // "same"
 */
export function sameProcess(a: InfoFacts, b: InfoFacts): "same" | "different" | "if-growing" {
  if (a.hostPid === undefined || a.hostPid !== b.hostPid) return "different";
  if (a.hostStartTime !== undefined && b.hostStartTime !== undefined) {
    const sameBoot = a.bootId !== undefined && a.bootId === b.bootId;
    return sameBoot && a.hostStartTime === b.hostStartTime ? "same" : "different";
  }
  if (a.containerId === undefined || a.containerId !== b.containerId) return "different";
  return "if-growing";
}

/**
 * True when no counter of `earlier` is above the same counter of `later` (a function `later`
 * lacks counts as all zero).
 *
 * @example grewInto(first, second) // true for two snapshots of one process
 */
export function grewInto(earlier: ParsedCounters, later: ParsedCounters): boolean {
  const byKey = new Map(later.functions.map((f) => [`${f.pkgIdx}:${f.funcIdx}`, f.counters]));
  return earlier.functions.every((f) => {
    const l = byKey.get(`${f.pkgIdx}:${f.funcIdx}`);
    return f.counters.every((v, i) => v === 0 || (l !== undefined && v <= (l[i] ?? 0)));
  });
}

/**
 * The key two counter sets of one process share: the prefix path without its discovery time,
 * and `<hash>.<pid>`; undefined for a prefix outside the layout (it has no time to leave out).
 *
 * @example twinKey(prefix, "<hash>.1") // "n/ns/pod/c/*\/img/app|<hash>.1"
 */
export function twinKey(p: StoredPrefix, id: string): string | undefined {
  if (!p.discovered) return undefined;
  const s = p.dir.split("/");
  s[s.length - (p.namespace === undefined ? 2 : 3)] = "*";
  return `${s.join("/")}|${id}`;
}

/** One counter set held until every prefix is read. */
interface Held<B> {
  key: string;
  dir: string;
  discovered: number;
  facts: InfoFacts;
  counters: ParsedCounters;
  binary: B;
}

/**
 * The counter sets that may be one process seen in several prefixes: which they are (from the
 * listing, before any read), held while the store is read, then merged per process.
 *
 * @example
 * const twins = new Twins(taken);
 * if (twins.has(p, id)) twins.hold(p, id, facts, counters, b); else add(b, counters);
 * for (const { binary, counters } of twins.processes()) add(binary, counters);
 */
export class Twins<B> {
  readonly #count = new Map<string, number>();
  readonly #held: Held<B>[] = [];

  constructor(prefixes: StoredPrefix[]) {
    for (const p of prefixes) {
      for (const id of p.counters.keys()) {
        const k = twinKey(p, id);
        if (k !== undefined) this.#count.set(k, (this.#count.get(k) ?? 0) + 1);
      }
    }
  }

  /** True when this counter set shares its key with another and there is room to hold it. */
  has(p: StoredPrefix, id: string): boolean {
    const k = twinKey(p, id);
    return k !== undefined && (this.#count.get(k) ?? 0) > 1 && this.#held.length < MAX_HELD;
  }

  /** True when any counter set of the prefix is a twin (its info.json is then worth reading). */
  any(p: StoredPrefix): boolean {
    return [...p.counters.keys()].some((id) => this.has(p, id));
  }

  hold(p: StoredPrefix, id: string, facts: InfoFacts, counters: ParsedCounters, binary: B): void {
    const key = twinKey(p, id)!;
    this.#held.push({
      key,
      dir: p.dir,
      discovered: p.discovered!.getTime(),
      facts,
      counters,
      binary,
    });
  }

  /** The processes among the held counter sets, each with its counters merged by maximum. */
  *processes(): Iterable<{ binary: B; counters: ParsedCounters; prefixes: number }> {
    const sorted = [...this.#held].sort((a, b) =>
      a.key < b.key ? -1 : a.key > b.key ? 1 : a.discovered - b.discovered ||
        (a.dir < b.dir ? -1 : 1)
    );
    let i = 0;
    while (i < sorted.length) {
      let j = i;
      while (j < sorted.length && sorted[j].key === sorted[i].key) j++;
      const procs: { first: Held<B>; counters: ParsedCounters; prefixes: number }[] = [];
      for (const h of sorted.slice(i, j)) {
        const into = procs.find((c) => {
          const v = sameProcess(c.first.facts, h.facts);
          return v === "same" || (v === "if-growing" && grewInto(c.counters, h.counters));
        });
        if (!into) procs.push({ first: h, counters: h.counters, prefixes: 1 });
        else {
          into.counters = latestOf([into.counters, h.counters]);
          into.prefixes++;
        }
      }
      for (const c of procs) {
        yield { binary: c.first.binary, counters: c.counters, prefixes: c.prefixes };
      }
      i = j;
    }
  }
}
