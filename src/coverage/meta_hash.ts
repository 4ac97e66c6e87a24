/**
 * The hashes the Go runtime gives meta-data (Go ≥ 1.20; read from the toolchain's
 * `internal/coverage/encodemeta/encode.go` and `cfile/emit.go`), all FNV-128a:
 *
 * - a package's MetaHash: its path, name and module path (the bytes, no separators), then per
 *   function its name, its file, five u32 (little-endian) per unit (start line, start column,
 *   end line, end column, statements) and a u32 literal flag (0 or 1). Function descriptors are
 *   hashed as these values, not as their encoded (ULEB128) bytes;
 * - the file's MetaFileHash: the package MetaHashes (16 bytes each) in file order, then the
 *   counter mode's name ("set", "count", "atomic", ...) and the granularity's ("perblock",
 *   "perfunc"), as ASCII.
 *
 * The file name `covmeta.<hash>` is the MetaFileHash in lower-case hex.
 */

import { Fnv128a } from "./fnv128a.ts";

/** The runtime's names of counter modes (`coverage.CounterMode.String()`). */
export const MODE_NAMES: Readonly<Record<number, string>> = {
  1: "set",
  2: "count",
  3: "atomic",
  4: "regonly",
  5: "testmain",
};

/** The runtime's names of granularities (`coverage.CounterGranularity.String()`). */
export const GRANULARITY_NAMES: Readonly<Record<number, string>> = { 1: "perblock", 2: "perfunc" };

/**
 * The hash of one package, fed as it is decoded: the package's strings, then per function in
 * order `func`, its `unit`s and `end`; then `digest`. Memory is a fixed 4 KB whatever the sizes.
 *
 * @example const h = new PackageHash(path, name, mod); h.func(fname, file); h.unit(1, 2, 3, 4, 5); h.end(false); h.digest()
 */
export class PackageHash {
  readonly #h = new Fnv128a();
  readonly #buf = new Uint8Array(4096);
  #at = 0;

  constructor(path: Uint8Array, name: Uint8Array, modulePath: Uint8Array) {
    this.#h.update(path).update(name).update(modulePath);
  }

  #flush(): void {
    this.#h.update(this.#buf, 0, this.#at);
    this.#at = 0;
  }

  #u32(v: number): void {
    if (this.#at + 4 > this.#buf.length) this.#flush();
    const b = this.#buf;
    let at = this.#at;
    b[at++] = v & 0xff, b[at++] = (v >>> 8) & 0xff, b[at++] = (v >>> 16) & 0xff, b[at++] = v >>> 24;
    this.#at = at;
  }

  /** A function starts: its name and file (the bytes of the string table). */
  func(name: Uint8Array, file: Uint8Array): void {
    this.#flush();
    this.#h.update(name).update(file);
  }

  /** One unit of the function: start line, start column, end line, end column, statements. */
  unit(stLine: number, stCol: number, enLine: number, enCol: number, stmts: number): void {
    this.#u32(stLine), this.#u32(stCol), this.#u32(enLine), this.#u32(enCol), this.#u32(stmts);
  }

  /** The function ends with its literal flag. */
  end(literal: boolean): void {
    this.#u32(literal ? 1 : 0);
  }

  /** The package's MetaHash (16 bytes). */
  digest(): Uint8Array {
    this.#flush();
    return this.#h.digest();
  }
}

/**
 * The file's MetaFileHash as lower-case hex; `mode` and `granularity` are the header's bytes.
 *
 * @example metaFileHash([pkgHash], 3, 1) // "35a61003cb4b085d49d535d4f1f0be5e"
 */
export function metaFileHash(
  packageHashes: readonly Uint8Array[],
  mode: number,
  granularity: number,
): string {
  const h = new Fnv128a();
  for (const p of packageHashes) h.update(p);
  // Go hashes the String() of the values: "<invalid>" for one it does not know.
  h.ascii(MODE_NAMES[mode] ?? "<invalid>").ascii(GRANULARITY_NAMES[granularity] ?? "<invalid>");
  return h.hex();
}
