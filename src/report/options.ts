/** `report`'s formats, and the one validated options object its flags (flags.ts) make. */

import { errorText, UsageError } from "../errors.ts";
import { groupByFlag, type Grouping } from "./group_by.ts";
import { LINE_FORMATS } from "./line_formats.ts";
import type { PathFlags } from "./paths.ts";
import type { PrefixFilter } from "./prefixes.ts";
import { segmentTime } from "./prefixes.ts";
import { parseShard, type Shard } from "./shard.ts";
import { SourceRoots } from "./source_files.ts";
import { readWindows, rfc3339, type Window, WindowsError } from "./windows.ts";

export const REPORT_FORMATS = [
  "text",
  "json",
  "html",
  "textfmt",
  "covdata",
  ...LINE_FORMATS,
  "codecov",
] as const;
export type ReportFormat = typeof REPORT_FORMATS[number];

/** The hint of every usage error of `report`. */
export const HINT = "see coverage-collector report --help";

/** What the command line of `report` may hold (parseArgs' values). */
export type ReportArgs = Record<string, string | boolean | string[] | undefined>;

function time(flag: string, v: string | boolean | string[] | undefined): Date | undefined {
  if (typeof v !== "string") return undefined;
  const d = segmentTime(v) ?? new Date(v);
  if (Number.isNaN(d.getTime())) {
    throw new UsageError(`--${flag} ${JSON.stringify(v)} is not a time (ISO 8601)`, HINT);
  }
  return d;
}

/** A repeatable flag's values. @example list(["a", "b"]) // ["a", "b"] */
export function list(v: string | boolean | string[] | undefined): string[] {
  return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
}

function coveredTime(flag: string, v: string | boolean | string[] | undefined): number | undefined {
  if (typeof v !== "string") return undefined;
  const ms = rfc3339(v);
  if (typeof ms === "string") throw new UsageError(`--${flag} ${JSON.stringify(v)} ${ms}`, HINT);
  return ms;
}

/** A string flag's value. @example str("x") // "x" */
export function str(v: string | boolean | string[] | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** The validated options of one `report` run. */
export interface ReportOptions {
  format: ReportFormat;
  out?: string;
  concurrency: number;
  filter: PrefixFilter;
  coveredSince?: number;
  coveredUntil?: number;
  /** `--windows FILE` and the windows it lists (none: undefined and []). */
  windowsFile?: string;
  windows: Window[];
  grouping?: Grouping;
  /** `--source DIR`s of the HTML report (html only). */
  roots?: SourceRoots;
  /** `--shard K/N`: read only this shard and write a partial. */
  shard?: Shard;
  pathFlags: PathFlags;
  /** `--diff SOURCE`. */
  diffWith?: string;
  diffBase?: string;
  diffFile?: string;
  repo: string;
}

/**
 * The options of `report`'s flags, every combination checked (a UsageError names the flag).
 *
 * @example const o = await reportOptions({ format: "json" }); // o.format === "json"
 */
export async function reportOptions(extra: ReportArgs): Promise<ReportOptions> {
  const format = (str(extra.format) ?? "text") as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) {
    throw new UsageError(
      `--format ${JSON.stringify(format)} is not one of ${REPORT_FORMATS.join(", ")}`,
      HINT,
    );
  }
  const pathFlag = ["strip-prefix", "path-map", "exclude-file"].find((f) => list(extra[f]).length);
  const mapsPaths = (LINE_FORMATS as readonly string[]).includes(format) || format === "codecov" ||
    str(extra["diff-base"]) !== undefined || str(extra["diff-file"]) !== undefined;
  if (pathFlag && !mapsPaths) {
    throw new UsageError(
      `--${pathFlag} is for --format ${LINE_FORMATS.join(", ")}, codecov, --diff-base, --diff-file`,
      HINT,
    );
  }
  const sourceDirs = list(extra.source);
  if (sourceDirs.length > 0 && format !== "html") {
    throw new UsageError(`--source is for --format html, not ${format}`, HINT);
  }
  let roots: SourceRoots | undefined;
  if (format === "html") {
    try {
      roots = await SourceRoots.open(sourceDirs);
    } catch (e) {
      throw new UsageError(errorText(e), HINT);
    }
  }
  const out = str(extra.out);
  if ((format === "covdata" || format === "codecov") && out === undefined) {
    throw new UsageError(`--format ${format} needs --out DIR`, HINT);
  }
  if (out?.startsWith("s3:") && format !== "covdata") {
    throw new UsageError("--out s3://bucket/prefix is for --format covdata", HINT);
  }
  const concurrency = Number(str(extra.concurrency) ?? "16");
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) {
    throw new UsageError(`--concurrency ${extra.concurrency} is not a number from 1 to 256`, HINT);
  }
  const filter: PrefixFilter = {
    binary: str(extra.binary),
    namespace: str(extra.namespace),
    node: str(extra.node),
    since: time("since", extra.since),
    until: time("until", extra.until),
  };
  const coveredSince = coveredTime("covered-since", extra["covered-since"]);
  const coveredUntil = coveredTime("covered-until", extra["covered-until"]);
  const windowsFile = str(extra.windows);
  let windows: Window[] = [];
  if (windowsFile !== undefined) {
    if (format !== "text" && format !== "json" && format !== "html") {
      throw new UsageError(`--windows writes text, json or html, not ${format}`, HINT);
    }
    try {
      windows = await readWindows(windowsFile);
    } catch (e) {
      if (e instanceof WindowsError) throw new UsageError(`--windows ${e.message}`, HINT);
      throw e;
    }
  }
  const grouping = groupByFlag(extra["group-by"], format, extra.diff !== undefined);
  let shard: Shard | undefined;
  if (typeof extra.shard === "string") {
    shard = parseShard(extra.shard, HINT);
    if (format !== "covdata") {
      throw new UsageError("--shard writes a partial: --format covdata --out DIR", HINT);
    }
    const other = ["diff", "covered-since", "covered-until", "diff-base", "diff-file"].find((f) =>
      extra[f] !== undefined
    );
    if (other) {
      throw new UsageError(`--${other} applies when the partials are read, not with --shard`, HINT);
    }
  }
  const diffBase = str(extra["diff-base"]), diffFile = str(extra["diff-file"]);
  const diffWith = str(extra.diff);
  if (diffWith !== undefined && windowsFile !== undefined) {
    throw new UsageError("--windows does not go with --diff", HINT);
  }
  if (diffBase !== undefined || diffFile !== undefined) {
    if (format !== "text" && format !== "json") {
      throw new UsageError(`--diff-base and --diff-file write text or json, not ${format}`, HINT);
    }
    if (diffBase !== undefined && diffFile !== undefined) {
      throw new UsageError("--diff-base and --diff-file: give one", HINT);
    }
  }
  return {
    format,
    out,
    concurrency,
    filter,
    coveredSince,
    coveredUntil,
    windowsFile,
    windows,
    grouping,
    roots,
    shard,
    pathFlags: {
      stripPrefix: list(extra["strip-prefix"]),
      pathMap: list(extra["path-map"]),
      excludeFile: list(extra["exclude-file"]),
    },
    diffWith,
    diffBase,
    diffFile,
    repo: str(extra.repo) ?? ".",
  };
}
