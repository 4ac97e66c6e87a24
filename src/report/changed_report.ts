/**
 * `report --diff-base REF --repo DIR` and `report --diff-file FILE`: the diff (git's, or a file's),
 * parsed, and each binary's changed lines that were run and not run.
 */

import { errorText } from "../errors.ts";
import type { ChangedCoverage } from "./changed_coverage.ts";
import { changedOf } from "./changed_coverage.ts";
import { gitDiff } from "./git_diff.ts";
import { linesOf } from "./lines.ts";
import { type PathFlags, pathMapper } from "./paths.ts";
import type { ReadResult } from "./read.ts";
import { MAX_DIFF_CHARS, parseUnifiedDiff } from "./unified_diff.ts";

/** The diff could not be had or read: names the flag, the file or ref, and what was wrong. */
export class ChangedDiffError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ChangedDiffError";
  }
}

export type DiffSource = { base: string; repo: string } | { file: string };

/** Largest diff file read. */
export const MAX_DIFF_FILE_BYTES = 64 << 20;

async function diffText(src: DiffSource, signal?: AbortSignal): Promise<string> {
  if ("base" in src) {
    try {
      return await gitDiff(src.repo, src.base, { signal, maxBytes: MAX_DIFF_FILE_BYTES });
    } catch (e) {
      throw new ChangedDiffError(`--diff-base: ${errorText(e)}`);
    }
  }
  let file;
  try {
    file = await Deno.open(src.file);
    const st = await file.stat();
    if (!st.isFile) throw new Error("is not a file");
    if (st.size > MAX_DIFF_FILE_BYTES) {
      throw new Error(`is larger than ${MAX_DIFF_FILE_BYTES} bytes`);
    }
    const bytes = new Uint8Array(st.size);
    let at = 0;
    while (at < bytes.length) {
      const n = await file.read(bytes.subarray(at));
      if (n === null) break;
      at += n;
    }
    return new TextDecoder().decode(bytes.subarray(0, at));
  } catch (e) {
    throw new ChangedDiffError(`--diff-file ${src.file}: ${errorText(e)}`);
  } finally {
    file?.close();
  }
}

/**
 * The incremental coverage of `read` against the diff of `src`, paths mapped by `flags` as the
 * other line formats map them.
 *
 * @example await changedReport(read, { base: "origin/main", repo: "." }, {})
 */
export async function changedReport(
  read: ReadResult,
  src: DiffSource,
  flags: PathFlags,
  signal?: AbortSignal,
): Promise<ChangedCoverage> {
  const text = await diffText(src, signal);
  const name = "base" in src ? `git diff ${src.base} in ${src.repo}` : src.file;
  let diff;
  try {
    if (text.length > MAX_DIFF_CHARS) throw new Error("too large");
    diff = parseUnifiedDiff(text);
  } catch (e) {
    throw new ChangedDiffError(`${name}: ${errorText(e)}`);
  }
  const modules = read.binaries.flatMap((b) => b.profile.meta.packages.map((p) => p.modulePath));
  const mapper = pathMapper(flags, modules);
  return {
    diff: name,
    changedFiles: diff.filter((f) => f.lines.length > 0).length,
    changedLines: diff.reduce((n, f) => n + f.lines.length, 0),
    binaries: read.binaries.map((b) => ({
      binary: [...b.names].sort().join(","),
      hash: b.hash,
      ...changedOf(diff, linesOf([b], mapper)),
    })),
  };
}
