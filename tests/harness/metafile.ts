/** Builds meta-data files (`covmeta.*`) for decoder tests, as Go's writer lays them out. */

import type { MetaPackage, ParsedMeta } from "../../src/coverage/meta.ts";

function uleb(out: number[], v: number): void {
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

function u32(out: number[], v: number): void {
  out.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
}

function stringTable(strings: string[]): number[] {
  const out: number[] = [];
  uleb(out, strings.length);
  for (const s of strings) {
    const b = new TextEncoder().encode(s);
    uleb(out, b.length);
    out.push(...b);
  }
  return out;
}

function packageBlob(p: MetaPackage): number[] {
  const strings: string[] = [];
  const idx = (s: string) => {
    let i = strings.indexOf(s);
    if (i < 0) i = strings.push(s) - 1;
    return i;
  };
  const nameIdx = idx(p.name), pathIdx = idx(p.path), modIdx = idx(p.modulePath);
  const funcs = p.functions.map((f) => {
    const b: number[] = [];
    uleb(b, f.units.length);
    uleb(b, idx(f.name));
    uleb(b, idx(f.file));
    for (const u of f.units) {
      for (const v of [u.stLine, u.stCol, u.enLine, u.enCol, u.stmts]) uleb(b, v);
    }
    uleb(b, f.literal ? 1 : 0);
    return b;
  });
  const table = stringTable(strings);
  const header: number[] = [];
  let off = 44 + 4 * funcs.length + table.length;
  const offsets: number[] = [];
  for (const f of funcs) {
    u32(offsets, off);
    off += f.length;
  }
  u32(header, off);
  u32(header, nameIdx);
  u32(header, pathIdx);
  u32(header, modIdx);
  for (let i = 0; i < 16; i++) header.push(i);
  header.push(0, 0, 0, 0);
  u32(header, strings.length);
  u32(header, funcs.length);
  return [...header, ...offsets, ...table, ...funcs.flat()];
}

/**
 * A meta-data file for `meta` (hash from `meta.hash`, modes set/count/atomic).
 *
 * @example parseMeta(encodeMetaFile(meta)) // deep-equals meta
 */
export function encodeMetaFile(meta: ParsedMeta): Uint8Array {
  const blobs = meta.packages.map(packageBlob);
  const fileStrings = stringTable([]);
  const pre = 56 + 16 * blobs.length;
  const total = pre + fileStrings.length + blobs.reduce((s, b) => s + b.length, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set([0x00, 0x63, 0x76, 0x6d], 0);
  v.setUint32(4, 1, true);
  v.setBigUint64(8, BigInt(total), true);
  v.setBigUint64(16, BigInt(blobs.length), true);
  out.set((meta.hash.match(/../g) ?? []).map((h) => parseInt(h, 16)), 24);
  v.setUint32(40, pre, true);
  v.setUint32(44, fileStrings.length, true);
  out[48] = { set: 1, count: 2, atomic: 3 }[meta.mode];
  out[49] = meta.granularity;
  let off = pre + fileStrings.length;
  blobs.forEach((b, i) => {
    v.setBigUint64(56 + 8 * i, BigInt(off), true);
    v.setBigUint64(56 + 8 * (blobs.length + i), BigInt(b.length), true);
    out.set(b, off);
    off += b.length;
  });
  out.set(fileStrings, pre);
  return out;
}
