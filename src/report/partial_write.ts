/**
 * `--format covdata --out DIR`: the merged binaries in covdata form (what `go tool covdata`
 * reads), plus, for a shard or a merge of partials, the partial's facts file (partial.ts) that
 * lets `report` read the directory back as a source with every figure.
 */

import { encodeCounters } from "../coverage/encode_counters.ts";
import { flatUnits } from "../coverage/flat_units.ts";
import { encodeTimeline, timelineName } from "../coverage/timeline.ts";
import { PARTIAL_FILE, PARTIAL_KIND, type PartialFacts } from "./partial.ts";
import type { ReadResult } from "./read.ts";
import type { Shard } from "./shard.ts";

/**
 * The facts of what was read, as a partial records them (names and sets sorted: the file is the
 * same for the same store).
 *
 * @example partialFacts(await readStore(store, { shard }), shard).taken
 */
export function partialFacts(r: ReadResult, shard?: Shard): PartialFacts {
  const sorted = (s: Set<string>) => [...s].sort();
  return {
    kind: PARTIAL_KIND,
    version: 1,
    ...(shard === undefined ? {} : { shard: { k: shard.k, n: shard.n } }),
    found: r.found,
    taken: r.taken,
    binaries: r.binaries.map((b) => ({
      hash: b.hash,
      names: sorted(b.names),
      prefixes: b.prefixes,
      processes: b.processes,
      nodes: sorted(b.nodes),
      pods: sorted(b.pods),
    })),
    errors: r.errors,
  };
}

/** Stores one file of the output (a directory's, or an S3 location's). */
export type PutFile = (name: string, bytes: Uint8Array) => Promise<void>;

/**
 * Writes `covmeta.<hash>` and `covcounters.<hash>.0.1` per merged binary through `put`, and with
 * `facts` its `covtimeline.<hash>.0` (when it has a timeline) and, last, the facts file (a
 * partial is whole once its facts file is there).
 *
 * @example await writeCovdata(put, result, partialFacts(result, shard));
 */
export async function writeCovdata(put: PutFile, r: ReadResult, facts?: PartialFacts) {
  for (const b of r.binaries) {
    await put(`covmeta.${b.hash}`, b.profile.metaBytes);
    await put(`covcounters.${b.hash}.0.1`, encodeCounters(b.profile));
    if (facts && b.timeline) {
      await put(timelineName(b.hash, 0), encodeTimeline(b.timeline, flatUnits(b.profile.meta)));
    }
  }
  if (facts) await put(PARTIAL_FILE, new TextEncoder().encode(JSON.stringify(facts) + "\n"));
}
