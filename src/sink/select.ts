/** Picks the sink from the configuration: S3 (behind a spool) or a local directory. */

import { join } from "node:path";
import { type Config, ConfigError } from "../config.ts";
import {
  CredentialsError,
  describeCredentials,
  findCredentials,
  type S3Credentials,
} from "./registry_auth.ts";
import type { Logger } from "../log.ts";
import type { Metrics } from "../metrics.ts";
import type { Health } from "../health.ts";
import type { System } from "../system.ts";
import type { Sink } from "./sink.ts";
import { DirSink } from "./dir.ts";
import { S3Sink, type S3SinkOptions } from "./s3.ts";
import { SpoolingSink } from "./spool.ts";
import { storeOwnerOf, writtenOnce } from "../layout.ts";

/**
 * A server writes four objects (meta-data, info.json, two counters slots); a few more leave room
 * for a changed meta hash and an earlier run's keys, not for one object per pull.
 */
const SPOOL_SERVER_MAX_OBJECTS = 8;
/** Room for 64 servers' objects in one pod's share (containers, restarts, ports). */
const SPOOL_POD_MAX_OBJECTS = 256;

export interface SinkDeps {
  config: Pick<
    Config,
    | "sink"
    | "outputDir"
    | "stateDir"
    | "spoolMax"
    | "spoolPodMax"
    | "credentialsFile"
    | "s3Endpoint"
    | "s3PathStyle"
  >;
  system: System;
  log: Logger;
  metrics: Metrics;
  health: Health;
}

/** Extra S3 options (tests shorten the retries). */
export type S3Tuning = Pick<S3SinkOptions, "retry" | "requestTimeoutMs" | "fetch">;

/**
 * Makes the sink: `dir` → DirSink(outputDir); `s3` → S3 behind a spool, credentials required
 * (ConfigError naming why when they cannot be had); `auto` → S3 when credentials are found,
 * else the directory, with one log line saying why.
 *
 * @example const sink = await createSink({ config, system, log, metrics, health });
 */
export async function createSink(deps: SinkDeps, tuning: S3Tuning = {}): Promise<Sink> {
  const { config, system, log, health } = deps;
  if (config.sink === "dir") return dirSink(deps);
  let creds;
  try {
    creds = await findCredentials(system, config.credentialsFile);
  } catch (e) {
    if (!(e instanceof CredentialsError)) throw e;
    if (config.sink === "s3") throw new ConfigError(`--sink s3: ${e.message}`);
    const sink = dirSink(deps);
    // No file is normal (host-only nodes); a broken entry or a missing configured file is not.
    const normal = config.credentialsFile === "" && e.absent;
    log[normal ? "info" : "warn"](
      "no usable S3 credentials; storing coverage in a local directory",
      { sink: sink.description, reason: e.message },
    );
    return sink;
  }
  // Behind the spool, S3 tries briefly: the spool is the retry loop, and a put that waits long
  // on a dead endpoint would hold up the pulls behind it (the final pull at shutdown).
  const s3 = s3SinkFor(creds, config, {
    retry: { attempts: 2 },
    requestTimeoutMs: 20_000,
    ...tuning,
  });
  const spool = await SpoolingSink.open(s3, {
    dir: join(config.stateDir, "spool"),
    maxBytes: config.spoolMax,
    writtenOnce,
    ownerOf: storeOwnerOf,
    podMaxBytes: config.spoolPodMax || config.spoolMax,
    podMaxObjects: SPOOL_POD_MAX_OBJECTS,
    serverMaxObjects: SPOOL_SERVER_MAX_OBJECTS,
    log: log.with({ part: "sink" }),
    metrics: deps.metrics,
    health,
  });
  log.info("storing coverage in S3", {
    sink: s3.description,
    url: s3.status().url,
    ...describeCredentials(creds),
  });
  return spool;
}

function dirSink({ config, health, log }: SinkDeps): DirSink {
  const sink = new DirSink(config.outputDir, { log });
  health.set("sink", { ready: true });
  return sink;
}

/**
 * The S3 sink for found credentials and the endpoint settings (also used by doctor's checks).
 *
 * @example s3SinkFor(creds, config, { retry: { attempts: 1 } }).description
 */
export function s3SinkFor(
  creds: S3Credentials,
  config: Pick<Config, "s3Endpoint" | "s3PathStyle">,
  overrides: Partial<S3SinkOptions> = {},
): S3Sink {
  return new S3Sink({
    accessKey: creds.accessKey,
    secretKey: creds.secretKey,
    bucket: creds.bucket,
    region: creds.region,
    basePath: creds.s3BasePath,
    endpoint: config.s3Endpoint || undefined,
    pathStyle: config.s3PathStyle,
    ...overrides,
  });
}
