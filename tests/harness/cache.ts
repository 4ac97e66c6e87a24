/**
 * Where tests keep what is slow to make (Go fixture builds, the S3 server, real peers): a folder
 * outside the clone, so a second clone or a CI run on the same machine reuses it.
 * `COVERAGE_COLLECTOR_CACHE` wins, then `$XDG_CACHE_HOME/coverage-collector`, then
 * `$HOME/.cache/coverage-collector`.
 */

import { join } from "node:path";

/**
 * The cache folder (not created here).
 * @example
 * const bin = join(cacheDir(), "bin", "versitygw-v1.8.0", "versitygw");
 */
export function cacheDir(): string {
  const set = Deno.env.get("COVERAGE_COLLECTOR_CACHE");
  if (set) return set;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return join(xdg, "coverage-collector");
  return join(Deno.env.get("HOME") ?? "/root", ".cache", "coverage-collector");
}

/**
 * Says, once per thing, that a long first-run step starts, so a new user never stares at minutes
 * of silence: what is made, roughly how long, and that later runs reuse it.
 * @example
 * announceBuild("versitygw v1.8.0 (the S3 server of the tests)", "about 3 min");
 */
export function announceBuild(what: string, howLong: string): void {
  if (announced.has(what)) return;
  announced.add(what);
  console.error(
    `test setup: building ${what}, ${howLong} the first time; cached in ${cacheDir()} afterwards`,
  );
}

const announced = new Set<string>();
