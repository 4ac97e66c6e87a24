/**
 * Decoder of a Go meta-data file (`covmeta.*`, Go ≥ 1.20), written from the format facts of the
 * toolchain's `internal/coverage` (little-endian throughout):
 *
 * - file header, 56 bytes: magic `00 63 76 6d`, version u32 (≤ 1), TotalLength u64, Entries u64
 *   (packages), MetaFileHash [16], StrTabOffset u32, StrTabLength u32, counter mode u8
 *   (1 set, 2 count, 3 atomic), granularity u8 (1 per block, 2 per function), 6 bytes padding;
 * - Entries package offsets (u64) then Entries package lengths (u64), then the file's string
 *   table; each package is a stand-alone blob at its offset;
 * - a package blob: header 44 bytes {Length u32, PkgName u32, PkgPath u32, ModulePath u32 (string
 *   indices), MetaHash [16], 4 bytes unused, NumFiles u32, NumFuncs u32}, NumFuncs function
 *   offsets (u32, from the blob's start), the blob's string table (ULEB128 count, then ULEB128
 *   length + bytes per string), then the functions;
 * - a function: ULEB128 numUnits, name index, file index, then per unit start line, start column,
 *   end line, end column and statement count, then a ULEB128 "is a function literal" flag.
 */

import { type ByteFaultKind, ByteReader, readStrings } from "./byte_reader.ts";

/** What was wrong with a meta-data file. */
export type MetaErrorKind =
  | "magic"
  | "version"
  | "mode"
  | "truncated"
  | "package"
  | "strtab"
  | "function"
  | "value";

/** A meta-data file is malformed; `offset` is the byte (of the file) where it was seen. */
export class MetaParseError extends Error {
  constructor(readonly kind: MetaErrorKind, readonly offset: number, message: string) {
    super(`meta-data: ${message} (at byte ${offset})`);
    this.name = "MetaParseError";
  }
}

/** One coverable unit (a basic block): source span and statement count. */
export interface MetaUnit {
  stLine: number;
  stCol: number;
  enLine: number;
  enCol: number;
  stmts: number;
}

/** One function of a package: its units are indexed like its counters. */
export interface MetaFunction {
  name: string;
  file: string;
  /** A function literal (closure). */
  literal: boolean;
  units: MetaUnit[];
}

export interface MetaPackage {
  path: string;
  name: string;
  modulePath: string;
  functions: MetaFunction[];
}

/** Counter modes of the meta-data header. */
export type CounterMode = "set" | "count" | "atomic";

/** A decoded meta-data file; packages are in file order (what counter files index). */
export interface ParsedMeta {
  /** MetaFileHash as 32 hex digits (what `covmeta.<hash>` names). */
  hash: string;
  mode: CounterMode;
  /** 1 per block, 2 per function. */
  granularity: number;
  packages: MetaPackage[];
}

export const META_MAGIC = [0x00, 0x63, 0x76, 0x6d];
const FILE_HEADER = 56;
const PKG_HEADER = 44;
const MODES: Record<number, CounterMode> = { 1: "set", 2: "count", 3: "atomic" };

const metaError = (kind: ByteFaultKind, offset: number, message: string) =>
  new MetaParseError(kind, offset, message);

function str(table: string[], idx: number, what: string, at: number): string {
  const s = table[idx];
  if (idx >= table.length || s === undefined) {
    throw new MetaParseError(
      "strtab",
      at,
      `${what} is string ${idx} of a table of ${table.length}`,
    );
  }
  return s;
}

function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

function parsePackage(bytes: Uint8Array, view: DataView, off: number, len: number, idx: number) {
  const what = `package ${idx}`;
  const c = new ByteReader(bytes, off, off + len, metaError, view);
  c.need(PKG_HEADER, `${what} header`);
  const blobLen = view.getUint32(off, true);
  if (blobLen > len) {
    throw new MetaParseError(
      "package",
      off,
      `${what} says ${blobLen} bytes, its slot holds ${len}`,
    );
  }
  const nameIdx = view.getUint32(off + 4, true);
  const pathIdx = view.getUint32(off + 8, true);
  const modIdx = view.getUint32(off + 12, true);
  const numFuncs = view.getUint32(off + 40, true);
  c.pos = off + PKG_HEADER;
  if (numFuncs * 4 > len - PKG_HEADER) {
    throw new MetaParseError(
      "package",
      off + 40,
      `${what} says ${numFuncs} functions, more than its bytes can hold`,
    );
  }
  const funcOffsets = new Array<number>(numFuncs);
  for (let i = 0; i < numFuncs; i++) funcOffsets[i] = c.u32(() => `${what} function offset ${i}`);
  const strings = readStrings(c, `${what} string table`);
  const functions = new Array<MetaFunction>(numFuncs);
  for (let i = 0; i < numFuncs; i++) {
    const fo = funcOffsets[i];
    const fw = `${what} function ${i}`;
    if (fo < PKG_HEADER + 4 * numFuncs || fo >= len) {
      throw new MetaParseError(
        "function",
        off + PKG_HEADER + 4 * i,
        `${fw} offset ${fo} is outside`,
      );
    }
    c.pos = off + fo;
    const at = c.pos;
    const numUnits = c.uleb(`${fw} unit count`);
    // Every unit takes at least 5 bytes.
    if (numUnits * 5 > c.end - c.pos) {
      throw new MetaParseError("truncated", at, `${fw} says ${numUnits} units, more than fit`);
    }
    const name = str(strings, c.uleb(`${fw} name`), `${fw} name`, at);
    const file = str(strings, c.uleb(`${fw} file`), `${fw} file`, at);
    const units = new Array<MetaUnit>(numUnits);
    let u = 0;
    const unit = () => `${fw} unit ${u}`;
    for (; u < numUnits; u++) {
      units[u] = {
        stLine: c.uleb(unit),
        stCol: c.uleb(unit),
        enLine: c.uleb(unit),
        enCol: c.uleb(unit),
        stmts: c.uleb(unit),
      };
    }
    const literal = c.uleb(`${fw} literal flag`) !== 0;
    functions[i] = { name, file, literal, units };
  }
  return {
    path: str(strings, pathIdx, `${what} path`, off + 8),
    name: str(strings, nameIdx, `${what} name`, off + 4),
    modulePath: str(strings, modIdx, `${what} module path`, off + 12),
    functions,
  };
}

/**
 * Decodes a meta-data file. Throws MetaParseError (with `kind` and byte offset) on anything
 * malformed: bad magic or version, unknown counter mode, a length or offset past the data, a
 * string index past its table.
 *
 * @example parseMeta(bytes).packages[0].functions[0] // { name: "main", file: "x/main.go", literal: false, units: [...] }
 */
export function parseMeta(bytes: Uint8Array): ParsedMeta {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < FILE_HEADER) {
    throw new MetaParseError(
      "truncated",
      bytes.length,
      `${bytes.length} bytes, shorter than the header (${FILE_HEADER})`,
    );
  }
  if (!META_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new MetaParseError("magic", 0, "no meta-data magic 00 63 76 6d");
  }
  const version = view.getUint32(4, true);
  if (version > 1) throw new MetaParseError("version", 4, `version ${version} is not 1`);
  const total = view.getBigUint64(8, true);
  if (total > BigInt(bytes.length)) {
    throw new MetaParseError(
      "truncated",
      8,
      `header says ${total} bytes, the file has ${bytes.length}`,
    );
  }
  const end = Number(total);
  const entries = view.getBigUint64(16, true);
  if (entries * 16n > BigInt(end - FILE_HEADER)) {
    throw new MetaParseError(
      "package",
      16,
      `header says ${entries} packages, more than the file can hold`,
    );
  }
  const mode = MODES[bytes[48]];
  if (mode === undefined) {
    throw new MetaParseError("mode", 48, `counter mode ${bytes[48]} is not set, count or atomic`);
  }
  const n = Number(entries);
  const packages = new Array<MetaPackage>(n);
  for (let i = 0; i < n; i++) {
    const off = view.getBigUint64(FILE_HEADER + 8 * i, true);
    const len = view.getBigUint64(FILE_HEADER + 8 * (n + i), true);
    if (off + len > BigInt(end) || off < BigInt(FILE_HEADER + 16 * n)) {
      throw new MetaParseError(
        "package",
        FILE_HEADER + 8 * i,
        `package ${i} at ${off}+${len} is outside the file's ${end} bytes`,
      );
    }
    packages[i] = parsePackage(bytes, view, Number(off), Number(len), i);
  }
  return { hash: hex(bytes.subarray(24, 40)), mode, granularity: bytes[49], packages };
}
