/**
 * FNV-1a, 128 bits (what Go's `hash/fnv.New128a` computes and the coverage runtime hashes
 * meta-data with; node:crypto has no FNV). The state is eight 16-bit limbs, lowest first, so every
 * product stays exact in a double: h = (h ^ byte) × (2^88 + 0x13b) mod 2^128.
 */

const PRIME_LOW = 0x13b;

/**
 * An incremental FNV-128a.
 *
 * @example new Fnv128a().update(new TextEncoder().encode("a")).hex() // "d228cb696f1a8caf78912b704e4a8964"
 */
export class Fnv128a {
  // Offset basis 0x6c62272e07bb014262b821756295c58d, lowest limb first.
  readonly #h = new Uint32Array([
    0xc58d,
    0x6295,
    0x2175,
    0x62b8,
    0x0142,
    0x07bb,
    0x272e,
    0x6c62,
  ]);
  readonly #u32 = new Uint8Array(4);

  /** Adds `bytes[start, end)`. */
  update(bytes: Uint8Array, start = 0, end = bytes.length): this {
    const h = this.#h;
    let a0 = h[0], a1 = h[1], a2 = h[2], a3 = h[3], a4 = h[4], a5 = h[5], a6 = h[6], a7 = h[7];
    for (let i = start; i < end; i++) {
      a0 ^= bytes[i];
      // × 0x13b, plus the old limbs 0..2 shifted up by 88 bits (limb 5 and 8 bits).
      let t = a0 * PRIME_LOW;
      const n0 = t & 0xffff;
      t = a1 * PRIME_LOW + (t >>> 16);
      const n1 = t & 0xffff;
      t = a2 * PRIME_LOW + (t >>> 16);
      const n2 = t & 0xffff;
      t = a3 * PRIME_LOW + (t >>> 16);
      const n3 = t & 0xffff;
      t = a4 * PRIME_LOW + (t >>> 16);
      const n4 = t & 0xffff;
      t = a5 * PRIME_LOW + (a0 << 8) + (t >>> 16);
      const n5 = t & 0xffff;
      t = a6 * PRIME_LOW + (a1 << 8) + (t >>> 16);
      const n6 = t & 0xffff;
      t = a7 * PRIME_LOW + (a2 << 8) + (t >>> 16);
      a7 = t & 0xffff;
      a0 = n0, a1 = n1, a2 = n2, a3 = n3, a4 = n4, a5 = n5, a6 = n6;
    }
    h[0] = a0, h[1] = a1, h[2] = a2, h[3] = a3, h[4] = a4, h[5] = a5, h[6] = a6, h[7] = a7;
    return this;
  }

  /** Adds a u32 as 4 little-endian bytes (Go's `binary.LittleEndian.PutUint32`). */
  u32(v: number): this {
    const b = this.#u32;
    b[0] = v & 0xff, b[1] = (v >>> 8) & 0xff, b[2] = (v >>> 16) & 0xff, b[3] = v >>> 24;
    return this.update(b);
  }

  /** Adds an ASCII string (the names the runtime hashes: "atomic", "perblock"). */
  ascii(s: string): this {
    const b = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
    return this.update(b);
  }

  /** The digest, big-endian (Go's `Sum(nil)`). */
  digest(): Uint8Array {
    const out = new Uint8Array(16);
    for (let i = 0; i < 8; i++) {
      const limb = this.#h[7 - i];
      out[2 * i] = limb >>> 8;
      out[2 * i + 1] = limb & 0xff;
    }
    return out;
  }

  /** The digest as 32 lower-case hex digits. */
  hex(): string {
    let s = "";
    for (let i = 7; i >= 0; i--) s += this.#h[i].toString(16).padStart(4, "0");
    return s;
  }
}
