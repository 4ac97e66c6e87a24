/** The commands of the collector, wired to their implementations. */

import { runDaemon } from "./daemon.ts";
import type { Command } from "./cli.ts";
import { runDoctorCommand } from "../doctor/command.ts";
import { runOnce } from "./once.ts";
import { buildParts } from "./wiring.ts";
import { runReport } from "../report/command.ts";
import { REPORT_FLAGS } from "../report/flags.ts";
import { versionLine } from "../version.ts";

export const COMMANDS: Record<string, Command> = {
  run: {
    summary: "run the collector as a daemon (the default)",
    run: ({ config }) => runDaemon(config, buildParts),
  },
  once: {
    summary: "one scan, one pull of every server, store, print a summary; exit 1 if any failed",
    run: ({ config, stdout }) => runOnce(config, stdout),
  },
  doctor: {
    summary: "check this node's set-up and say how to fix what is wrong",
    extraFlags: {
      "write-test": { type: "boolean", help: "also PUT and DELETE a test object in S3" },
    },
    run: ({ config, extra, stdout }) =>
      runDoctorCommand(config, extra["write-test"] === true, stdout),
  },
  report: {
    summary: "merge stored coverage (a directory or s3://bucket/prefix) and report it per binary",
    positionals: { usage: "<source>", min: 1, max: 1 },
    extraFlags: REPORT_FLAGS,
    run: (ctx) => runReport(ctx),
  },
  version: {
    summary: "print the version and build",
    noSettings: true,
    run: ({ stdout }) => {
      stdout(versionLine());
      return Promise.resolve(0);
    },
  },
};
