/**
 * Counter files far larger than their meta-data allows, built byte by byte (a hostile pod's worst
 * case for the counters decoder; overlapping meta-data is `overlappingMeta` of
 * tests/harness/metafile.ts). Used by the hostile-server double and the benchmark.
 */

import { hexBytes } from "../../src/coverage/byte_writer.ts";

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
