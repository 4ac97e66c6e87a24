/**
 * One package blob of a meta-data file (see meta.ts for the layout): its header, function
 * offsets, string table and functions, decoded once each, and its MetaHash computed as it goes.
 */

import { type ByteFaultKind, ByteReader } from "./byte_reader.ts";
import { PackageHash } from "./meta_hash.ts";
import { MetaParseError, type MetaWork } from "./meta_types.ts";

/**
 * What a decode hands on, in file order (a package, then its functions), before the hashes are
 * checked: a visitor's result is used only when the decode returns.
 */
export interface MetaVisitor {
  /** False: `func` gets "" for names and files (nothing decoded to text). */
  readonly names?: boolean;
  package(path: string, name: string, modulePath: string, numFuncs: number): void;
  /** A function starts; its `numUnits` units follow, then `end`. */
  func(name: string, file: string, numUnits: number): void;
  unit(stLine: number, stCol: number, enLine: number, enCol: number, stmts: number): void;
  /** The function ends with its literal flag. */
  end(literal: boolean): void;
}

const PKG_HEADER = 44;
/** Units decoded between two chances to yield (see parseMetaAsync). */
const UNITS_PER_STEP = 4096;

const metaError = (kind: ByteFaultKind, offset: number, message: string) =>
  new MetaParseError(kind, offset, message);

const utf8 = new TextDecoder("utf-8", { fatal: false });

/** A package's string table: where each string's bytes are (for the hash), decoded to text
 * only when asked (a visitor that wants no names costs no decoding). */
class Strings {
  readonly start: Uint32Array;
  readonly len: Uint32Array;
  readonly #text: (string | undefined)[] = [];
  constructor(readonly bytes: Uint8Array, readonly count: number) {
    this.start = new Uint32Array(count);
    this.len = new Uint32Array(count);
  }
  text(i: number): string {
    return this.#text[i] ??= utf8.decode(this.raw(i));
  }
  raw(i: number): Uint8Array {
    return this.bytes.subarray(this.start[i], this.start[i] + this.len[i]);
  }
}

/** Reads a string table, yielding every UNITS_PER_STEP strings. */
function* readTable(c: ByteReader, what: string): Generator<void, Strings> {
  const n = c.uleb(`${what} count`);
  // Each string takes at least one byte (its length): a count past the bytes left is a lie.
  if (n > c.end - c.pos) {
    throw new MetaParseError("strtab", c.pos, `${what} says ${n} strings, more than fit`);
  }
  const t = new Strings(c.bytes, n);
  for (let i = 0; i < n; i++) {
    const len = c.uleb(() => `${what} string ${i} length`);
    c.need(len, () => `${what} string ${i}`);
    t.start[i] = c.pos;
    t.len[i] = len;
    c.pos += len;
    if (i % UNITS_PER_STEP === UNITS_PER_STEP - 1) yield;
  }
  return t;
}

function strIdx(t: Strings, idx: number, what: string, at: number): number {
  if (idx >= t.count) {
    throw new MetaParseError("strtab", at, `${what} is string ${idx} of a table of ${t.count}`);
  }
  return idx;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * Decodes one package blob (its slot is `[off, off+len)`) into `visit`, yielding every
 * UNITS_PER_STEP units or so; returns the package's MetaHash, checked against the one it claims.
 */
export function* parsePackage(
  bytes: Uint8Array,
  view: DataView,
  off: number,
  len: number,
  idx: number,
  work: MetaWork,
  visit: MetaVisitor,
): Generator<void, Uint8Array> {
  const what = `package ${idx}`;
  new ByteReader(bytes, off, off + len, metaError, view).need(PKG_HEADER, `${what} header`);
  const blobLen = view.getUint32(off, true);
  if (blobLen > len || blobLen < PKG_HEADER) {
    throw new MetaParseError(
      "package",
      off,
      `${what} says ${blobLen} bytes, its slot holds ${len}`,
    );
  }
  const c = new ByteReader(bytes, off + PKG_HEADER, off + blobLen, metaError, view);
  const numFuncs = view.getUint32(off + 40, true);
  if (numFuncs * 4 > blobLen - PKG_HEADER) {
    throw new MetaParseError(
      "package",
      off + 40,
      `${what} says ${numFuncs} functions, more than its bytes can hold`,
    );
  }
  const funcOffsets = new Array<number>(numFuncs);
  for (let i = 0; i < numFuncs; i++) {
    funcOffsets[i] = c.u32(() => `${what} function offset ${i}`);
    if (i % UNITS_PER_STEP === UNITS_PER_STEP - 1) yield;
  }
  const t = yield* readTable(c, `${what} string table`);
  const s = (i: number) => t.raw(i);
  const text = (i: number) => visit.names === false ? "" : t.text(i);
  const pathIdx = strIdx(t, view.getUint32(off + 8, true), `${what} path`, off + 8);
  const nameIdx = strIdx(t, view.getUint32(off + 4, true), `${what} name`, off + 4);
  const modIdx = strIdx(t, view.getUint32(off + 12, true), `${what} module path`, off + 12);
  const hash = new PackageHash(s(pathIdx), s(nameIdx), s(modIdx));
  visit.package(t.text(pathIdx), t.text(nameIdx), t.text(modIdx), numFuncs);
  let sinceYield = 0;
  for (let i = 0; i < numFuncs; i++) {
    const fo = funcOffsets[i];
    const fw = `${what} function ${i}`;
    // The runtime writes functions in order, each once, after the string table: a function
    // that starts before the end of the one before it (or of the table) is refused.
    if (off + fo < c.pos || fo >= blobLen) {
      throw new MetaParseError(
        "function",
        off + PKG_HEADER + 4 * i,
        `${fw} offset ${fo} is outside its package or overlaps what comes before it (byte ${
          c.pos - off
        })`,
      );
    }
    c.pos = off + fo;
    const at = c.pos;
    const numUnits = c.uleb(`${fw} unit count`);
    // Every unit takes at least 5 bytes.
    if (numUnits * 5 > c.end - c.pos) {
      throw new MetaParseError("truncated", at, `${fw} says ${numUnits} units, more than fit`);
    }
    const nameI = strIdx(t, c.uleb(`${fw} name`), `${fw} name`, at);
    const fileI = strIdx(t, c.uleb(`${fw} file`), `${fw} file`, at);
    work.functions++;
    work.units += numUnits;
    hash.func(s(nameI), s(fileI));
    visit.func(text(nameI), text(fileI), numUnits);
    let u = 0;
    const unit = () => `${fw} unit ${u}`;
    for (; u < numUnits; u++) {
      const stLine = c.uleb(unit), stCol = c.uleb(unit), enLine = c.uleb(unit);
      const enCol = c.uleb(unit), stmts = c.uleb(unit);
      hash.unit(stLine, stCol, enLine, enCol, stmts);
      visit.unit(stLine, stCol, enLine, enCol, stmts);
      // A chance to yield inside a function too (one function may be most of the file).
      if (++sinceYield >= UNITS_PER_STEP) {
        sinceYield = 0;
        yield;
      }
    }
    const literal = c.uleb(`${fw} literal flag`) !== 0;
    hash.end(literal);
    visit.end(literal);
    if (++sinceYield >= UNITS_PER_STEP) {
      sinceYield = 0;
      yield;
    }
  }
  const digest = hash.digest();
  if (!sameBytes(digest, bytes.subarray(off + 16, off + 32))) {
    throw new MetaParseError(
      "hash",
      off + 16,
      `${what} claims MetaHash ${hex(bytes.subarray(off + 16, off + 32))}, its contents hash to ${
        hex(digest)
      }`,
    );
  }
  return digest;
}
