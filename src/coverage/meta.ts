/**
 * Decoder of a Go meta-data file (`covmeta.*`, Go ≥ 1.20), written from the format facts of the
 * toolchain's `internal/coverage` (little-endian throughout):
 *
 * - file header, 56 bytes: magic `00 63 76 6d`, version u32 (≤ 1), TotalLength u64, Entries u64
 *   (packages), MetaFileHash [16], StrTabOffset u32, StrTabLength u32, counter mode u8
 *   (1 set, 2 count, 3 atomic), granularity u8 (1 per block, 2 per function), 6 bytes padding;
 * - Entries package offsets (u64) then Entries package lengths (u64), then the file's string
 *   table; each package is a stand-alone blob at its offset;
 * - a package blob: header 44 bytes {Length u32, PkgName u32, PkgPath u32, ModulePath u32 (string
 *   indices), MetaHash [16], 4 bytes unused, NumFiles u32, NumFuncs u32}, NumFuncs function
 *   offsets (u32, from the blob's start), the blob's string table (ULEB128 count, then ULEB128
 *   length + bytes per string), then the functions;
 * - a function: ULEB128 numUnits, name index, file index, then per unit start line, start column,
 *   end line, end column and statement count, then a ULEB128 "is a function literal" flag.
 *
 * Nothing a server sends is believed: the runtime writes every package slot once, in order, after
 * the offset tables, and every function once, in order, after its package's string table; so
 * slots that overlap or go backwards (which would make a few KB decode as GBs) are refused, and
 * the work done is linear in the bytes (every unit decoded comes from bytes of its own). The
 * hashes are computed from the contents as the runtime computes them (meta_hash.ts) and must equal
 * the ones the file claims.
 */

import { metaFileHash } from "./meta_hash.ts";
import { hex, type MetaVisitor, parsePackage } from "./meta_package.ts";
import type { CounterMode, MetaFunction, MetaPackage, MetaWork, ParsedMeta } from "./meta_types.ts";
import { MetaParseError } from "./meta_types.ts";

export type { MetaVisitor } from "./meta_package.ts";

export type {
  CounterMode,
  MetaErrorKind,
  MetaFunction,
  MetaPackage,
  MetaUnit,
  MetaWork,
  ParsedMeta,
} from "./meta_types.ts";
export { MetaParseError } from "./meta_types.ts";

export const META_MAGIC = [0x00, 0x63, 0x76, 0x6d];
const FILE_HEADER = 56;
const MODES: Record<number, CounterMode> = { 1: "set", 2: "count", 3: "atomic" };

/** What a meta-data file says of itself once its hashes are checked. */
export interface MetaHeader {
  /** MetaFileHash, computed (and equal to the one claimed), 32 hex digits. */
  hash: string;
  mode: CounterMode;
  granularity: number;
}

/** The whole decode, as steps (a step ends every few thousand units). */
function* decode(
  bytes: Uint8Array,
  work: MetaWork,
  visit: MetaVisitor,
): Generator<void, MetaHeader> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < FILE_HEADER) {
    throw new MetaParseError(
      "truncated",
      bytes.length,
      `${bytes.length} bytes, shorter than the header (${FILE_HEADER})`,
    );
  }
  if (!META_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new MetaParseError("magic", 0, "no meta-data magic 00 63 76 6d");
  }
  const version = view.getUint32(4, true);
  if (version > 1) throw new MetaParseError("version", 4, `version ${version} is not 1`);
  const total = view.getBigUint64(8, true);
  if (total > BigInt(bytes.length)) {
    throw new MetaParseError(
      "truncated",
      8,
      `header says ${total} bytes, the file has ${bytes.length}`,
    );
  }
  const end = Number(total);
  const entries = view.getBigUint64(16, true);
  if (entries * 16n > BigInt(end - FILE_HEADER)) {
    throw new MetaParseError(
      "package",
      16,
      `header says ${entries} packages, more than the file can hold`,
    );
  }
  const mode = MODES[bytes[48]];
  if (mode === undefined) {
    throw new MetaParseError("mode", 48, `counter mode ${bytes[48]} is not set, count or atomic`);
  }
  const granularity = bytes[49];
  if (granularity !== 1 && granularity !== 2) {
    throw new MetaParseError("mode", 49, `granularity ${granularity} is not 1 or 2`);
  }
  const n = Number(entries);
  const hashes = new Array<Uint8Array>(n);
  // Slots in order, disjoint, after the offset tables: each package's bytes are decoded once.
  let floor = BigInt(FILE_HEADER + 16 * n);
  for (let i = 0; i < n; i++) {
    const off = view.getBigUint64(FILE_HEADER + 8 * i, true);
    const len = view.getBigUint64(FILE_HEADER + 8 * (n + i), true);
    if (off + len > BigInt(end) || off < floor) {
      throw new MetaParseError(
        "package",
        FILE_HEADER + 8 * i,
        `package ${i} at ${off}+${len} is outside the file's ${end} bytes or overlaps what comes ` +
          `before it (byte ${floor})`,
      );
    }
    floor = off + len;
    hashes[i] = yield* parsePackage(bytes, view, Number(off), Number(len), i, work, visit);
  }
  const hash = metaFileHash(hashes, bytes[48], granularity);
  const claimed = hex(bytes.subarray(24, 40));
  // Refused, not stored under the computed hash: a file whose bytes do not give the hash it
  // claims was not written by the Go runtime, and its claim is what would mislead a reader.
  if (claimed !== hash) {
    throw new MetaParseError(
      "hash",
      24,
      `header claims MetaFileHash ${claimed}, the contents hash to ${hash}`,
    );
  }
  return { hash, mode, granularity };
}

function runSync<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

async function runAsync<T>(
  steps: Generator<void, T>,
  { signal, budgetMs = 10 }: { signal?: AbortSignal; budgetMs?: number },
): Promise<T> {
  let started = performance.now();
  for (;;) {
    signal?.throwIfAborted();
    const r = steps.next();
    if (r.done) return r.value;
    if (performance.now() - started >= budgetMs) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      started = performance.now();
    }
  }
}

/** A visitor that builds the packages of a ParsedMeta. */
function collect(): MetaVisitor & { packages: MetaPackage[] } {
  let functions: MetaFunction[] = [];
  let fn: MetaFunction = { name: "", file: "", literal: false, units: [] };
  const packages: MetaPackage[] = [];
  return {
    packages,
    package(path, name, modulePath) {
      functions = [];
      packages.push({ path, name, modulePath, functions });
    },
    func(name, file) {
      fn = { name, file, literal: false, units: [] };
      functions.push(fn);
    },
    unit(stLine, stCol, enLine, enCol, stmts) {
      fn.units.push({ stLine, stCol, enLine, enCol, stmts });
    },
    end(literal) {
      fn.literal = literal;
    },
  };
}

/**
 * Decodes a meta-data file into `visit` and checks its hashes (see parseMeta for the errors);
 * `visit` sees the file in order, before the check: use what it built only when this returns.
 *
 * @example const header = visitMeta(bytes, tableBuilder) // { hash, mode, granularity }
 */
export function visitMeta(
  bytes: Uint8Array,
  visit: MetaVisitor,
  work: MetaWork = { functions: 0, units: 0 },
): MetaHeader {
  return runSync(decode(bytes, work, visit));
}

/**
 * As visitMeta, yielding to the event loop whenever it has decoded for `budgetMs` (a large file
 * does not stall health checks or other servers' pulls); rejects with the signal's reason when it
 * aborts.
 *
 * @example const header = await visitMetaAsync(bytes, tableBuilder, { signal });
 */
export function visitMetaAsync(
  bytes: Uint8Array,
  visit: MetaVisitor,
  { signal, budgetMs, work = { functions: 0, units: 0 } }: ParseMetaAsyncOptions = {},
): Promise<MetaHeader> {
  return runAsync(decode(bytes, work, visit), { signal, budgetMs });
}

/**
 * Decodes a meta-data file and checks its hashes. Throws MetaParseError (with `kind` and byte
 * offset) on anything malformed: bad magic or version, unknown counter mode or granularity, a
 * length or offset past the data, package slots or functions that overlap or go backwards, a
 * string index past its table, a hash that is not the one its contents give (`hash`). `work`
 * counts what was decoded.
 *
 * @example parseMeta(bytes).packages[0].functions[0] // { name: "main", file: "x/main.go", literal: false, units: [...] }
 */
export function parseMeta(
  bytes: Uint8Array,
  work: MetaWork = { functions: 0, units: 0 },
): ParsedMeta {
  const c = collect();
  return { ...visitMeta(bytes, c, work), packages: c.packages };
}

/** Options of parseMetaAsync. */
export interface ParseMetaAsyncOptions {
  signal?: AbortSignal;
  /** Longest run of decoding without yielding to the event loop, in ms. */
  budgetMs?: number;
  work?: MetaWork;
}

/**
 * As parseMeta, yielding to the event loop whenever it has decoded for `budgetMs` (a large file
 * does not stall health checks or other servers' pulls); rejects with the signal's reason when it
 * aborts.
 *
 * @example const meta = await parseMetaAsync(bytes, { signal, budgetMs: 10 });
 */
export async function parseMetaAsync(
  bytes: Uint8Array,
  opts: ParseMetaAsyncOptions = {},
): Promise<ParsedMeta> {
  const c = collect();
  return { ...await visitMetaAsync(bytes, c, opts), packages: c.packages };
}
