/** Which parts the daemon runs, built from the shared deps. */

import type { Deps, Part } from "./agent.ts";

/** Builds the daemon's parts. */
export function buildParts(deps: Deps): Promise<Part[]> {
  const { log, config } = deps;
  log.info("mode", { mode: "host-only", sink: config.sink, hostRoot: config.hostRoot });
  return Promise.resolve([]);
}
