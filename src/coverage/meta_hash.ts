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
 * The hash of one package, fed as it is decoded: `start` with the package's strings, then one
 * `func` per function in order, then `digest`.
 *
 * @example const h = packageHash(path, name, mod); h.func(fname, file, units, units.length, false); h.digest()
 */
export class PackageHash {
  readonly #h = new Fnv128a();
  #scratch = new Uint8Array(64);

  constructor(path: Uint8Array, name: Uint8Array, modulePath: Uint8Array) {
    this.#h.update(path).update(name).update(modulePath);
  }

  /** Adds a function: `units[0, count)` holds 5 values per unit (as the decoder reads them). */
  func(
    name: Uint8Array,
    file: Uint8Array,
    units: ArrayLike<number>,
    count: number,
    literal: boolean,
  ): void {
    this.#h.update(name).update(file);
    const need = 4 * (count + 1);
    if (this.#scratch.length < need) {
      this.#scratch = new Uint8Array(Math.max(need, 2 * this.#scratch.length));
    }
    const b = this.#scratch;
    let at = 0;
    const put = (v: number) => {
      b[at++] = v & 0xff,
        b[at++] = (v >>> 8) & 0xff,
        b[at++] = (v >>> 16) & 0xff,
        b[at++] = v >>> 24;
    };
    for (let i = 0; i < count; i++) put(units[i]);
    put(literal ? 1 : 0);
    this.#h.update(b, 0, at);
  }

  /** The package's MetaHash (16 bytes). */
  digest(): Uint8Array {
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
