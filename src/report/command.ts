/** `coverage-collector report <source>`: merged coverage of a stored directory or S3 location. */

import { join } from "node:path";
import type { Config } from "../config.ts";
import { CredentialsError, findCredentials } from "../sink/registry_auth.ts";
import { encodeCounters } from "../coverage/encode_counters.ts";
import { errorText, UsageError } from "../errors.ts";
import { s3SinkFor } from "../sink/select.ts";
import { createSystem } from "../system.ts";
import { safeJson, safeText } from "../terminal_text.ts";
import { diffReads, renderDiffText } from "./diff.ts";
import { LINE_FORMATS, lineReport } from "./line_formats.ts";
import { PathFlagError } from "./paths.ts";
import { groupByFlag, groupedOutput } from "./group_by.ts";
import { renderHtml } from "./html.ts";
import { buildReport, renderText } from "./model.ts";
import type { PrefixFilter } from "./prefixes.ts";
import { segmentTime } from "./prefixes.ts";
import { type ReadResult, readStore } from "./read.ts";
import { DirReader, parseS3Url, S3ListError, S3Reader, type StoreReader } from "./store.ts";
import { refusedLine, textfmtOf } from "./textfmt.ts";
import { VERSION } from "../version.ts";
import { coveredIn } from "./first_covered.ts";
import { binaryTimeline } from "./timeline_report.ts";
import { renderTimelineText } from "./timeline_text.ts";
import { readWindows, rfc3339, type Window, WindowsError } from "./windows.ts";

export const REPORT_FORMATS = [
  "text",
  "json",
  "html",
  "textfmt",
  "covdata",
  ...LINE_FORMATS,
] as const;
export type ReportFormat = typeof REPORT_FORMATS[number];

export { REPORT_FLAGS } from "./flags.ts";

const HINT = "see coverage-collector report --help";

function time(flag: string, v: string | boolean | string[] | undefined): Date | undefined {
  if (typeof v !== "string") return undefined;
  const d = segmentTime(v) ?? new Date(v);
  if (Number.isNaN(d.getTime())) {
    throw new UsageError(`--${flag} ${JSON.stringify(v)} is not a time (ISO 8601)`, HINT);
  }
  return d;
}

function list(v: string | boolean | string[] | undefined): string[] {
  return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
}

function coveredTime(flag: string, v: string | boolean | string[] | undefined): number | undefined {
  if (typeof v !== "string") return undefined;
  const ms = rfc3339(v);
  if (typeof ms === "string") throw new UsageError(`--${flag} ${JSON.stringify(v)} ${ms}`, HINT);
  return ms;
}

function str(v: string | boolean | string[] | undefined): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/**
 * The store of a source argument: `s3://bucket/prefix` (credentials and endpoint as the sink's)
 * or a local directory.
 *
 * @example const store = await openStore("coverage-data", config);
 */
export async function openStore(
  source: string,
  config: Pick<Config, "credentialsFile" | "s3Endpoint" | "s3PathStyle" | "hostRoot">,
): Promise<StoreReader> {
  const s3 = parseS3Url(source);
  if (source.startsWith("s3:")) {
    if (!s3) {
      throw new UsageError(`source ${JSON.stringify(source)} is not s3://bucket/prefix`, HINT);
    }
    let creds;
    try {
      creds = await findCredentials(createSystem(config.hostRoot), config.credentialsFile);
    } catch (e) {
      if (e instanceof CredentialsError) throw new UsageError(`${source}: ${e.message}`, HINT);
      throw e;
    }
    return new S3Reader(
      s3SinkFor({ ...creds, bucket: s3.bucket, s3BasePath: s3.prefix }, config, {
        retry: { attempts: 3 },
      }),
    );
  }
  let st;
  try {
    st = await Deno.stat(source);
  } catch (e) {
    throw new UsageError(`source ${source}: ${errorText(e)}`, HINT);
  }
  if (!st.isDirectory) throw new UsageError(`source ${source} is not a directory`, HINT);
  return new DirReader(source);
}

/** The report command. @example await runReport(ctx) // 0 */
export async function runReport(ctx: {
  config: Config;
  extra: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}): Promise<number> {
  const { extra } = ctx;
  // Messages quote stored paths and names: no control of them reaches the terminal.
  const stderr = (s: string) => ctx.stderr(safeText(s));
  const format = (str(extra.format) ?? "text") as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) {
    throw new UsageError(
      `--format ${JSON.stringify(format)} is not one of ${REPORT_FORMATS.join(", ")}`,
      HINT,
    );
  }
  const pathFlag = ["strip-prefix", "path-map", "exclude-file"].find((f) => list(extra[f]).length);
  if (pathFlag && !(LINE_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--${pathFlag} is for --format ${LINE_FORMATS.join(", ")}`, HINT);
  }
  const out = str(extra.out);
  if (format === "covdata" && out === undefined) {
    throw new UsageError("--format covdata needs --out DIR", HINT);
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
  const source = ctx.positionals[0];
  const read = async (src: string): Promise<ReadResult> => {
    const store = await openStore(src, ctx.config);
    const started = Date.now();
    return readStore(store, {
      filter,
      concurrency,
      grouping,
      maxBytes: ctx.config.maxBody,
      progress: (done, total, phase) => {
        const secs = ((Date.now() - started) / 1000).toFixed(0);
        stderr(
          phase === "listing"
            ? `report: listing ${store.description}: ${done} objects (${secs}s)`
            : `report: reading ${store.description}: ${done}/${total} prefixes (${secs}s)`,
        );
      },
    });
  };
  const listed = async (src: string): Promise<ReadResult | undefined> => {
    try {
      return await read(src);
    } catch (e) {
      if (!(e instanceof S3ListError)) throw e;
      stderr(`report: ${e.message}`);
      return undefined;
    }
  };
  const here = await listed(source);
  if (here === undefined) return 1;
  const emit = async (text: string) => {
    if (out === undefined) ctx.stdout(text.replace(/\n$/, ""));
    else await Deno.writeTextFile(out, text);
  };
  if (coveredSince !== undefined || coveredUntil !== undefined) {
    for (const b of here.binaries) {
      if (b.timeline === undefined) {
        stderr(
          `report: binary ${[...b.names].sort().join(",")} (${
            b.hash.slice(0, 12)
          }) has no stored timeline: --covered-since/--covered-until keep none of its blocks`,
        );
      }
      b.profile = coveredIn(b.profile, b.timeline, coveredSince, coveredUntil);
    }
  }
  const diffWith = str(extra.diff);
  if (diffWith !== undefined) {
    if (windowsFile !== undefined) throw new UsageError("--windows does not go with --diff", HINT);
    const there = await listed(diffWith);
    if (there === undefined) return 1;
    const diffs = diffReads(here, there);
    if (format === "json") {
      await emit(safeJson({ source, other: diffWith, binaries: diffs }, undefined, 2) + "\n");
    } else if (format === "text") await emit(renderDiffText(diffs, source, diffWith) + "\n");
    else throw new UsageError(`--diff writes text or json, not ${format}`, HINT);
    for (const e of [...here.errors, ...there.errors]) {
      stderr(`report: unreadable prefix ${e.prefix}: ${e.error}`);
    }
    return here.errors.length + there.errors.length > 0 ? 1 : 0;
  }
  const report = buildReport(here);
  // With --windows every binary gets its timeline figures; the HTML page draws the curve of
  // every binary with a stored timeline even without. Text and JSON stay as they were without.
  here.binaries.forEach((b, i) => {
    if (windowsFile !== undefined || (format === "html" && b.timeline !== undefined)) {
      report.binaries[i].timeline = binaryTimeline(b.profile, b.timeline, windows);
    }
  });
  if (grouping) {
    await emit(groupedOutput(report, grouping.by, format));
    for (const e of here.errors) stderr(`report: unreadable prefix ${e.prefix}: ${e.error}`);
    return here.errors.length > 0 ? 1 : 0;
  }
  switch (format) {
    case "text": {
      const parts = [renderText(report)];
      if (windowsFile !== undefined) {
        for (const b of report.binaries) {
          parts.push("", renderTimelineText(b.binary, b.hash, b.timeline!));
        }
      }
      await emit(parts.join("\n") + "\n");
      break;
    }
    case "json":
      await emit(safeJson(report, undefined, 2) + "\n");
      break;
    case "html":
      await emit(renderHtml(report));
      break;
    case "textfmt": {
      const modes = new Set(here.binaries.map((b) => b.profile.meta.mode));
      if (modes.size > 1) {
        throw new UsageError(
          `the binaries have different counter modes (${
            [...modes].join(", ")
          }); pick one with --binary`,
          HINT,
        );
      }
      const { text, refused } = textfmtOf(here.binaries, [...modes][0] ?? "set");
      await emit(text);
      for (const r of refused) ctx.stderr(refusedLine(r));
      for (const e of here.errors) stderr(`report: unreadable prefix ${e.prefix}: ${e.error}`);
      return here.errors.length + refused.length > 0 ? 1 : 0;
    }
    case "cobertura":
    case "lcov":
    case "sonar": {
      let r;
      try {
        r = lineReport(here, format, {
          stripPrefix: list(extra["strip-prefix"]),
          pathMap: list(extra["path-map"]),
          excludeFile: list(extra["exclude-file"]),
        }, { timestamp: Date.now(), version: VERSION });
      } catch (e) {
        if (e instanceof PathFlagError) throw new UsageError(e.message, HINT);
        throw e;
      }
      await emit(r.text);
      for (const n of r.notes) stderr(n);
      for (const e of here.errors) stderr(`report: unreadable prefix ${e.prefix}: ${e.error}`);
      return here.errors.length + r.leftOut > 0 ? 1 : 0;
    }
    case "covdata": {
      await Deno.mkdir(out!, { recursive: true });
      for (const b of here.binaries) {
        await Deno.writeFile(join(out!, `covmeta.${b.hash}`), b.profile.metaBytes);
        await Deno.writeFile(join(out!, `covcounters.${b.hash}.0.1`), encodeCounters(b.profile));
      }
      stderr(`report: wrote ${here.binaries.length} merged binaries to ${out}`);
      break;
    }
  }
  for (const e of here.errors) stderr(`report: unreadable prefix ${e.prefix}: ${e.error}`);
  return here.errors.length > 0 ? 1 : 0;
}
