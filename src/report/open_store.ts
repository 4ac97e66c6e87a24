/** The store a `report` source names: an S3 location or a local directory. */

import type { Config } from "../config.ts";
import { errorText, UsageError } from "../errors.ts";
import { CredentialsError, findCredentials } from "../sink/registry_auth.ts";
import { s3SinkFor } from "../sink/select.ts";
import { createSystem } from "../system.ts";
import { HINT } from "./flags.ts";
import { DirReader, parseS3Url, S3Reader, type StoreReader } from "./store.ts";

/**
 * The store of a source argument: `s3://bucket/prefix` (credentials and endpoint as the sink's)
 * or a local directory.
 *
 * @example const store = await openStore("coverage-data", config);
 */
export async function openStore(
  source: string,
  config: Pick<Config, "credentialsFile" | "s3Endpoint" | "s3PathStyle" | "hostRoot">,
): Promise<StoreReader> {
  const s3 = parseS3Url(source);
  if (source.startsWith("s3:")) {
    if (!s3) {
      throw new UsageError(`source ${JSON.stringify(source)} is not s3://bucket/prefix`, HINT);
    }
    let creds;
    try {
      creds = await findCredentials(createSystem(config.hostRoot), config.credentialsFile);
    } catch (e) {
      if (e instanceof CredentialsError) throw new UsageError(`${source}: ${e.message}`, HINT);
      throw e;
    }
    return new S3Reader(
      s3SinkFor({ ...creds, bucket: s3.bucket, s3BasePath: s3.prefix }, config, {
        retry: { attempts: 3 },
      }),
    );
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
