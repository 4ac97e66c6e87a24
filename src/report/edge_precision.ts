/**
 * How precise a window edge is: a step first seen at pull `at`, not seen at pull `after`, covered
 * its units somewhere in `(after, at]`; when an edge lies strictly inside, the step's side of the
 * edge is not known (it is counted where `at` falls). A first-pull step (`after` null) has no
 * start: it straddles every edge before its `at`.
 */

import type { TimelineStep } from "../coverage/timeline.ts";

/** How precise a window edge is: the steps whose interval holds the edge strictly inside. */
export interface EdgePrecision {
  /** Statements of steps straddling the edge (counted where their `at` falls). */
  statements: number;
  /** The widest straddling pull interval, ms (0: no step straddles; the edge is exact). */
  widestMs: number;
  /** Statements of first-pull steps straddling it (no interval start known). */
  firstPull: number;
}

/**
 * The precision of each edge (ms times) over `steps` (`stmts[i]` statements first covered at step
 * i; steps without any are passed by), in O((S + E) log S).
 *
 * @example edgePrecision([{ after: 0, at: 10, units: [0] }], [2], [5]) // [{ statements: 2, widestMs: 10, firstPull: 0 }]
 */
export function edgePrecision(
  steps: TimelineStep[],
  stmts: number[],
  edges: number[],
): EdgePrecision[] {
  const timed = steps.map((s, i) => ({ s, n: stmts[i] })).filter((x) => x.n > 0);
  const bounded = timed.filter((x) => x.s.after !== null);
  const first = timed.filter((x) => x.s.after === null).sort((a, b) => a.s.at - b.s.at);
  const byAfter = [...bounded].sort((a, b) => a.s.after! - b.s.after!);
  const byAt = [...bounded].sort((a, b) => a.s.at - b.s.at);
  const firstSuffix = new Array<number>(first.length + 1).fill(0);
  for (let i = first.length - 1; i >= 0; i--) firstSuffix[i] = firstSuffix[i + 1] + first[i].n;
  const order = edges.map((_, i) => i).sort((a, b) => edges[a] - edges[b]);
  const out = new Array<EdgePrecision>(edges.length);
  // Max-heap of widths of steps with after < edge; a top whose at <= edge is done for good.
  const heap: { w: number; at: number }[] = [];
  const push = (x: { w: number; at: number }) => {
    heap.push(x);
    for (let i = heap.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (heap[p].w >= heap[i].w) break;
      [heap[p], heap[i]] = [heap[i], heap[p]];
      i = p;
    }
  };
  const pop = () => {
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    for (let i = 0;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < heap.length && heap[l].w > heap[m].w) m = l;
      if (r < heap.length && heap[r].w > heap[m].w) m = r;
      if (m === i) break;
      [heap[m], heap[i]] = [heap[i], heap[m]];
      i = m;
    }
  };
  let ia = 0, it = 0, iff = 0, sumAfter = 0, sumAt = 0;
  for (const e of order) {
    const edge = edges[e];
    while (ia < byAfter.length && byAfter[ia].s.after! < edge) {
      const x = byAfter[ia++];
      sumAfter += x.n;
      push({ w: x.s.at - x.s.after!, at: x.s.at });
    }
    while (it < byAt.length && byAt[it].s.at <= edge) sumAt += byAt[it++].n;
    while (heap.length > 0 && heap[0].at <= edge) pop();
    while (iff < first.length && first[iff].s.at <= edge) iff++;
    out[e] = {
      statements: sumAfter - sumAt + firstSuffix[iff],
      widestMs: heap.length > 0 ? heap[0].w : 0,
      firstPull: firstSuffix[iff],
    };
  }
  return out;
}
