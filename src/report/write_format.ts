/** `report`'s output in one of its formats (the switch over `--format`). */

import { join } from "node:path";
import { UsageError } from "../errors.ts";
import type { S3Sink } from "../sink/s3.ts";
import { safeJson } from "../terminal_text.ts";
import { VERSION } from "../version.ts";
import { codecovOutput, writeCodecov } from "./codecov.ts";
import { HINT, type ReportOptions } from "./options.ts";
import { renderHtml } from "./html.ts";
import { pageData } from "./html_data.ts";
import { lineReport } from "./line_formats.ts";
import { renderText, type Report } from "./model.ts";
import { partialFacts, writeCovdata } from "./partial_write.ts";
import { PathFlagError } from "./paths.ts";
import type { ReadResult } from "./read.ts";
import { refusedLine, textfmtOf } from "./textfmt.ts";
import { renderTimelineText } from "./timeline_text.ts";

/** Where a format's output goes: the text (stdout or --out), and notes (stderr, escaped or raw). */
export interface FormatIo {
  emit: (text: string) => Promise<void>;
  stderr: (s: string) => void;
  /** For lines already made terminal-safe (refusedLine). */
  rawStderr: (s: string) => void;
  /** The S3 location of `--out s3://bucket/prefix` (covdata). */
  s3Out: (url: string) => Promise<S3Sink>;
}

/**
 * Writes `report` (of `here`) in `o.format`; returns how many things were left out (each one a
 * line on stderr), which makes the exit code 1.
 *
 * @example const leftOut = await writeFormat(read, buildReport(read), options, io);
 */
export async function writeFormat(
  here: ReadResult,
  report: Report,
  o: ReportOptions,
  io: FormatIo,
): Promise<number> {
  const { emit, stderr } = io;
  const { format, out } = o;
  switch (format) {
    case "text": {
      const parts = [renderText(report)];
      if (o.windowsFile !== undefined) {
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
      await emit(renderHtml(report, await pageData(report, here.binaries, o.roots!)));
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
      for (const r of refused) io.rawStderr(refusedLine(r));
      return refused.length;
    }
    case "cobertura":
    case "lcov":
    case "sonar": {
      let r;
      try {
        r = lineReport(here, format, o.pathFlags, { timestamp: Date.now(), version: VERSION });
      } catch (e) {
        if (e instanceof PathFlagError) throw new UsageError(e.message, HINT);
        throw e;
      }
      await emit(r.text);
      for (const n of r.notes) stderr(n);
      return r.leftOut;
    }
    case "covdata": {
      // A shard, or a merge of partials, is itself a partial (so merges can nest).
      const { shard } = o;
      const partial = shard !== undefined || here.partials > 0;
      const to = out!.startsWith("s3:") ? await io.s3Out(out!) : undefined;
      if (!to) await Deno.mkdir(out!, { recursive: true });
      const put = to
        ? (name: string, bytes: Uint8Array) => to.put(name, bytes)
        : (name: string, bytes: Uint8Array) => Deno.writeFile(join(out!, name), bytes);
      await writeCovdata(put, here, partial ? partialFacts(here, shard) : undefined);
      stderr(
        `report: wrote ${here.binaries.length} merged binaries to ${out}` +
          (shard ? ` (shard ${shard.k}/${shard.n}: ${here.taken} of ${here.found} prefixes)` : ""),
      );
      break;
    }
    case "codecov": {
      let written;
      try {
        written = codecovOutput(here.binaries, o.pathFlags);
      } catch (e) {
        if (e instanceof PathFlagError) throw new UsageError(e.message, HINT);
        throw e;
      }
      await writeCodecov(out!, written);
      for (const r of written.refused) io.rawStderr(refusedLine(r));
      stderr(`report: wrote ${written.files.size} profiles and manifest.json to ${out}`);
      return written.refused.length;
    }
  }
  return 0;
}
