/** The `doctor` command: the real probes, the checks, the table on stdout, the exit code. */

import { loggerFor } from "../deps.ts";
import type { Config } from "../config.ts";
import { createSystem } from "../system.ts";
import { renderReport, runDoctor } from "./doctor.ts";
import { kubePeer, storagePeer } from "./peers.ts";

/**
 * Runs every check on this node and prints one line per check; returns 1 when any failed.
 *
 * @example Deno.exitCode = await runDoctorCommand(config, false, console.log);
 */
export async function runDoctorCommand(
  config: Config,
  writeTest: boolean,
  stdout: (line: string) => void,
): Promise<number> {
  const system = createSystem(config.hostRoot);
  // The checks say what went wrong; the probes' own log lines would only repeat it.
  const log = loggerFor({ ...config, logLevel: "error" });
  const kube = kubePeer({ system, config, log });
  try {
    const report = await runDoctor(
      { config, system, kube, storage: storagePeer({ system, config }) },
      { writeTest },
    );
    stdout(renderReport(report));
    return report.exitCode;
  } finally {
    kube.close();
  }
}
