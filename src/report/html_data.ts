/**
 * What the HTML page's script reads: per binary its files (figures, functions, blocks) and facts,
 * and the source of each file found under `--source` (each once, however many binaries name it).
 * It goes into the page as JSON in `<script type="application/json">` elements with every `<`
 * escaped, so no name or source text can end the element or become markup.
 */

import type { FactsJson } from "./info_summary.ts";
import { filesOf } from "./html_files.ts";
import type { Report } from "./model.ts";
import type { MergedBinary } from "./read.ts";
import type { SourceRoots } from "./source_files.ts";

/** One file as the page's data carries it (short keys: the data of 12,000 functions is MBs). */
export interface DataFile {
  f: string;
  pkg: string;
  s: number;
  c: number;
  p: string;
  /** Index of its source element, or null with `why`. */
  src: number | null;
  why: string | null;
  fns: [string, number, number, number, string][];
  bl: number[];
}

export interface PageData {
  binaries: { hash: string; files: DataFile[]; facts: FactsJson | null }[];
  /** Source texts, by the index files name. */
  sources: string[];
}

/**
 * The page's data of `report` (built from `binaries`, in the same order); sources from `roots`.
 *
 * @example const data = await pageData(report, read.binaries, await SourceRoots.open(["."]));
 */
export async function pageData(
  report: Report,
  binaries: MergedBinary[],
  roots: SourceRoots,
): Promise<PageData> {
  const sources: string[] = [];
  const found = new Map<string, { src: number | null; why: string | null }>();
  const out: PageData["binaries"] = [];
  for (let i = 0; i < binaries.length; i++) {
    const files: DataFile[] = [];
    for (const f of filesOf(binaries[i], report.binaries[i])) {
      const key = `${f.module}\0${f.file}`;
      let where = found.get(key);
      if (!where) {
        const r = await roots.find(f.file, f.module);
        where = "text" in r
          ? { src: sources.push(r.text) - 1, why: null }
          : { src: null, why: r.why };
        found.set(key, where);
      }
      files.push({
        f: f.file,
        pkg: f.pkg,
        s: f.statements,
        c: f.covered,
        p: f.percent,
        ...where,
        fns: f.functions,
        bl: f.blocks,
      });
    }
    out.push({ hash: binaries[i].hash, files, facts: binaries[i].facts?.toJSON() ?? null });
  }
  return { binaries: out, sources };
}

/**
 * JSON for a `<script type="application/json">` element: `<` written `\u003c` (a name or source
 * line holding `</script>` stays data).
 *
 * @example scriptJson({ a: "</script>" }) // '{"a":"\\u003c/script>"}'
 */
export function scriptJson(v: unknown): string {
  // Also every character a terminal acts on (the page may be read with `cat`): JSON.parse reads
  // `\uXXXX` back as the character.
  return JSON.stringify(v).replace(
    UNSAFE_OR_LT,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

// deno-lint-ignore no-control-regex
const UNSAFE_OR_LT = /[<\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
