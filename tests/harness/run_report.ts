/** Runs `coverage-collector report` in the test process, as the command line would, and keeps its output. */

import { main } from "../../src/app/cli.ts";
import { COMMANDS } from "../../src/app/commands.ts";

/** What a `report` run printed and its exit code. */
export interface ReportRun {
  code: number;
  /** stdout, lines joined with `\n`. */
  out: string;
  /** stderr, lines joined with `\n`. */
  err: string;
  /** stderr, line by line. */
  errLines: string[];
}

/**
 * `report ARGS` through the CLI's own entry, stdout and stderr captured.
 * @example const { code, out } = await runReport([dir, "--format", "json"]);
 */
export async function runReport(args: string[]): Promise<ReportRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(["report", ...args], COMMANDS, {
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    env: {},
  });
  return { code, out: out.join("\n"), err: err.join("\n"), errLines: err };
}
