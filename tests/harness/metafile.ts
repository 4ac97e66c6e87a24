/** Builds meta-data files (`covmeta.*`) for decoder tests, as Go's writer lays them out. */

import { ByteWriter, hexBytes } from "../../src/coverage/byte_writer.ts";
import type { MetaPackage, ParsedMeta } from "../../src/coverage/meta.ts";

function packageBlob(p: MetaPackage): number[] {
  const strings: string[] = [];
  const idx = (s: string) => {
    let i = strings.indexOf(s);
    if (i < 0) i = strings.push(s) - 1;
    return i;
  };
  const nameIdx = idx(p.name), pathIdx = idx(p.path), modIdx = idx(p.modulePath);
  const funcs = p.functions.map((f) => {
    const b = new ByteWriter();
    b.uleb(f.units.length);
    b.uleb(idx(f.name));
    b.uleb(idx(f.file));
    for (const u of f.units) {
      for (const v of [u.stLine, u.stCol, u.enLine, u.enCol, u.stmts]) b.uleb(v);
    }
    b.uleb(f.literal ? 1 : 0);
    return b.bytes;
  });
  const table = new ByteWriter();
  table.strings(strings);
  const blob = new ByteWriter();
  let off = 44 + 4 * funcs.length + table.length;
  const offsets: number[] = [];
  for (const f of funcs) {
    offsets.push(off);
    off += f.length;
  }
  blob.u32(off);
  blob.u32(nameIdx);
  blob.u32(pathIdx);
  blob.u32(modIdx);
  for (let i = 0; i < 16; i++) blob.push([i]);
  blob.push([0, 0, 0, 0]);
  blob.u32(strings.length);
  blob.u32(funcs.length);
  for (const o of offsets) blob.u32(o);
  blob.push(table.bytes);
  for (const f of funcs) blob.push(f);
  return blob.bytes;
}

/**
 * A meta-data file for `meta` (hash from `meta.hash`, modes set/count/atomic).
 *
 * @example parseMeta(encodeMetaFile(meta)) // deep-equals meta
 */
export function encodeMetaFile(meta: ParsedMeta): Uint8Array {
  const blobs = meta.packages.map(packageBlob);
  const fileStrings = new ByteWriter();
  fileStrings.strings([]);
  const pre = 56 + 16 * blobs.length;
  const total = pre + fileStrings.length + blobs.reduce((s, b) => s + b.length, 0);
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set([0x00, 0x63, 0x76, 0x6d], 0);
  v.setUint32(4, 1, true);
  v.setBigUint64(8, BigInt(total), true);
  v.setBigUint64(16, BigInt(blobs.length), true);
  out.set(hexBytes(meta.hash), 24);
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
  out.set(fileStrings.bytes, pre);
  return out;
}
