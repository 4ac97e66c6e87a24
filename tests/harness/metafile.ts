/** Builds meta-data files (`covmeta.*`) for decoder tests, as Go's writer lays them out. */

import { ByteWriter, hexBytes } from "../../src/coverage/byte_writer.ts";
import type { MetaPackage, ParsedMeta } from "../../src/coverage/meta.ts";
import { metaFileHash, PackageHash } from "../../src/coverage/meta_hash.ts";

const MODE_BYTES = { set: 1, count: 2, atomic: 3 } as const;
const utf8 = new TextEncoder();

/** A package's MetaHash, as the runtime computes it. */
function packageHash(p: MetaPackage): Uint8Array {
  const h = new PackageHash(utf8.encode(p.path), utf8.encode(p.name), utf8.encode(p.modulePath));
  for (const f of p.functions) {
    h.func(utf8.encode(f.name), utf8.encode(f.file));
    for (const u of f.units) h.unit(u.stLine, u.stCol, u.enLine, u.enCol, u.stmts);
    h.end(f.literal);
  }
  return h.digest();
}

/**
 * The MetaFileHash the runtime would give `meta` (its `hash` field is not read).
 *
 * @example encodeMetaFile(m) // has realHash(m) at bytes 24..40
 */
export function realHash(meta: ParsedMeta): string {
  return metaFileHash(meta.packages.map(packageHash), MODE_BYTES[meta.mode], meta.granularity);
}

/** `meta` with `hash` set to what its contents give (what parseMeta of its file returns). */
export function withRealHash(meta: ParsedMeta): ParsedMeta {
  return { ...meta, hash: realHash(meta) };
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
  blob.push(packageHash(p));
  blob.push([0, 0, 0, 0]);
  blob.u32(strings.length);
  blob.u32(funcs.length);
  for (const o of offsets) blob.u32(o);
  blob.push(table.bytes);
  for (const f of funcs) blob.push(f);
  return blob.bytes;
}

/**
 * A meta-data file for `meta` as the Go runtime writes it, hashes computed (`meta.hash` is not
 * read; `claim` puts that hash in the header instead: a forgery). Modes set/count/atomic.
 *
 * @example parseMeta(encodeMetaFile(meta)) // deep-equals withRealHash(meta)
 */
export function encodeMetaFile(meta: ParsedMeta, { claim }: { claim?: string } = {}): Uint8Array {
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
  out.set(hexBytes(claim ?? realHash(meta)), 24);
  v.setUint32(40, pre, true);
  v.setUint32(44, fileStrings.length, true);
  out[48] = MODE_BYTES[meta.mode];
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

/**
 * A hostile meta-data file: `packages` package slots (default 1) that all point at one blob of
 * `funcs` functions whose offsets all point at the first one, of `units` units (decoded as
 * written, `packages × funcs × units` units out of a few KB). Its hashes are the ones a decoder
 * that believed the offsets would compute.
 *
 * @example overlappingMeta(2000, 2000).length // ~18 KB, 4 million units if believed
 */
export function overlappingMeta(funcs: number, units: number, packages = 1): Uint8Array {
  const unit = { stLine: 1, stCol: 1, enLine: 1, enCol: 1, stmts: 1 };
  const fn = { name: "f", file: "f.go", literal: false, units: new Array(units).fill(unit) };
  const believed: MetaPackage = {
    path: "example.test/hostile",
    name: "hostile",
    modulePath: "example.test",
    functions: new Array(funcs).fill(fn),
  };
  const small = encodeMetaFile({
    hash: "",
    mode: "atomic",
    granularity: 1,
    packages: [{ ...believed, functions: [fn] }],
  });
  const v = new DataView(small.buffer);
  const pkg = Number(v.getBigUint64(56, true));
  const first = v.getUint32(pkg + 44, true);
  // The blob with funcs offsets (4 bytes each) in place of one: everything after them moves.
  const grow = 4 * (funcs - 1);
  const blob = new Uint8Array(small.length - pkg + grow);
  blob.set(small.subarray(pkg, pkg + 48), 0);
  blob.set(small.subarray(pkg + 48), 48 + grow);
  const b = new DataView(blob.buffer);
  b.setUint32(0, blob.length, true);
  b.setUint32(40, funcs, true);
  for (let i = 0; i < funcs; i++) b.setUint32(44 + 4 * i, first + grow, true);
  const pkgHash = packageHash(believed);
  blob.set(pkgHash, 16);
  // The file: `packages` offsets and lengths, all naming that one blob.
  const strtab = small.subarray(56 + 16, pkg);
  const at = 56 + 16 * packages + strtab.length;
  const out = new Uint8Array(at + blob.length);
  const w = new DataView(out.buffer);
  out.set(small.subarray(0, 56), 0);
  w.setBigUint64(8, BigInt(out.length), true);
  w.setBigUint64(16, BigInt(packages), true);
  w.setUint32(40, 56 + 16 * packages, true);
  for (let i = 0; i < packages; i++) {
    w.setBigUint64(56 + 8 * i, BigInt(at), true);
    w.setBigUint64(56 + 8 * (packages + i), BigInt(blob.length), true);
  }
  out.set(strtab, 56 + 16 * packages);
  out.set(blob, at);
  const claimed = metaFileHash(new Array(packages).fill(pkgHash), MODE_BYTES.atomic, 1);
  out.set(hexBytes(claimed), 24);
  return out;
}

/**
 * The smallest build: one package `x/p`, one function `F` of one 4-statement block (count mode).
 * @example const META = encodeMetaFile(ONE_BLOCK_BUILD), HASH = realHash(ONE_BLOCK_BUILD);
 */
export const ONE_BLOCK_BUILD: ParsedMeta = {
  hash: "",
  mode: "count",
  granularity: 1,
  packages: [{
    path: "x/p",
    name: "p",
    modulePath: "x",
    functions: [{
      name: "F",
      file: "x/p/a.go",
      literal: false,
      units: [{ stLine: 1, stCol: 1, enLine: 2, enCol: 1, stmts: 4 }],
    }],
  }],
};
