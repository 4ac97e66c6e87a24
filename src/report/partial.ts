/**
 * A report partial: what `report --shard K/N --format covdata --out DIR` writes beside the merged
 * covdata files (`covmeta.<hash>`, `covcounters.<hash>.0.1`, `covtimeline.<hash>.0` when the
 * prefixes held timelines), so that `report` can read a directory or S3 prefix of partials as a
 * source and give the figures one unsharded report gives. `go tool covdata` reads only the
 * `covmeta.`/`covcounters.` files, so it ignores this one and can merge the partials too.
 *
 * The facts are hostile input like any stored object: validated here, bounded by the read's
 * byte limit, and a bad one is that partial's error.
 */

import { z } from "zod";

/** The name of a partial's facts file. */
export const PARTIAL_FILE = "report-partial.json";
/** The `kind` a facts file carries. */
export const PARTIAL_KIND = "coverage-collector/report-partial";

const Name = z.string().max(4096);
const Count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** One merged binary of a partial: the counts and sets the report's figures are made of. */
export const PartialBinary = z.object({
  hash: z.string().regex(/^[0-9a-f]{32}$/),
  names: z.array(Name),
  prefixes: Count,
  processes: Count,
  nodes: z.array(Name),
  pods: z.array(Name),
});
export type PartialBinary = z.infer<typeof PartialBinary>;

/** The facts file of a partial. */
export const PartialFacts = z.object({
  kind: z.literal(PARTIAL_KIND),
  version: z.literal(1),
  /** The shard it holds (absent: a merge of partials, or the whole store). */
  shard: z.object({ k: Count, n: Count }).optional(),
  /** Prefixes in the store listed, and taken by this partial (the filter and the shard). */
  found: Count,
  taken: Count,
  binaries: z.array(PartialBinary),
  errors: z.array(z.object({ prefix: Name, error: Name })),
});
export type PartialFacts = z.infer<typeof PartialFacts>;

/** A facts file that cannot be taken; the message names the key and what is wrong. */
export class PartialError extends Error {
  constructor(key: string, what: string) {
    super(`${key}: ${what}`);
    this.name = "PartialError";
  }
}

/**
 * The facts of a partial's bytes, or a PartialError naming `key`.
 *
 * @example parsePartial(bytes, "shard-0/report-partial.json").binaries[0].prefixes
 */
export function parsePartial(bytes: Uint8Array, key: string): PartialFacts {
  let json;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (e) {
    throw new PartialError(key, `not JSON (${e instanceof Error ? e.name : "error"})`);
  }
  const r = PartialFacts.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new PartialError(
      key,
      `not a report partial: ${i.path.join(".") || "(top)"}: ${i.message}`,
    );
  }
  const seen = new Set<string>();
  for (const b of r.data.binaries) {
    if (seen.has(b.hash)) throw new PartialError(key, `binary ${b.hash} listed twice`);
    seen.add(b.hash);
  }
  return r.data;
}
