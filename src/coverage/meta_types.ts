/** The values and the error of the meta-data decoder (meta.ts), apart so its parts share them. */

/** What was wrong with a meta-data file. */
export type MetaErrorKind =
  | "magic"
  | "version"
  | "mode"
  | "truncated"
  | "package"
  | "strtab"
  | "function"
  | "value"
  | "hash";

/** A meta-data file is malformed; `offset` is the byte (of the file) where it was seen. */
export class MetaParseError extends Error {
  constructor(readonly kind: MetaErrorKind, readonly offset: number, message: string) {
    super(`meta-data: ${message} (at byte ${offset})`);
    this.name = "MetaParseError";
  }
}

/** One coverable unit (a basic block): source span and statement count. */
export interface MetaUnit {
  stLine: number;
  stCol: number;
  enLine: number;
  enCol: number;
  stmts: number;
}

/** One function of a package: its units are indexed like its counters. */
export interface MetaFunction {
  name: string;
  file: string;
  /** A function literal (closure). */
  literal: boolean;
  units: MetaUnit[];
}

export interface MetaPackage {
  path: string;
  name: string;
  modulePath: string;
  functions: MetaFunction[];
}

/** Counter modes of the meta-data header. */
export type CounterMode = "set" | "count" | "atomic";

/** A decoded meta-data file; packages are in file order (what counter files index). */
export interface ParsedMeta {
  /** MetaFileHash as 32 hex digits (what `covmeta.<hash>` names), computed from the contents
   * (and equal to the one the header claims, or the file is refused). */
  hash: string;
  mode: CounterMode;
  /** 1 per block, 2 per function. */
  granularity: number;
  packages: MetaPackage[];
}

/** Work a decode did, counted as it allocates (a test figure: it must stay linear in the bytes). */
export interface MetaWork {
  functions: number;
  units: number;
}
