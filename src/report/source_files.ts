/**
 * The Go source of a report's files, from directories given with `report --source DIR`, read from
 * disk only. A file name of the meta-data (`<import path>/<base>.go`) and its package's module
 * path are looked up in this order, each over the directories in the order given:
 *
 * 1. the import path: `DIR/<import path>/f.go`, `DIR/src/…` (a GOPATH or GOROOT) and
 *    `DIR/vendor/…` (a vendor tree);
 * 2. the module path in a module cache: `DIR/<module>@<version>/<rest>` or
 *    `DIR/pkg/mod/<module>@<version>/<rest>` (the module path case-escaped as Go's cache writes
 *    it, `!` before a lower-cased capital; with several versions the highest (numbers compared
 *    as numbers) that holds the file);
 * 3. the path relative to its module: `DIR/<rest>` (a checkout of the module).
 *
 * Names are hostile: a name with an empty, `.` or `..` segment, a backslash or a control
 * character is never looked up. A file found must resolve (symlinks followed) inside its DIR, be a
 * regular file of at most `maxFileBytes` and valid UTF-8, and fit in what is left of
 * `maxTotalBytes`; otherwise the file is "not shown" with the reason.
 */

import { join, sep } from "node:path";
import { errorText } from "../errors.ts";

/** Largest source file shown (generated tables beyond this are figures only). */
export const MAX_SOURCE_FILE = 4 << 20;
/** Source bytes one report embeds at most. */
export const MAX_SOURCE_TOTAL = 96 << 20;
/** Entries of a module cache directory looked at for `<module>@` versions. */
const MAX_DIR_ENTRIES = 100_000;

/** A file's source, or why it is not shown. */
export type SourceResult = { text: string; found: string } | { why: string };

export interface SourceLimits {
  maxFileBytes?: number;
  maxTotalBytes?: number;
}

/** Module path escaped as the module cache writes it. @example escapeModule("github.com/Foo") // "github.com/!foo" */
export function escapeModule(m: string): string {
  return m.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

function cleanName(name: string): boolean {
  if (name === "" || name.length > 4096 || name.startsWith("/") || name.includes("\\")) {
    return false;
  }
  // deno-lint-ignore no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return false;
  return name.split("/").every((s) => s !== "" && s !== "." && s !== "..");
}

function inside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The source directories of one report, with its byte budget.
 *
 * @example const s = await SourceRoots.open(["/src/checkout"]); await s.find("example.test/m/a/a.go", "example.test/m")
 */
export class SourceRoots {
  #left: number;
  readonly #total: number;
  readonly #maxFile: number;
  readonly #versions = new Map<string, Promise<string[]>>();

  private constructor(readonly roots: { dir: string; real: string }[], limits: SourceLimits) {
    this.#left = this.#total = limits.maxTotalBytes ?? MAX_SOURCE_TOTAL;
    this.#maxFile = limits.maxFileBytes ?? MAX_SOURCE_FILE;
  }

  /** Opens the directories; a missing one or a non-directory throws an Error naming it. */
  static async open(dirs: string[], limits: SourceLimits = {}): Promise<SourceRoots> {
    const roots = [];
    for (const dir of dirs) {
      let real;
      try {
        real = await Deno.realPath(dir);
        if (!(await Deno.stat(real)).isDirectory) throw new Error("not a directory");
      } catch (e) {
        throw new Error(`--source ${dir}: ${errorText(e)}`);
      }
      roots.push({ dir, real });
    }
    return new SourceRoots(roots, limits);
  }

  /** Source bytes still to be spent. */
  get left(): number {
    return this.#left;
  }

  /** `<module>@<version>` directories under `parent` whose name starts with `base@`, highest first. */
  #versionsOf(parent: string, base: string): Promise<string[]> {
    const key = `${parent}\0${base}`;
    let p = this.#versions.get(key);
    if (!p) {
      p = (async () => {
        const out: string[] = [];
        try {
          let n = 0;
          for await (const e of Deno.readDir(parent)) {
            if (++n > MAX_DIR_ENTRIES) break;
            if (e.isDirectory && e.name.startsWith(`${base}@`)) out.push(e.name);
          }
        } catch { /* no such directory */ }
        // Highest version first, numbers compared as numbers (v1.10.0 after v1.9.0).
        return out.sort((a, b) => b.localeCompare(a, "en", { numeric: true }));
      })();
      this.#versions.set(key, p);
    }
    return p;
  }

  async #candidates(file: string, modulePath: string): Promise<{ root: string; path: string }[]> {
    const out: { root: string; path: string }[] = [];
    for (const r of this.roots) {
      for (const sub of ["", "src", "vendor"]) {
        out.push({ root: r.real, path: join(r.real, sub, file) });
      }
    }
    const rest = modulePath !== "" && cleanName(modulePath) && file.startsWith(modulePath + "/")
      ? file.slice(modulePath.length + 1)
      : undefined;
    if (rest === undefined) return out;
    const esc = escapeModule(modulePath);
    const cut = esc.lastIndexOf("/");
    const parent = cut < 0 ? "" : esc.slice(0, cut), base = esc.slice(cut + 1);
    for (const r of this.roots) {
      for (const cache of [r.real, join(r.real, "pkg", "mod")]) {
        const dir = join(cache, parent);
        for (const v of await this.#versionsOf(dir, base)) {
          out.push({ root: r.real, path: join(dir, v, rest) });
        }
      }
    }
    for (const r of this.roots) out.push({ root: r.real, path: join(r.real, rest) });
    return out;
  }

  /**
   * The source of the meta-data's file `file` of a package of module `modulePath` ("" if none),
   * or why it is not shown.
   *
   * @example await roots.find("fmt/print.go", "std") // { text: "// Copyright ...", found: "/usr/local/go/src/fmt/print.go" }
   */
  async find(file: string, modulePath: string): Promise<SourceResult> {
    if (this.roots.length === 0) return { why: "no --source given" };
    if (!cleanName(file)) return { why: "its name is not a clean relative path" };
    let refused: string | undefined;
    for (const c of await this.#candidates(file, modulePath)) {
      let st;
      try {
        st = await Deno.stat(c.path);
      } catch {
        continue;
      }
      if (!st.isFile) continue;
      const real = await Deno.realPath(c.path).catch(() => "");
      if (!inside(c.root, real)) {
        refused ??= `${c.path} resolves outside its --source directory`;
        continue;
      }
      return await this.#read(real, st.size);
    }
    return { why: refused ?? "not found in any --source directory" };
  }

  async #read(path: string, size: number): Promise<SourceResult> {
    const limit = Math.min(this.#maxFile, this.#left);
    const tooBig = (): SourceResult => ({
      why: size > this.#maxFile || limit === this.#maxFile
        ? `it is over ${this.#maxFile} bytes`
        : `the report's source budget (${this.#total} bytes) is spent`,
    });
    if (size > limit) return tooBig();
    let bytes: Uint8Array;
    try {
      using f = await Deno.open(path, { read: true });
      // Sized by the stat, one byte more to see a file that grew since; never past the limit.
      const buf = new Uint8Array(Math.min(size, limit) + 1);
      let n = 0;
      while (n < buf.length) {
        const got = await f.read(buf.subarray(n));
        if (got === null) break;
        n += got;
      }
      if (n > limit) return tooBig();
      if (n === buf.length) return { why: `${path} grew while it was read` };
      bytes = buf.subarray(0, n);
    } catch (e) {
      return { why: `${path}: ${errorText(e)}` };
    }
    let text;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch {
      return { why: "it is not valid UTF-8" };
    }
    this.#left -= bytes.length;
    return { text, found: path };
  }
}
