/**
 * Decoder of the payload of a Go counter-data file (`covcounters.*`, Go ≥ 1.20), written from
 * the format facts of the toolchain's `internal/coverage` (little-endian unless said otherwise):
 *
 * - file header, 32 bytes: magic `00 63 77 6d`, version u32 (≤ 1), MetaHash [16], counter
 *   flavor u8 (1 raw u32, 2 ULEB128), big-endian flag u8 (raw counters only), 6 bytes padding;
 * - one or more segments, each followed by a 16-byte footer {magic, pad u32, NumSegments u32,
 *   pad u32}; the last footer ends the file and holds the number of segments (never 0);
 * - a segment: header {FcnEntries u64, StrTabLen u32, ArgsLen u32}, a string table of StrTabLen
 *   bytes (ULEB128 count, then ULEB128 length + bytes per string), ArgsLen bytes of args (the
 *   writer's padding to a multiple of 4 from the segment start included), then FcnEntries
 *   function entries: numCounters, pkgIdx, funcIdx, then numCounters values, each value a raw u32
 *   or a ULEB128 of a u32 by the flavor.
 */

import { type ByteFaultKind, ByteReader, readStrings, type What } from "./byte_reader.ts";

/** What was wrong with a counter-data payload. */
export type CountersErrorKind =
  | "magic"
  | "version"
  | "flavor"
  | "truncated"
  | "segments"
  | "strtab"
  | "value"
  /** Too large to judge without the meta-data (see `coveredUnits`); not malformed. */
  | "size";

/** A counter-data payload is malformed; `offset` is the byte where the problem was seen. */
export class CountersParseError extends Error {
  constructor(readonly kind: CountersErrorKind, readonly offset: number, message: string) {
    super(`counter data: ${message} (at byte ${offset})`);
    this.name = "CountersParseError";
  }
}

/** The counters of one function (pkgIdx, funcIdx index the meta-data file). */
export interface FunctionCounters {
  pkgIdx: number;
  funcIdx: number;
  counters: number[];
}

/** A decoded counter-data file: functions of every segment, in file order. */
export interface ParsedCounters {
  /** 1 raw u32, 2 ULEB128. */
  flavor: 1 | 2;
  segments: number;
  functions: FunctionCounters[];
}

const MAGIC = [0x00, 0x63, 0x77, 0x6d];
const HEADER = 32;
const FOOTER = 16;
const SEGMENT_HEADER = 16;
const countersError = (kind: ByteFaultKind, offset: number, message: string) =>
  new CountersParseError(kind, offset, message);
/** Faults inside a string table are of kind "strtab". */
const strtabError = (_: ByteFaultKind, offset: number, message: string) =>
  new CountersParseError("strtab", offset, message);

function hasMagic(bytes: Uint8Array, at: number): boolean {
  return MAGIC.every((b, i) => bytes[at + i] === b);
}

/** Walks a string table (it must fill exactly `len` bytes); its strings are not needed. */
function skipStringTable(r: ByteReader, len: number, what: string): void {
  const sub = r.sub(len, what, strtabError);
  readStrings(sub, what, false);
  if (sub.pos !== sub.end) {
    throw strtabError(
      "strtab",
      sub.pos,
      `${what} has ${sub.end - sub.pos} bytes after its strings`,
    );
  }
  r.pos += len;
}

/**
 * What a walk of a counter-data file reports, in file order. `function` comes before any of the
 * entry's counters are read (nor their bytes checked), so a visitor that throws there costs
 * nothing more.
 */
export interface CountersVisitor {
  /** A function entry of `n` counters at byte `at`. */
  function(pkgIdx: number, funcIdx: number, n: number, at: number): void;
  /** Counter `i` of the entry last announced has value `v` (zero values included). */
  counter(i: number, v: number): void;
}

/**
 * Walks a counter-data file, handing each function entry and counter to `visit`, and returns
 * its flavor and segment count. Throws CountersParseError (with `kind` and byte offset) on
 * anything malformed: bad magic or version, unknown flavor, a footer that does not match the
 * segments found, or a length that runs past the data; whatever `visit` throws passes through.
 *
 * @example walkCounters(bytes, { function: (p, f, n) => console.log(p, f, n), counter: () => {} })
 */
export function walkCounters(
  bytes: Uint8Array,
  visit: CountersVisitor,
): Omit<ParsedCounters, "functions"> {
  const steps = walkSteps(bytes, visit, Infinity);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Options of `walkCountersAsync`. */
export interface WalkOptions {
  signal?: AbortSignal;
  /** Entries and counters read between pauses (default 2^18: a few ms). */
  budget?: number;
  /** Lets the event loop run (default: a zero timeout). */
  pause?: () => Promise<unknown>;
}

/**
 * As `walkCounters`, pausing every `budget` entries and counters so that a large file never
 * stalls the event loop for long; rejects with the signal's reason once it aborts.
 *
 * @example await walkCountersAsync(bytes, visitor, { signal })
 */
export async function walkCountersAsync(
  bytes: Uint8Array,
  visit: CountersVisitor,
  { signal, budget = 1 << 18, pause = () => new Promise((r) => setTimeout(r, 0)) }: WalkOptions =
    {},
): Promise<Omit<ParsedCounters, "functions">> {
  const steps = walkSteps(bytes, visit, budget);
  for (;;) {
    signal?.throwIfAborted();
    const step = steps.next();
    if (step.done) return step.value;
    await pause();
  }
}

/** The walk, yielding after every `budget` entries and counters read. */
function* walkSteps(
  bytes: Uint8Array,
  visit: CountersVisitor,
  budget: number,
): Generator<void, Omit<ParsedCounters, "functions">> {
  let work = 0;
  if (bytes.length < HEADER + FOOTER) {
    throw new CountersParseError(
      "truncated",
      bytes.length,
      `${bytes.length} bytes, shorter than header and footer (${HEADER + FOOTER})`,
    );
  }
  if (!hasMagic(bytes, 0)) {
    throw new CountersParseError("magic", 0, "no counter-data magic 00 63 77 6d");
  }
  const footerAt = bytes.length - FOOTER;
  const r = new ByteReader(bytes, 4, footerAt, countersError);
  const version = r.u32("version");
  if (version > 1) throw new CountersParseError("version", 4, `version ${version} is not 1`);
  const flavor = bytes[24];
  if (flavor !== 1 && flavor !== 2) {
    throw new CountersParseError("flavor", 24, `counter flavor ${flavor} is neither 1 nor 2`);
  }
  const bigEndian = bytes[25] !== 0;
  if (!hasMagic(bytes, footerAt)) {
    throw new CountersParseError("magic", footerAt, "footer has no counter-data magic");
  }
  const segments = r.view.getUint32(footerAt + 8, true);
  if (segments === 0) {
    throw new CountersParseError("segments", footerAt + 8, "footer says 0 segments");
  }
  const value = flavor === 2 ? (w: What) => r.uleb(w) : (w: What) => r.u32(w, bigEndian);
  // The function and counter being read, for the error messages.
  let fn = 0;
  let ctr = 0;
  const count = () => `function ${fn} counter count`;
  const pkg = () => `function ${fn} package index`;
  const func = () => `function ${fn} function index`;
  const ctrs = (n: number) => () => `function ${fn}'s ${n} counters`;
  const one = () => `function ${fn} counter ${ctr}`;
  const minValue = flavor === 2 ? 1 : 4;
  r.pos = HEADER;
  for (let s = 0; s < segments; s++) {
    if (s > 0) {
      // The footer written after the previous segment.
      r.need(FOOTER, `footer before segment ${s}`);
      if (!hasMagic(bytes, r.pos)) {
        throw new CountersParseError("segments", r.pos, `no footer before segment ${s}`);
      }
      r.pos += FOOTER;
    }
    const at = r.pos;
    r.need(SEGMENT_HEADER, `segment ${s} header`);
    const entries = r.view.getBigUint64(r.pos, true);
    const strLen = r.view.getUint32(r.pos + 8, true);
    const argsLen = r.view.getUint32(r.pos + 12, true);
    r.pos += SEGMENT_HEADER;
    skipStringTable(r, strLen, `segment ${s} string table`);
    r.need(argsLen, `segment ${s} args`);
    r.pos += argsLen;
    // Header + string table + args are padded to a multiple of 4 from the segment's start. Go's
    // writer counts that padding in ArgsLen, so this skips nothing for its files. (Go's reader
    // aligns the file offset instead: the same for the first segment, which starts at byte 32.)
    r.pos += (4 - ((r.pos - at) % 4)) % 4;
    if (entries * BigInt(3 * minValue) > BigInt(Math.max(0, footerAt - r.pos))) {
      throw new CountersParseError(
        "truncated",
        at,
        `segment ${s} says ${entries} functions, more than its bytes can hold`,
      );
    }
    for (fn = 0; fn < Number(entries); fn++) {
      const entryAt = r.pos;
      const n = value(count);
      const pkgIdx = value(pkg);
      const funcIdx = value(func);
      visit.function(pkgIdx, funcIdx, n, entryAt);
      if (r.pos + n * minValue > r.end) r.need(n * minValue, ctrs(n));
      if (++work >= budget) work = 0, yield;
      for (ctr = 0; ctr < n;) {
        const stop = Math.min(n, ctr + (budget - work));
        work += stop - ctr;
        if (flavor === 2) {
          // The common one-byte ULEB128 read in place; anything longer by the checked reader.
          for (; ctr < stop; ctr++) {
            const b = bytes[r.pos];
            if (b < 0x80 && r.pos < r.end) r.pos++, visit.counter(ctr, b);
            else visit.counter(ctr, value(one));
          }
        } else {
          for (; ctr < stop; ctr++) visit.counter(ctr, value(one));
        }
        if (work >= budget) work = 0, yield;
      }
    }
  }
  if (r.pos !== footerAt) {
    throw new CountersParseError(
      "segments",
      r.pos,
      `${footerAt - r.pos} bytes after the ${segments} segment(s) the footer counts`,
    );
  }
  return { flavor, segments };
}

/**
 * Decodes a counter-data file into arrays (for `report` and tests; the collector's store rule
 * uses `coveredUnits`, which holds no array per function). Throws as `walkCounters`.
 *
 * @example parseCounters(bytes).functions[0] // { pkgIdx: 0, funcIdx: 3, counters: [1, 0, 2] }
 */
export function parseCounters(bytes: Uint8Array): ParsedCounters {
  const functions: FunctionCounters[] = [];
  let counters: number[] = [];
  const head = walkCounters(bytes, {
    function(pkgIdx, funcIdx) {
      // Not sized by `n`: the walk checks the count against the bytes only after this call.
      counters = [];
      functions.push({ pkgIdx, funcIdx, counters });
    },
    counter(_, v) {
      counters.push(v);
    },
  });
  return { ...head, functions };
}

/**
 * The covered blocks: one key `pkgIdx:funcIdx:counterIndex` per nonzero counter.
 *
 * @example coveredSet({ flavor: 2, segments: 1, functions: [{ pkgIdx: 0, funcIdx: 1, counters: [0, 5] }] }) // Set {"0:1:1"}
 */
export function coveredSet(parsed: ParsedCounters): Set<string> {
  const set = new Set<string>();
  for (const f of parsed.functions) {
    f.counters.forEach((v, i) => {
      if (v !== 0) set.add(`${f.pkgIdx}:${f.funcIdx}:${i}`);
    });
  }
  return set;
}

/**
 * True when `current` holds a key that `base` does not (new code ran since `base`).
 *
 * @example coversMore(new Set(["0:1:1"]), new Set()) // true
 */
export function coversMore(current: ReadonlySet<string>, base: ReadonlySet<string>): boolean {
  for (const k of current) if (!base.has(k)) return true;
  return false;
}
