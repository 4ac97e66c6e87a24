/** `coverage-collector report <source>`: merged coverage of a stored directory or S3 location. */

import type { Config } from "../config.ts";
import { UsageError } from "../errors.ts";
import { safeJson, safeText } from "../terminal_text.ts";
import { renderChangedText } from "./changed_coverage.ts";
import { ChangedDiffError, changedReport } from "./changed_report.ts";
import { diffReads, renderDiffText } from "./diff.ts";
import { coveredIn } from "./first_covered.ts";
import { HINT, type ReportArgs, reportOptions } from "./options.ts";
import { groupedOutput } from "./group_by.ts";
import { buildReport } from "./model.ts";
import { openStore, s3Of } from "./open_store.ts";
import { PathFlagError } from "./paths.ts";
import { type ReadResult, readStore } from "./read.ts";
import { S3ListError } from "./store.ts";
import { binaryTimeline } from "./timeline_report.ts";
import { writeFormat } from "./write_format.ts";

/** The report command. @example await runReport(ctx) // 0 */
export async function runReport(ctx: {
  config: Config;
  extra: ReportArgs;
  positionals: string[];
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}): Promise<number> {
  // Messages quote stored paths and names: no control of them reaches the terminal.
  const stderr = (s: string) => ctx.stderr(safeText(s));
  const o = await reportOptions(ctx.extra);
  const { format, out } = o;
  const source = ctx.positionals[0];
  const read = async (src: string): Promise<ReadResult> => {
    const store = await openStore(src, ctx.config, o.shard?.n);
    const started = Date.now();
    return readStore(store, {
      filter: o.filter,
      sourceFacts: format === "codecov",
      facts: format === "html",
      concurrency: o.concurrency,
      grouping: o.grouping,
      shard: o.shard,
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
  const unreadable = (r: ReadResult, more = 0) => {
    for (const e of r.errors) stderr(`report: unreadable prefix ${e.prefix}: ${e.error}`);
    return r.errors.length + more > 0 ? 1 : 0;
  };
  if (o.coveredSince !== undefined || o.coveredUntil !== undefined) {
    for (const b of here.binaries) {
      if (b.timeline === undefined) {
        stderr(
          `report: binary ${[...b.names].sort().join(",")} (${
            b.hash.slice(0, 12)
          }) has no stored timeline: --covered-since/--covered-until keep none of its blocks`,
        );
      }
      b.profile = coveredIn(b.profile, b.timeline, o.coveredSince, o.coveredUntil);
    }
  }
  if (o.diffWith !== undefined) {
    const there = await listed(o.diffWith);
    if (there === undefined) return 1;
    const diffs = diffReads(here, there);
    if (format === "json") {
      await emit(safeJson({ source, other: o.diffWith, binaries: diffs }, undefined, 2) + "\n");
    } else if (format === "text") await emit(renderDiffText(diffs, source, o.diffWith) + "\n");
    else throw new UsageError(`--diff writes text or json, not ${format}`, HINT);
    return unreadable(here, unreadable(there));
  }
  if (o.diffBase !== undefined || o.diffFile !== undefined) {
    let changed;
    try {
      changed = await changedReport(
        here,
        o.diffBase !== undefined ? { base: o.diffBase, repo: o.repo } : { file: o.diffFile! },
        o.pathFlags,
      );
    } catch (e) {
      if (e instanceof ChangedDiffError || e instanceof PathFlagError) {
        throw new UsageError(e.message, HINT);
      }
      throw e;
    }
    if (format === "json") await emit(safeJson(changed, undefined, 2) + "\n");
    else await emit(renderChangedText(changed) + "\n");
    return unreadable(here);
  }
  const report = buildReport(here);
  // With --windows every binary gets its timeline figures; the HTML page draws the curve of
  // every binary with a stored timeline even without. Text and JSON stay as they were without.
  here.binaries.forEach((b, i) => {
    if (o.windowsFile !== undefined || (format === "html" && b.timeline !== undefined)) {
      report.binaries[i].timeline = binaryTimeline(b.profile, b.timeline, o.windows);
    }
  });
  if (o.grouping) {
    await emit(groupedOutput(report, o.grouping.by, format));
    return unreadable(here);
  }
  const more = await writeFormat(here, report, o, {
    emit,
    stderr,
    rawStderr: ctx.stderr,
    s3Out: (url) => s3Of("--out", url, ctx.config),
  });
  if (o.shard) {
    // A shard's unreadable prefixes are facts of its partial: the merge names them and exits 1;
    // the shard itself succeeded (a Job does not retry what would fail again).
    unreadable(here);
    return 0;
  }
  return unreadable(here, more);
}
