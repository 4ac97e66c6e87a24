/**
 * The workload of each pod on the node, as the pod watch last saw it: the kube part writes it,
 * collectors read it for info.json. A deleted pod's entry stays (its final pull may be the first
 * to write info.json), so the map is bounded: past `max` pods the least recently set goes.
 */

import type { Workload } from "./workload.ts";

/**
 * Pod UID → workload.
 *
 * @example const w = new PodWorkloads(); w.set("uid-1", { kind: "Pod", name: "p" }); w.get("uid-1")?.kind // "Pod"
 */
export class PodWorkloads {
  #byUid = new Map<string, Workload>();

  constructor(readonly max = 10_000) {}

  get size(): number {
    return this.#byUid.size;
  }

  get(uid: string): Workload | undefined {
    return this.#byUid.get(uid);
  }

  /** Records the pod's workload (the newest entries are kept). */
  set(uid: string, w: Workload): void {
    this.#byUid.delete(uid);
    this.#byUid.set(uid, w);
    if (this.#byUid.size > this.max) this.#byUid.delete(this.#byUid.keys().next().value!);
  }
}
