/**
 * The byte reader under the decoders of Go's coverage files (`meta.ts`, `counters.ts`): a bounded
 * cursor over little-endian bytes, ULEB128 values of at most 32 bits, and string tables (ULEB128
 * count, then ULEB128 length + bytes per string). It throws the error its caller makes, so each
 * decoder keeps its own error class.
 */

/** The kinds of fault the reader itself finds; every decoder's error kinds include them. */
export type ByteFaultKind = "truncated" | "value" | "strtab";

/** Builds the decoder's error for a fault at byte `offset` (of the whole file). */
export type MakeError = (kind: ByteFaultKind, offset: number, message: string) => Error;

/** What a read is for, said only when it fails (a function builds no string per value read). */
export type What = string | (() => string);

const say = (what: What) => typeof what === "string" ? what : what();

/** A ULEB128 of a u32 takes at most 5 bytes. */
const MAX_ULEB = 5;

/**
 * A cursor over `bytes[start, end)`; `pos` is a byte offset of `bytes` (what errors report).
 *
 * @example new ByteReader(bytes, 0, bytes.length, (k, at, m) => new MetaParseError(k, at, m)).uleb("count")
 */
export class ByteReader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start: number,
    readonly end: number,
    readonly fail: MakeError,
    readonly view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
  ) {
    this.pos = start;
  }

  /** Throws a "truncated" fault unless `n` bytes are left. */
  need(n: number, what: What): void {
    if (n < 0 || this.pos + n > this.end) {
      throw this.fail(
        "truncated",
        this.pos,
        `${say(what)} needs ${n} bytes, ${Math.max(0, this.end - this.pos)} left`,
      );
    }
  }

  /** A u32, little-endian unless `bigEndian`. */
  u32(what: What, bigEndian = false): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, !bigEndian);
    this.pos += 4;
    return v;
  }

  /** A ULEB128 that must end within 5 bytes and fit in 32 bits ("value" fault otherwise). */
  uleb(what: What): number {
    let value = 0;
    for (let i = 0; i < MAX_ULEB; i++) {
      this.need(1, what);
      const b = this.bytes[this.pos++];
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) {
        if (value > 0xffffffff) {
          throw this.fail("value", this.pos - 1, `${say(what)} does not fit in 32 bits`);
        }
        return value;
      }
    }
    throw this.fail("value", this.pos, `${say(what)} is a ULEB128 longer than 5 bytes`);
  }

  /** A reader of the next `len` bytes (checked), with its own error maker. */
  sub(len: number, what: What, fail: MakeError = this.fail): ByteReader {
    this.need(len, what);
    return new ByteReader(this.bytes, this.pos, this.pos + len, fail, this.view);
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

/**
 * Reads a string table at `r.pos`. With `keep` false the strings are walked, not decoded, and
 * `[]` comes back (a hostile table of many tiny strings then costs no memory).
 *
 * @example readStrings(r, "package 0 string table") // ["main", "example.com/app", ...]
 */
export function readStrings(r: ByteReader, what: string, keep = true): string[] {
  const n = r.uleb(`${what} count`);
  // Each string takes at least one byte (its length): a count past the bytes left is a lie.
  if (n > r.end - r.pos) {
    throw r.fail("strtab", r.pos, `${what} says ${n} strings, more than its bytes can hold`);
  }
  const out = keep ? new Array<string>(n) : [];
  for (let i = 0; i < n; i++) {
    const len = r.uleb(() => `${what} string ${i} length`);
    r.need(len, () => `${what} string ${i}`);
    if (keep) out[i] = utf8.decode(r.bytes.subarray(r.pos, r.pos + len));
    r.pos += len;
  }
  return out;
}
