/**
 * A unified diff (`git diff`, `diff -u`) as the lines each file gained on its new side: what
 * `report --diff-base` / `--diff-file` measures. Pure and bounded: the text is hostile input (a
 * file a user passed, or a repository's diff), so a malformed one is a DiffParseError naming the
 * line, and the work is one pass over the text.
 */

/** One file of a diff: its new-side path and the new-side line numbers added or changed. */
export interface ChangedFile {
  /** Path on the new side (the old one for a deleted file), without git's `b/` prefix. */
  path: string;
  /** Path on the old side, when it differs (a rename or copy). */
  oldPath?: string;
  status: "modified" | "added" | "deleted" | "renamed" | "copied";
  /** A binary file: no lines. */
  binary: boolean;
  /** Added lines of the new side, ascending, each once. */
  lines: number[];
}

export type DiffParseErrorKind = "too-large" | "hunk" | "header" | "path" | "combined";

/** A diff that is not one: names the line (1-based) and what was wrong. */
export class DiffParseError extends Error {
  constructor(readonly kind: DiffParseErrorKind, readonly line: number, detail: string) {
    super(`line ${line}: ${detail}`);
    this.name = "DiffParseError";
  }
}

/** Largest diff text parsed, in UTF-16 units (a diff past it is refused, not cut). */
export const MAX_DIFF_CHARS = 256 << 20;
/** Longest path taken, in characters. */
export const MAX_DIFF_PATH = 4096;
/** Largest line number or count of a hunk header. */
export const MAX_DIFF_LINE = 2 ** 31 - 1;

const HUNK = /^@@ -(\d{1,10})(?:,(\d{1,10}))? \+(\d{1,10})(?:,(\d{1,10}))? @@/;
const ESCAPES: Record<string, number> = {
  a: 7,
  b: 8,
  t: 9,
  n: 10,
  v: 11,
  f: 12,
  r: 13,
  '"': 34,
  "\\": 92,
};

/** Git's C-style quoted path (`"a/x\tb"`, octal bytes of UTF-8), or undefined when not one. */
function unquote(s: string): string | undefined {
  if (s.length < 2 || s[0] !== '"' || s[s.length - 1] !== '"') return undefined;
  const bytes: number[] = [];
  const enc = new TextEncoder();
  for (let i = 1; i < s.length - 1; i++) {
    const c = s[i];
    if (c !== "\\") {
      const cp = s.codePointAt(i)!;
      if (cp > 0xffff) i++;
      bytes.push(...enc.encode(String.fromCodePoint(cp)));
      continue;
    }
    const n = s[++i];
    if (n !== undefined && n in ESCAPES) bytes.push(ESCAPES[n]);
    else if (/^[0-3][0-7]{2}$/.test(s.slice(i, i + 3))) {
      bytes.push(parseInt(s.slice(i, i + 3), 8));
      i += 2;
    } else return undefined;
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** The path of a `---`/`+++` line: quoted or not, a tab-separated timestamp dropped. */
function headerPath(rest: string): string | undefined {
  if (rest.startsWith('"')) {
    const end = rest.lastIndexOf('"');
    return unquote(rest.slice(0, end + 1));
  }
  const tab = rest.indexOf("\t");
  return tab >= 0 ? rest.slice(0, tab) : rest.replace(/\r$/, "");
}

/** The two paths of `diff --git a/P b/P` when they are the same (unquoted) or both quoted. */
function gitHeaderPaths(rest: string): [string, string] | undefined {
  if (rest.startsWith('"')) {
    const mid = rest.indexOf('" ', 1);
    if (mid < 0) return undefined;
    const a = unquote(rest.slice(0, mid + 1));
    const b = headerPath(rest.slice(mid + 2));
    return a !== undefined && b !== undefined ? [a, b] : undefined;
  }
  const s = rest.replace(/\r$/, "");
  // Unquoted and split by one space: ambiguous unless both halves name the same path.
  if (s.length % 2 === 1 && s.startsWith("a/")) {
    const half = (s.length - 1) / 2;
    const a = s.slice(0, half), b = s.slice(half + 1);
    if (s[half] === " " && b.startsWith("b/") && a.slice(2) === b.slice(2)) return [a, b];
  }
  return undefined;
}

interface Building {
  git: boolean;
  oldPath?: string;
  newPath?: string;
  /** From `rename from`/`copy from` lines, or the `diff --git` line. */
  headerOld?: string;
  headerNew?: string;
  status: ChangedFile["status"];
  binary: boolean;
  sawMinus: boolean;
  sawPlus: boolean;
  lines: number[];
}

function strip(p: string, prefix: string, git: boolean): string {
  return git && p.startsWith(prefix) ? p.slice(prefix.length) : p;
}

function number(s: string | undefined, at: number, what: string): number {
  if (s === undefined) return 1;
  const n = Number(s);
  if (n > MAX_DIFF_LINE) {
    throw new DiffParseError("hunk", at, `${what} ${s} is past ${MAX_DIFF_LINE}`);
  }
  return n;
}

/**
 * The files of a unified diff and their added lines (new side). Deleted files and binary files
 * are listed with no lines; renames and copies carry both paths; `\ No newline` markers, index,
 * mode and similarity lines and text around the diff (a mail's headers) are passed over. Each
 * hunk must hold exactly the lines its header counts.
 *
 * @example parseUnifiedDiff("--- a/x.go\n+++ b/x.go\n@@ -3,0 +4,2 @@\n+a\n+b\n")[0].lines // [4, 5]
 */
export function parseUnifiedDiff(text: string): ChangedFile[] {
  if (text.length > MAX_DIFF_CHARS) {
    throw new DiffParseError(
      "too-large",
      0,
      `the diff is longer than ${MAX_DIFF_CHARS} characters`,
    );
  }
  const byPath = new Map<string, ChangedFile>();
  let cur: Building | undefined;
  let oldLeft = 0, newLeft = 0, newLine = 0, hunkAt = 0;
  const inHunk = () => oldLeft > 0 || newLeft > 0;

  const finish = (at: number) => {
    if (!cur) return;
    const c = cur;
    cur = undefined;
    if (c.sawMinus !== c.sawPlus) {
      throw new DiffParseError("header", at, "a --- line without its +++ line, or the reverse");
    }
    let oldP = c.oldPath ?? c.headerOld;
    let newP = c.newPath ?? c.headerNew;
    if (c.oldPath === "/dev/null") (oldP = undefined), (c.status = "added");
    if (c.newPath === "/dev/null") (newP = undefined), (c.status = "deleted");
    const path = newP ?? oldP;
    if (path === undefined) return; // a `diff --git` line git itself could not have written
    if (path === "" || path.length > MAX_DIFF_PATH) {
      throw new DiffParseError("path", at, `a file path of ${path.length} characters`);
    }
    const had = byPath.get(path);
    if (had) {
      // The same file twice (diffs joined one after another): the union of their lines.
      for (const l of c.lines) had.lines.push(l);
      had.binary ||= c.binary;
      return;
    }
    const f: ChangedFile = { path, status: c.status, binary: c.binary, lines: c.lines };
    if (oldP !== undefined && newP !== undefined && oldP !== newP) f.oldPath = oldP;
    byPath.set(path, f);
  };
  const start = (git: boolean): Building => ({
    git,
    status: "modified",
    binary: false,
    sawMinus: false,
    sawPlus: false,
    lines: [],
  });

  let pos = 0;
  let at = 0;
  const end = text.length;
  while (pos < end) {
    let nl = text.indexOf("\n", pos);
    if (nl < 0) nl = end;
    const line = text.slice(pos, nl);
    pos = nl + 1;
    at++;
    if (inHunk()) {
      const c = line[0];
      if (c === "+") {
        if (newLeft === 0) {
          throw new DiffParseError(
            "hunk",
            at,
            `more new lines than the hunk at line ${hunkAt} counts`,
          );
        }
        cur!.lines.push(newLine++);
        newLeft--;
      } else if (c === "-") {
        if (oldLeft === 0) {
          throw new DiffParseError(
            "hunk",
            at,
            `more old lines than the hunk at line ${hunkAt} counts`,
          );
        }
        oldLeft--;
      } else if (c === " " || line === "" || line === "\r") {
        if (oldLeft === 0 || newLeft === 0) {
          throw new DiffParseError(
            "hunk",
            at,
            `more context than the hunk at line ${hunkAt} counts`,
          );
        }
        oldLeft--;
        newLeft--;
        newLine++;
      } else if (c !== "\\") {
        throw new DiffParseError(
          "hunk",
          at,
          `the hunk at line ${hunkAt} ends ${oldLeft} old and ${newLeft} new lines early`,
        );
      }
      continue;
    }
    if (line.startsWith("\\")) continue; // `\ No newline at end of file` after a hunk's last line
    if (line.startsWith("diff --git ")) {
      finish(at);
      cur = start(true);
      const paths = gitHeaderPaths(line.slice(11));
      if (paths) {
        [cur.headerOld, cur.headerNew] = [strip(paths[0], "a/", true), strip(paths[1], "b/", true)];
      }
      continue;
    }
    if (line.startsWith("diff --cc ") || line.startsWith("diff --combined ")) {
      throw new DiffParseError(
        "combined",
        at,
        "a combined diff (an unresolved merge) is not read: resolve it, or diff against one parent",
      );
    }
    if (line.startsWith("--- ") && !(cur?.git && !cur.sawMinus && !cur.sawPlus)) {
      // A file of a plain unified diff (no `diff --git` line before it).
      finish(at);
      cur = start(false);
    }
    if (!cur) continue;
    if (line.startsWith("--- ") && !cur.sawMinus) {
      const p = headerPath(line.slice(4));
      if (p === undefined) throw new DiffParseError("path", at, "a --- path git could not unquote");
      cur.oldPath = p;
      cur.sawMinus = true;
    } else if (line.startsWith("+++ ") && cur.sawMinus && !cur.sawPlus) {
      const p = headerPath(line.slice(4));
      if (p === undefined) throw new DiffParseError("path", at, "a +++ path git could not unquote");
      cur.newPath = p;
      cur.sawPlus = true;
      const a = cur.oldPath!;
      // Git's a/ b/ prefixes; a plain diff keeps its paths unless it uses the same convention.
      const git = cur.git || (a.startsWith("a/") || a === "/dev/null") && p.startsWith("b/") ||
        a.startsWith("a/") && p === "/dev/null";
      if (a !== "/dev/null") cur.oldPath = strip(a, "a/", git);
      if (p !== "/dev/null") cur.newPath = strip(p, "b/", git);
    } else if (line.startsWith("@@")) {
      const m = HUNK.exec(line);
      if (!m) throw new DiffParseError("hunk", at, "a hunk header that is not @@ -a,b +c,d @@");
      if (!cur.sawPlus) throw new DiffParseError("hunk", at, "a hunk before its file's +++ line");
      number(m[1], at, "old start");
      oldLeft = number(m[2], at, "old count");
      newLine = number(m[3], at, "new start");
      newLeft = number(m[4], at, "new count");
      if (newLeft > 0 && newLine === 0) {
        throw new DiffParseError("hunk", at, "new lines that start at line 0");
      }
      if (newLine + newLeft > MAX_DIFF_LINE) {
        throw new DiffParseError("hunk", at, `new lines past ${MAX_DIFF_LINE}`);
      }
      hunkAt = at;
    } else if (line.startsWith("rename from ") || line.startsWith("copy from ")) {
      const rest = line.slice(line.indexOf(" from ") + 6);
      cur.headerOld = unquote(rest) ?? rest.replace(/\r$/, "");
      cur.status = line.startsWith("rename") ? "renamed" : "copied";
    } else if (line.startsWith("rename to ") || line.startsWith("copy to ")) {
      const rest = line.slice(line.indexOf(" to ") + 4);
      cur.headerNew = unquote(rest) ?? rest.replace(/\r$/, "");
    } else if (line.startsWith("new file mode ")) cur.status = "added";
    else if (line.startsWith("deleted file mode ")) cur.status = "deleted";
    else if (line.startsWith("Binary files ") || line.startsWith("GIT binary patch")) {
      cur.binary = true;
    }
  }
  if (inHunk()) {
    throw new DiffParseError(
      "hunk",
      at,
      `the diff ends inside the hunk at line ${hunkAt} (${oldLeft} old, ${newLeft} new lines short)`,
    );
  }
  finish(at);
  const files = [...byPath.values()];
  for (const f of files) {
    if (f.lines.length > 1) f.lines = [...new Set(f.lines)].sort((a, b) => a - b);
  }
  return files;
}
