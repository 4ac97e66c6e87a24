/** The store a `report` source names: an S3 location or a local directory. */

import type { Config } from "../config.ts";
import { errorText, UsageError } from "../errors.ts";
import { CredentialsError, findCredentials } from "../sink/registry_auth.ts";
import { s3SinkFor } from "../sink/select.ts";
import { createSystem } from "../system.ts";
import { HINT } from "./options.ts";
import type { S3Sink } from "../sink/s3.ts";
import { DirReader, parseS3Url, S3_LIST_LIMITS, S3Reader, type StoreReader } from "./store.ts";

/** The settings a store of `report` is opened with. */
export type StoreConfig = Pick<
  Config,
  "credentialsFile" | "s3Endpoint" | "s3PathStyle" | "hostRoot"
>;

/**
 * The store of a source argument: `s3://bucket/prefix` (credentials and endpoint as the sink's)
 * or a local directory. A shard (1 of `shards`) keeps about 1/N of the keys it lists (read.ts), so
 * it may list N times as many.
 *
 * @example const store = await openStore("coverage-data", config);
 */
export async function openStore(
  source: string,
  config: StoreConfig,
  shards = 1,
): Promise<StoreReader> {
  if (source.startsWith("s3:")) {
    const { maxKeys, maxPages } = S3_LIST_LIMITS;
    const limits = { maxKeys: maxKeys * shards, maxPages: maxPages * shards };
    return new S3Reader(await s3Of("source", source, config), undefined, limits);
  }
  let st;
  try {
    st = await Deno.stat(source);
  } catch (e) {
    throw new UsageError(`source ${source}: ${errorText(e)}`, HINT);
  }
  if (!st.isDirectory) throw new UsageError(`source ${source} is not a directory`, HINT);
  return new DirReader(source);
}

/**
 * The S3 location of an `s3://bucket/prefix` argument (`what`: "source" or "--out").
 *
 * @example const to = await s3Of("--out", "s3://b/partials/0", config);
 */
export async function s3Of(what: string, url: string, config: StoreConfig): Promise<S3Sink> {
  const s3 = parseS3Url(url);
  if (!s3) throw new UsageError(`${what} ${JSON.stringify(url)} is not s3://bucket/prefix`, HINT);
  let creds;
  try {
    creds = await findCredentials(createSystem(config.hostRoot), config.credentialsFile);
  } catch (e) {
    if (e instanceof CredentialsError) throw new UsageError(`${url}: ${e.message}`, HINT);
    throw e;
  }
  return s3SinkFor({ ...creds, bucket: s3.bucket, s3BasePath: s3.prefix }, config, {
    retry: { attempts: 3 },
  });
}
