/** What this build is. The compile task stamps BUILD_COMMIT into a staged copy of this file. */

import denoJson from "../deno.json" with { type: "json" };

export const VERSION: string = denoJson.version;
export const BUILD_COMMIT: string = "dev";

/** One line for `version` and logs. @example versionLine() // "coverage-collector 0.1.0 (commit dev, deno 2.9.6)" */
export function versionLine(): string {
  return `coverage-collector ${VERSION} (commit ${BUILD_COMMIT}, deno ${Deno.version.deno})`;
}
