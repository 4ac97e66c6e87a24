/**
 * The source repository and commit of a stored binary, from its prefixes' info.json
 * (`source_url`, `source_commit`: the server's `X-Art-Coverage-Source-*` headers). What a pod
 * wrote there is hostile: a value that is not a bounded single-line string is left out.
 */

import { z } from "zod";

/** Longest source URL and commit taken. */
export const MAX_SOURCE_URL = 2048;
export const MAX_SOURCE_COMMIT = 256;

// deno-lint-ignore no-control-regex
const oneLine = (max: number) => z.string().min(1).max(max).regex(/^[^\x00-\x1f\x7f]+$/);

const Facts = z.object({
  source_url: oneLine(MAX_SOURCE_URL).optional().catch(undefined),
  source_commit: oneLine(MAX_SOURCE_COMMIT).optional().catch(undefined),
});

/** A binary's source: either may be missing. */
export interface SourceFacts {
  url?: string;
  commit?: string;
}

/**
 * The source facts of an info.json's bytes; {} when there are none (or it is not JSON).
 *
 * @example parseSourceFacts(new TextEncoder().encode('{"source_url":"https://x/r","source_commit":"ab"}')) // { url: "https://x/r", commit: "ab" }
 */
export function parseSourceFacts(bytes: Uint8Array | null): SourceFacts {
  if (bytes === null) return {};
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return {};
  }
  const r = Facts.safeParse(v);
  if (!r.success) return {};
  const out: SourceFacts = {};
  if (r.data.source_url !== undefined) out.url = r.data.source_url;
  if (r.data.source_commit !== undefined) out.commit = r.data.source_commit;
  return out;
}

/** One key per (url, commit) pair. @example sourceKey({ url: "u", commit: "c" }) // "u\u0000c" */
export function sourceKey(f: SourceFacts): string {
  return `${f.url ?? ""}\0${f.commit ?? ""}`;
}
