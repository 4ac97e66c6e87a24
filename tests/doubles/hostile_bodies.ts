/**
 * Coverage files a hostile pod could send, built byte by byte (the decoders' worst cases):
 * meta-data whose package and function offsets all point at the same bytes, and counter files far
 * larger than their meta-data allows. Used by the hostile-server double and the benchmark.
 */

import { ByteWriter, hexBytes } from "../../src/coverage/byte_writer.ts";

/**
 * A meta-data file of `packages` package slots that all point at one blob, whose `funcs`
 * function offsets all point at one function of `units` units: a decoder that believes the
 * offsets builds packages × funcs × units objects from a file of about 5 × units + 4 × funcs bytes.
 *
 * @example overlappingMeta({ packages: 50, funcs: 700, units: 3000 }).length // ≈ 18 KB
 */
export function overlappingMeta(
  o: { packages: number; funcs: number; units: number; hash?: string },
): Uint8Array {
  const strings = ["main", "example.com/hostile", "example.com/hostile", "f", "f.go"];
  const table = new ByteWriter();
  table.strings(strings);
  const fn = new ByteWriter();
  fn.uleb(o.units);
  fn.uleb(3);
  fn.uleb(4);
  for (let u = 0; u < o.units; u++) fn.push([1, 1, 1, 2, 1]);
  fn.uleb(0);
  const funcAt = 44 + 4 * o.funcs + table.length;
  const blob = new ByteWriter();
  blob.u32(funcAt + fn.length);
  blob.u32(0);
  blob.u32(1);
  blob.u32(2);
  blob.push(new Uint8Array(16));
  blob.push([0, 0, 0, 0]);
  blob.u32(1);
  blob.u32(o.funcs);
  for (let i = 0; i < o.funcs; i++) blob.u32(funcAt);
  blob.push(table.bytes);
  blob.push(fn.bytes);
  const pre = 56 + 16 * o.packages;
  const fileStrings = new ByteWriter();
  fileStrings.strings([]);
  const blobAt = pre + fileStrings.length;
  const total = blobAt + blob.length;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set([0x00, 0x63, 0x76, 0x6d], 0);
  v.setUint32(4, 1, true);
  v.setBigUint64(8, BigInt(total), true);
  v.setBigUint64(16, BigInt(o.packages), true);
  out.set(hexBytes(o.hash ?? "ab".repeat(16)), 24);
  v.setUint32(40, pre, true);
  v.setUint32(44, fileStrings.length, true);
  out[48] = 3;
  out[49] = 1;
  for (let i = 0; i < o.packages; i++) {
    v.setBigUint64(56 + 8 * i, BigInt(blobAt), true);
    v.setBigUint64(56 + 8 * (o.packages + i), BigInt(blob.length), true);
  }
  out.set(fileStrings.bytes, pre);
  out.set(Uint8Array.from(blob.bytes), blobAt);
  return out;
}

/**
 * A ULEB128 counter-data file naming meta hash `hash`: `functions` entries (package 0, function
 * i) of `perFunction` counters each, every counter 1. 20 M counters take about 20 MB.
 *
 * @example hugeCounters("ab".repeat(16), { functions: 1, perFunction: 20_000_000 })
 */
export function hugeCounters(
  hash: string,
  o: { functions: number; perFunction: number },
): Uint8Array {
  const uleb = (v: number) => {
    const b: number[] = [];
    do {
      let x = v % 128;
      v = Math.floor(v / 128);
      if (v !== 0) x |= 0x80;
      b.push(x);
    } while (v !== 0);
    return b;
  };
  const entryHead = (i: number) => [...uleb(o.perFunction), 0, ...uleb(i)];
  let entries = 0;
  for (let i = 0; i < o.functions; i++) entries += entryHead(i).length + o.perFunction;
  // header 32, segment header 16, string table {1 string ""} 2 bytes, args {0 pairs} 1 byte,
  // padded to 4 from the segment start, entries, footer 16
  const strTab = [1, 0];
  const args = [0];
  let segBody = strTab.length + args.length;
  while ((16 + segBody) % 4 !== 0) segBody++;
  const total = 32 + 16 + segBody + entries + 16;
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer);
  out.set([0x00, 0x63, 0x77, 0x6d], 0);
  v.setUint32(4, 1, true);
  out.set(hexBytes(hash), 8);
  out[24] = 2;
  let at = 32;
  v.setBigUint64(at, BigInt(o.functions), true);
  v.setUint32(at + 8, strTab.length, true);
  v.setUint32(at + 12, segBody - strTab.length, true);
  at += 16;
  out.set(strTab, at);
  out.set(args, at + strTab.length);
  at += segBody;
  for (let i = 0; i < o.functions; i++) {
    const h = entryHead(i);
    out.set(h, at);
    at += h.length;
    out.fill(1, at, at + o.perFunction);
    at += o.perFunction;
  }
  out.set([0x00, 0x63, 0x77, 0x6d], at);
  v.setUint32(at + 8, 1, true);
  return out;
}
