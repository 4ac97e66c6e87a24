/** A small encoder of Go counter-data files (covcounters.*), for tests of the decoder and rule. */

import { ByteWriter, hexBytes } from "../../src/coverage/byte_writer.ts";
import type { FunctionCounters } from "../../src/coverage/counters.ts";
import type { UnitLayout } from "../../src/coverage/covered_units.ts";

/** One segment: its args (os.Args-like annotations) and function entries. */
export interface SegmentSpec {
  args?: Record<string, string>;
  functions: FunctionCounters[];
}

/** What to encode; `segments` defaults to one segment of `functions`. */
export interface CounterFileSpec {
  /** 32 hex digits of the meta hash. */
  hash: string;
  /** 1 raw u32, 2 ULEB128 (what Go writes); default 2. */
  flavor?: number;
  bigEndian?: boolean;
  functions?: FunctionCounters[];
  segments?: SegmentSpec[];
}

const MAGIC = [0x00, 0x63, 0x77, 0x6d];

/**
 * Encodes a counter-data file the way the Go runtime lays it out: header, then per segment
 * {header, string table, args, padding, functions} and a footer counting the segments so far.
 *
 * @example encodeCounterFile({ hash: "00".repeat(16), functions: [{ pkgIdx: 0, funcIdx: 0, counters: [1] }] })
 */
export function encodeCounterFile(spec: CounterFileSpec): Uint8Array {
  const flavor = spec.flavor ?? 2;
  const segments = spec.segments ?? [{ functions: spec.functions ?? [] }];
  const out = new ByteWriter();
  out.push(MAGIC);
  out.u32(1);
  out.push(hexBytes(spec.hash));
  out.push([flavor, spec.bigEndian ? 1 : 0, 0, 0, 0, 0, 0, 0]);
  const value = (v: number) => flavor === 1 ? out.u32(v, spec.bigEndian) : out.uleb(v);
  segments.forEach((seg, s) => {
    const args = seg.args ?? { argc: "1", argv0: "app" };
    const strings = [""];
    const index = (x: string) => {
      if (!strings.includes(x)) strings.push(x);
      return strings.indexOf(x);
    };
    const keys = Object.keys(args).sort();
    keys.forEach((k) => [index(k), index(args[k])]);
    const body = new ByteWriter();
    body.strings(strings);
    const strLen = body.length;
    body.uleb(keys.length);
    for (const k of keys) {
      body.uleb(index(k));
      body.uleb(index(args[k]));
    }
    // Padding so that header + string table + args end on a 4-byte boundary.
    while ((16 + body.length) % 4 !== 0) body.push([0]);
    out.u64(seg.functions.length);
    out.u32(strLen);
    out.u32(body.length - strLen);
    out.push(body.bytes);
    for (const f of seg.functions) {
      value(f.counters.length);
      value(f.pkgIdx);
      value(f.funcIdx);
      f.counters.forEach(value);
    }
    out.push(MAGIC);
    out.u32(0);
    out.u32(s + 1);
    out.u32(0);
  });
  return out.toBytes();
}

/**
 * A counter-data file (flavor 2) of one function entry of `n` counters, each `value` (< 128: one
 * byte), built without an array per counter: for hostile sizes (20 M counters). `written` counters
 * are written (default all: fewer makes the entry claim more than the file holds).
 *
 * @example oneFunctionCounters("00".repeat(16), 0, 0, 20_000_000).length // about 20 MB
 */
export function oneFunctionCounters(
  hash: string,
  pkgIdx: number,
  funcIdx: number,
  n: number,
  value = 1,
  written = n,
): Uint8Array {
  const empty = encodeCounterFile({ hash, functions: [] });
  const head = empty.subarray(0, empty.length - 16);
  const entry = new ByteWriter();
  for (const v of [n, pkgIdx, funcIdx]) entry.uleb(v);
  const out = new Uint8Array(head.length + entry.length + written + 16);
  out.set(head);
  new DataView(out.buffer).setBigUint64(32, 1n, true); // one function entry
  out.set(entry.bytes, head.length);
  out.fill(value, head.length + entry.length, head.length + entry.length + written);
  out.set(empty.subarray(empty.length - 16), out.length - 16);
  return out;
}

/**
 * The unit layout of a meta-data file whose package p has functions of `units[p][f]` units.
 *
 * @example unitLayout([[2, 3], [1]]).fnStart // [0, 2, 5, 6]
 */
export function unitLayout(units: number[][], hash = "00".repeat(16)): UnitLayout {
  const nFuncs = units.reduce((s, p) => s + p.length, 0);
  const pkgStart = new Uint32Array(units.length + 1);
  const fnStart = new Uint32Array(nFuncs + 1);
  let f = 0, u = 0;
  units.forEach((p, i) => {
    pkgStart[i] = f;
    for (const n of p) fnStart[f++] = u, u += n;
  });
  pkgStart[units.length] = f;
  fnStart[nFuncs] = u;
  return { hash, pkgStart, fnStart };
}
