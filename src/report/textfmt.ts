/**
 * `report --format textfmt`: Go's legacy coverprofile (`file:line.col,line.col stmts count`, one
 * block a line), which `go tool cover` reads line by line with no escape of any kind. A file name
 * that cannot sit on such a line (a newline forges a block of another file; controls reach the
 * terminal of whoever reads it) is left out with its blocks and named, never written.
 */

import type { CounterMode } from "../coverage/meta.ts";
import type { Profile } from "../coverage/profile.ts";
import { UnitTable } from "../coverage/summary.ts";
import { firstUnsafe, safeText } from "../terminal_text.ts";
import type { MergedBinary } from "./read.ts";

/** Longest file name written: PATH_MAX, well inside go tool cover's 64 KiB line limit. */
export const MAX_TEXTFMT_NAME_BYTES = 4096;

/** A file whose blocks were left out of the profile, and why. */
export interface RefusedFile {
  binary: string;
  hash: string;
  package: string;
  file: string;
  blocks: number;
  why: string;
}

/**
 * Why `file` cannot be written as the name of a profile line, or undefined when it can.
 *
 * @example textfmtNameProblem("x/a.go\nx/b.go:1.1,2.1 1 1") // "holds control character U+000A at 6"
 */
export function textfmtNameProblem(file: string): string | undefined {
  if (file === "") return "is empty";
  const at = firstUnsafe(file);
  if (at >= 0) {
    const code = file.charCodeAt(at).toString(16).toUpperCase().padStart(4, "0");
    return `holds control character U+${code} at ${at}`;
  }
  const bytes = new TextEncoder().encode(file).length;
  if (bytes > MAX_TEXTFMT_NAME_BYTES) {
    return `is ${bytes} bytes long (at most ${MAX_TEXTFMT_NAME_BYTES})`;
  }
  return undefined;
}

function keptProfile(b: MergedBinary, refused: RefusedFile[]): Profile {
  const p = b.profile;
  if (!p.meta.packages.some((pkg) => pkg.functions.some((f) => textfmtNameProblem(f.file)))) {
    return p;
  }
  const binary = [...b.names].sort().join(",");
  const funcs: Profile["funcs"] = [];
  const packages = p.meta.packages.map((pkg, pi) => {
    const out: Profile["funcs"][number] = [];
    const noted = new Map<string, RefusedFile>();
    const functions = pkg.functions.filter((fn, fi) => {
      const why = textfmtNameProblem(fn.file);
      if (why === undefined) {
        out.push(p.funcs[pi][fi]);
        return true;
      }
      let r = noted.get(fn.file);
      if (!r) {
        r = { binary, hash: b.hash, package: pkg.path, file: fn.file, blocks: 0, why };
        noted.set(fn.file, r);
        refused.push(r);
      }
      r.blocks += fn.units.length;
      return false;
    });
    funcs.push(out);
    return { ...pkg, functions };
  });
  return { ...p, meta: { ...p.meta, packages }, funcs };
}

/**
 * The profile of `binaries` (all of counter mode `mode`), and the files left out of it.
 *
 * @example const { text, refused } = textfmtOf(read.binaries, "set");
 */
export function textfmtOf(
  binaries: MergedBinary[],
  mode: CounterMode,
): { text: string; refused: RefusedFile[] } {
  const refused: RefusedFile[] = [];
  const t = new UnitTable(mode);
  for (const b of binaries) t.addProfile(keptProfile(b, refused));
  return { text: t.textfmt(), refused };
}

/**
 * One line about a refused file, safe for a terminal (the name is escaped and bounded).
 *
 * @example refusedLine(r) // "report: textfmt: binary app (0123456789ab) package x/p: file ..."
 */
export function refusedLine(r: RefusedFile): string {
  const name = r.file.length > 200 ? `${r.file.slice(0, 200)}…` : r.file;
  return `report: textfmt: binary ${safeText(r.binary)} (${r.hash.slice(0, 12)}) package ${
    safeText(r.package.slice(0, 200))
  }: file "${safeText(name)}" ${r.why}; its ${r.blocks} blocks are left out`;
}
