/** The /coverage JSON of a coverage server and the Go coverage files inside it: decode and check. */

import type { Identity } from "../target.ts";
import { MetaParseError } from "../coverage/meta.ts";
import {
  sharedTables,
  type StatementTable,
  statementTable,
  type StatementTables,
} from "../coverage/live.ts";
import { BodyError, CoverageBodyReader, type CoverageFields } from "./body_reader.ts";

/** What was wrong with a coverage response. */
export type CoverageErrorKind =
  | "json"
  | "base64"
  | "magic"
  | "truncated"
  | "hash"
  | "meta"
  | "name"
  | "size";

/** A coverage response is not usable; `kind` is the metric label. */
export class CoverageError extends Error {
  /** Set by a pull: the identity headers of the response the body came with. */
  identity?: Identity | null;
  /** Set by a pull: the HTTP status of that response. */
  status?: number;
  /** With kind `hash`: whose hash was not the computed one (the metric label). */
  file?: "meta" | "counters";
  constructor(readonly kind: CoverageErrorKind, message: string) {
    super(message);
    this.name = "CoverageError";
  }
}

/** The meta-data file (`covmeta.<hash>`), decoded and its hashes checked. */
export interface MetaFile {
  bytes: Uint8Array;
  /** Lower-case hex of MetaFileHash, computed from the contents (and equal to the one bytes
   * 24..40 claim): the `<hash>` of file names. */
  hash: string;
  /** Statements per unit (live coverage); shared by every server of the build. */
  table: StatementTable;
  /** The names a server may give the build's files: the hash, and the hex of bytes 16..32
   * that the field's servers take by mistake (reference §2). */
  names: string[];
}

/** The counter-data file (`covcounters.<hash>.<pid>.<n>`). */
export interface CountersFile {
  bytes: Uint8Array;
  /** Lower-case hex of the MetaHash the counters belong to (bytes 8..24). */
  metaHash: string;
  /** The PID from the server's counters file name. */
  pid: number;
  /** Counter flavor (1 raw, 2 ULEB128). */
  flavor: number;
}

export interface DecodedCoverage {
  meta?: MetaFile;
  counters: CountersFile;
  /** The server's time stamp (unix nanoseconds; may have lost precision as a JSON number). */
  timestamp?: number | string;
}

export interface DecodeOptions {
  /** A full pull: meta-data must be present. */
  expectMeta: boolean;
  /** The meta hash known from an earlier full pull, checked against nometa counters. */
  metaHash?: string;
  /** Names of that build (MetaFile.names) a nometa counters file name may carry. */
  metaNames?: readonly string[];
  /** The body's meta-data, already decoded and checked (verifyMeta): not decoded again. */
  meta?: MetaFile;
}

const META_MAGIC = [0x00, 0x63, 0x76, 0x6d];
const COUNTERS_MAGIC = [0x00, 0x63, 0x77, 0x6d];
/** Size of the meta-data file header. */
export const META_HEADER_SIZE = 56;
/** Size of the counter-data file header. */
export const COUNTERS_HEADER_SIZE = 32;
const COUNTERS_NAME = /^covcounters\.([^.\s/]+)\.(\d{1,10})\.(\d+)$/;

/** Lower-case hex of bytes. @example toHex(new Uint8Array([0, 171])) // "00ab" */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function hasMagic(bytes: Uint8Array, magic: number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}

/** The header checks, before any decoding: magic, header size, total length = its size. */
function checkMetaHeader(bytes: Uint8Array): void {
  if (!hasMagic(bytes, META_MAGIC)) {
    throw new CoverageError(
      "magic",
      "meta_data does not start with the meta-data magic 00 63 76 6d",
    );
  }
  if (bytes.length < META_HEADER_SIZE) {
    throw new CoverageError(
      "truncated",
      `meta_data is ${bytes.length} bytes, shorter than its ${META_HEADER_SIZE}-byte header`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const total = view.getBigUint64(8, true);
  if (total > BigInt(bytes.length)) {
    throw new CoverageError(
      "truncated",
      `meta_data is ${bytes.length} bytes but its header says ${total}`,
    );
  }
  if (total < BigInt(bytes.length)) {
    throw new CoverageError(
      "size",
      `meta_data is ${bytes.length} bytes but its header says ${total}`,
    );
  }
}

/** A MetaParseError as the CoverageError a pull counts: `hash` when a hash is not the computed
 * one, `meta` for anything else malformed. */
function asMetaError(e: unknown): unknown {
  if (!(e instanceof MetaParseError)) return e;
  const err = new CoverageError(e.kind === "hash" ? "hash" : "meta", `meta_data: ${e.message}`);
  if (e.kind === "hash") err.file = "meta";
  return err;
}

function metaFile(bytes: Uint8Array, table: StatementTable): MetaFile {
  const names = [table.hash, toHex(bytes.subarray(16, 32))];
  return { bytes, hash: table.hash, table, names };
}

/**
 * Checks a meta-data file: header, then the whole file decoded (bounded, linear) and its hashes
 * computed: a file the Go runtime could not have written is refused.
 *
 * @example decodeMeta(metaBytes).hash // "35a61003cb4b085d49d535d4f1f0be5e"
 */
export function decodeMeta(bytes: Uint8Array): MetaFile {
  checkMetaHeader(bytes);
  try {
    return metaFile(bytes, statementTable(bytes));
  } catch (e) {
    throw asMetaError(e);
  }
}

/**
 * As decodeMeta, yielding to the event loop while it decodes (a large file does not stall the
 * daemon), and sharing the build's table from `tables` when these bytes were checked before.
 *
 * @example const meta = await verifyMeta(bytes, { signal }); meta.hash // computed
 */
export async function verifyMeta(
  bytes: Uint8Array,
  { tables = sharedTables, signal }: { tables?: StatementTables; signal?: AbortSignal } = {},
): Promise<MetaFile> {
  checkMetaHeader(bytes);
  try {
    return metaFile(bytes, await tables.verify(bytes, { signal }));
  } catch (e) {
    throw asMetaError(e);
  }
}

/**
 * Checks a counter-data file and takes the PID from the server's file name.
 *
 * @example decodeCounters(bytes, "covcounters.abc.1.1732270000123456789").pid // 1
 */
export function decodeCounters(bytes: Uint8Array, filename: string): CountersFile {
  const name = COUNTERS_NAME.exec(filename);
  if (!name) {
    throw new CoverageError(
      "name",
      `counters_filename "${filename.slice(0, 120)}" is not covcounters.<hash>.<pid>.<nanotime>`,
    );
  }
  if (!hasMagic(bytes, COUNTERS_MAGIC)) {
    throw new CoverageError(
      "magic",
      "counters_data does not start with the counter-data magic 00 63 77 6d",
    );
  }
  if (bytes.length < COUNTERS_HEADER_SIZE) {
    throw new CoverageError(
      "truncated",
      `counters_data is ${bytes.length} bytes, shorter than its ${COUNTERS_HEADER_SIZE}-byte header`,
    );
  }
  return {
    bytes,
    metaHash: toHex(bytes.subarray(8, 24)),
    pid: Number(name[2]),
    flavor: bytes[24],
  };
}

function countersMismatch(message: string): CoverageError {
  const e = new CoverageError("hash", message);
  e.file = "counters";
  return e;
}

/**
 * Decodes and checks a /coverage body given whole (its text or bytes, or parsed JSON): see
 * CoverageBodyReader for the streaming read a pull uses, and checkCoverage for the checks.
 *
 * @example decodeCoverage(bodyText, { expectMeta: true }).meta?.hash // "0123...cdef"
 */
export function decodeCoverage(
  body: string | Uint8Array | object,
  opts: DecodeOptions,
): DecodedCoverage {
  const bytes = body instanceof Uint8Array
    ? body
    : new TextEncoder().encode(typeof body === "string" ? body : JSON.stringify(body));
  const reader = new CoverageBodyReader(bytes.byteLength);
  try {
    reader.push(bytes);
    return checkCoverage(reader.finish(), opts);
  } catch (e) {
    throw asCoverageError(e);
  }
}

/** A BodyError from the streaming reader as the CoverageError of the same kind. */
export function asCoverageError(e: unknown): unknown {
  return e instanceof BodyError ? new CoverageError(e.kind, e.message) : e;
}

/**
 * Checks the decoded fields of a /coverage body. The hash of names is computed from the meta
 * contents, never taken from the server's file names or the header's claim (servers in the field
 * name files from the wrong bytes); counters must belong to it by their header and their name.
 *
 * @example checkCoverage(reader.finish(), { expectMeta: false, metaHash }).counters.pid // 1
 */
export function checkCoverage(data: CoverageFields, opts: DecodeOptions): DecodedCoverage {
  let meta: MetaFile | undefined = opts.meta;
  if (meta === undefined && data.meta_data.byteLength > 0) meta = decodeMeta(data.meta_data);
  else if (meta === undefined && opts.expectMeta) {
    throw new CoverageError("json", "meta_data is empty in a full (not nometa) pull");
  }
  if (data.counters_data.byteLength === 0) {
    throw new CoverageError("json", "counters_data is empty");
  }
  const counters = decodeCounters(data.counters_data, data.counters_filename);
  if (meta && opts.metaHash !== undefined && meta.hash !== opts.metaHash) {
    throw new CoverageError(
      "hash",
      `meta_data has hash ${meta.hash}, not ${opts.metaHash} as on the first pull`,
    );
  }
  const expected = meta?.hash ?? opts.metaHash;
  if (expected !== undefined && counters.metaHash !== expected) {
    throw countersMismatch(
      `counters_data belongs to meta hash ${counters.metaHash}, not ${expected}`,
    );
  }
  // The server's name for the counters must be one the build goes by (or "unknown": an old
  // server before its first full pull).
  const names = meta?.names ?? opts.metaNames;
  const named = COUNTERS_NAME.exec(data.counters_filename)?.[1];
  if (names && named !== undefined && named !== "unknown" && !names.includes(named)) {
    throw countersMismatch(
      `counters_filename names meta hash ${named.slice(0, 64)}, not ${names.join(" or ")}`,
    );
  }
  return { meta, counters, timestamp: data.timestamp };
}
