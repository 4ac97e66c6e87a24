/** The storage probes `doctor` runs: credentials found, bucket reachable, a write and delete. */

import type { Config } from "../config.ts";
import { CredentialsError, describeCredentials, findCredentials } from "../creds.ts";
import type { System } from "../system.ts";
import { S3Sink } from "./s3.ts";

/** What doctor's storage checks need (the shape of StorageProbes in src/doctor/remote.ts). */
export interface S3Probes {
  credentials(): Promise<{ file: string; target: string } | null>;
  reach(signal: AbortSignal): Promise<string>;
  writeTest(signal: AbortSignal): Promise<string>;
}

/**
 * Builds the probes over the configured credentials and endpoint. `credentials()` is null when no
 * file has the entry; a broken entry throws its CredentialsError.
 *
 * @example const probes = storageProbes({ config, system }); await probes.reach(signal)
 */
export function storageProbes(
  { config, system }: {
    config: Pick<Config, "credentialsFile" | "s3Endpoint" | "s3PathStyle">;
    system: System;
  },
): S3Probes {
  let sink: Promise<S3Sink> | undefined;
  const s3 = () =>
    sink ??= findCredentials(system, config.credentialsFile).then((c) =>
      new S3Sink({
        accessKey: c.accessKey,
        secretKey: c.secretKey,
        bucket: c.bucket,
        region: c.region,
        basePath: c.s3BasePath,
        endpoint: config.s3Endpoint || undefined,
        pathStyle: config.s3PathStyle,
        retry: { attempts: 2 },
      })
    );
  return {
    async credentials() {
      try {
        const c = await findCredentials(system, config.credentialsFile);
        const d = describeCredentials(c);
        const base = d.basePath.replace(/^\/+|\/+$/g, "");
        return { file: c.file, target: `s3://${d.bucket}${base ? `/${base}` : ""} (${d.region})` };
      } catch (e) {
        if (e instanceof CredentialsError && e.absent && config.credentialsFile === "") return null;
        throw e;
      }
    },
    async reach(signal) {
      return await (await s3()).reach(signal);
    },
    async writeTest(signal) {
      const sink = await s3();
      const key = `.coverage-collector-doctor/${crypto.randomUUID()}`;
      await sink.put(key, new TextEncoder().encode("doctor write test\n"), signal);
      await sink.delete(key, signal);
      return `wrote and deleted ${sink.description}/${key}`;
    },
  };
}
