/**
 * The byte writer under the encoders of Go's coverage files (`encode_counters.ts`, and the test
 * encoders of `tests/harness/`): little-endian integers, ULEB128 values and string tables as
 * `byte_reader.ts` reads them.
 */

const utf8 = new TextEncoder();

/**
 * Appends bytes to a growing list; `bytes` is that list, `length` its size so far.
 *
 * @example const w = new ByteWriter(); w.uleb(300); w.toBytes() // Uint8Array [0xac, 0x02]
 */
export class ByteWriter {
  readonly bytes: number[] = [];

  get length(): number {
    return this.bytes.length;
  }

  /** Raw bytes (each 0..255). */
  push(bytes: ArrayLike<number>): void {
    for (let i = 0; i < bytes.length; i++) this.bytes.push(bytes[i]);
  }

  /** A u32, little-endian unless `bigEndian`. */
  u32(v: number, bigEndian = false): void {
    const b = [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
    this.push(bigEndian ? b.reverse() : b);
  }

  /** A little-endian u64 of a safe integer. */
  u64(v: number): void {
    this.u32(v >>> 0);
    this.u32(Math.floor(v / 2 ** 32));
  }

  /** A ULEB128 of a non-negative safe integer. */
  uleb(v: number): void {
    do {
      let b = v % 128;
      v = Math.floor(v / 128);
      if (v !== 0) b |= 0x80;
      this.bytes.push(b);
    } while (v !== 0);
  }

  /** A string table: ULEB128 count, then ULEB128 length + UTF-8 bytes per string. */
  strings(table: readonly string[]): void {
    this.uleb(table.length);
    for (const s of table) {
      const b = utf8.encode(s);
      this.uleb(b.length);
      this.push(b);
    }
  }

  toBytes(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/**
 * The bytes of a hex string (two digits a byte).
 *
 * @example hexBytes("00ff") // [0, 255]
 */
export function hexBytes(hex: string): number[] {
  return (hex.match(/../g) ?? []).map((h) => parseInt(h, 16));
}
