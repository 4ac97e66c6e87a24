/**
 * The commands of the collector, wired to their implementations. Each command's code is loaded
 * by a dynamic `import()` when that command runs, so `run` does not hold the code of `report`
 * and `doctor` (scripts/bench_modules.ts measures what each costs); `deno compile` includes
 * modules imported with a literal specifier (the packaging tests check the binary holds them).
 */

import type { Command } from "./cli.ts";
import { REPORT_FLAGS } from "../report/flags.ts";
import { versionLine } from "../version.ts";

export const COMMANDS: Record<string, Command> = {
  run: {
    summary: "run the collector as a daemon (the default)",
    run: async ({ config }) => {
      const [{ runDaemon }, { buildParts }] = await Promise.all([
        import("./daemon.ts"),
        import("./wiring.ts"),
      ]);
      return await runDaemon(config, buildParts);
    },
  },
  once: {
    summary: "one scan, one pull of every server, store, print a summary; exit 1 if any failed",
    run: async ({ config, stdout }) => (await import("./once.ts")).runOnce(config, stdout),
  },
  doctor: {
    summary: "check this node's set-up and say how to fix what is wrong",
    extraFlags: {
      "write-test": { type: "boolean", help: "also PUT and DELETE a test object in S3" },
    },
    run: async ({ config, extra, stdout }) =>
      (await import("../doctor/command.ts")).runDoctorCommand(
        config,
        extra["write-test"] === true,
        stdout,
      ),
  },
  report: {
    summary: "merge stored coverage (a directory or s3://bucket/prefix) and report it per binary",
    positionals: { usage: "<source>", min: 1, max: 1 },
    extraFlags: REPORT_FLAGS,
    run: async (ctx) => (await import("../report/command.ts")).runReport(ctx),
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
