/**
 * The facts the HTML report shows per binary, gathered from each prefix's stored path and
 * info.json: where its source is (`source_url`, `source_commit`), who runs it (the pod's workload
 * and controller), and in which namespaces and on which nodes. Every value is hostile input: a
 * malformed field is left out, each list keeps at most MAX_VALUES distinct values (the rest are
 * counted as `others`), so a store of any size costs a bounded summary.
 */

import { z } from "zod";
import { Kind, Name } from "../kube/workload.ts";
import type { StoredPrefix } from "./prefixes.ts";

/** Distinct values kept per list. */
export const MAX_VALUES = 200;

const opt = <T extends z.ZodType>(t: T) => t.optional().catch(undefined);
const Text = (max: number) => z.string().min(1).max(max);

/** The info.json fields the summary reads; anything malformed counts as absent. */
const InfoSummaryFields = z.object({
  source_url: opt(Text(2048)),
  source_commit: opt(Text(256)),
  controllerKind: opt(Kind),
  controllerName: opt(Name),
  workloadKind: opt(Kind),
  workloadName: opt(Name),
});

/** One list of the summary: values by how many prefixes named them, and the count left out. */
export interface CountedList {
  values: [string, number][];
  others: number;
}

/** The summary of one binary, as the page's data carries it. */
export interface FactsJson {
  sources: CountedList;
  owners: CountedList;
  namespaces: CountedList;
  nodes: CountedList;
  /** Prefixes whose info.json was missing or not a JSON object. */
  withoutInfo: number;
}

class Counted {
  readonly #m = new Map<string, number>();
  #others = 0;
  add(v: string): void {
    const have = this.#m.get(v);
    if (have !== undefined) this.#m.set(v, have + 1);
    else if (this.#m.size < MAX_VALUES) this.#m.set(v, 1);
    else this.#others++;
  }
  toJSON(): CountedList {
    const values = [...this.#m.entries()].sort((a, b) =>
      b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)
    );
    return { values, others: this.#others };
  }
}

function parsed(bytes: Uint8Array | null): z.infer<typeof InfoSummaryFields> | undefined {
  if (bytes === null) return undefined;
  try {
    const r = InfoSummaryFields.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Accumulates the facts of a binary's prefixes.
 *
 * @example const f = new BinaryFacts(); f.add(prefix, infoBytes); f.toJSON().owners.values // [["ns/Deployment/web", 2]]
 */
export class BinaryFacts {
  readonly #sources = new Counted();
  readonly #owners = new Counted();
  readonly #namespaces = new Counted();
  readonly #nodes = new Counted();
  #withoutInfo = 0;

  add(p: StoredPrefix, info: Uint8Array | null): void {
    if (p.node !== undefined) this.#nodes.add(p.node);
    if (p.namespace !== undefined) this.#namespaces.add(p.namespace);
    else if (p.node !== undefined) this.#namespaces.add("_host_");
    const f = parsed(info);
    if (f === undefined) {
      this.#withoutInfo++;
      return;
    }
    if (f.source_url !== undefined || f.source_commit !== undefined) {
      this.#sources.add(`${f.source_url ?? "(no url)"} @ ${f.source_commit ?? "(no commit)"}`);
    }
    if (p.namespace !== undefined) {
      const w = f.workloadKind && f.workloadName
        ? `${f.workloadKind}/${f.workloadName}`
        : `Pod/${p.pod}`;
      const c = f.controllerKind && f.controllerName &&
          `${f.controllerKind}/${f.controllerName}` !== w
        ? ` (via ${f.controllerKind}/${f.controllerName})`
        : "";
      this.#owners.add(`${p.namespace}/${w}${c}`);
    }
  }

  toJSON(): FactsJson {
    return {
      sources: this.#sources.toJSON(),
      owners: this.#owners.toJSON(),
      namespaces: this.#namespaces.toJSON(),
      nodes: this.#nodes.toJSON(),
      withoutInfo: this.#withoutInfo,
    };
  }
}
