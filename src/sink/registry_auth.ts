/**
 * S3 credentials from a registry auth file, where clusters keep them as a fake registry entry
 * (coverage-protocol §5). Secrets never leave this module in a message: errors and
 * `describeCredentials` name the file, the entry, the bucket, the region and the base path only.
 */

import { z } from "zod";
import type { System } from "../system.ts";
import { jsonErrorPlace } from "../quote_free.ts";
import { secrets } from "../secrets.ts";

/** Files searched in order when no file is configured; host paths (under the host root). */
export const CREDENTIAL_FILES = [
  "/var/lib/kubelet/config.json",
  "/root/.docker/config.json",
  "/run/containers/0/auth.json",
  "/root/.config/containers/auth.json",
] as const;

/** Registry entry names that carry the credentials: current first, then older clusters'. */
export const CREDENTIAL_ENTRIES = [
  "cluster-code-coverage.openshift.io",
  "cluster-code-coverage.io",
] as const;

const S3Fields = z.object({
  accessKey: z.string().min(1),
  secretKey: z.string().min(1),
  bucket: z.string().min(1),
  region: z.string().min(1),
  s3BasePath: z.string(),
});

const Payload = z.object({ service: z.string(), s3: S3Fields });

const AuthFile = z.object({
  auths: z.record(z.string(), z.object({ auth: z.string().optional() }).passthrough()),
}).passthrough();

/** S3 settings and the place they came from. */
export interface S3Credentials extends z.infer<typeof S3Fields> {
  /** Host path of the auth file. */
  file: string;
  /** Registry entry name used. */
  entry: string;
}

/**
 * The credentials could not be had; the message names the file and what was wrong. `absent`:
 * no file had an entry (normal on a cluster without S3), as opposed to a broken one.
 */
export class CredentialsError extends Error {
  constructor(message: string, readonly file?: string, readonly absent = false) {
    super(message);
    this.name = "CredentialsError";
  }
}

function decodeBase64(text: string): string | null {
  const t = text.trim();
  if (t === "" || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(t)) return null;
  try {
    const bin = atob(t.replaceAll("-", "+").replaceAll("_", "/"));
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Decodes one registry entry's `auth` value into S3 settings. Pure; throws CredentialsError.
 *
 * @example parseCoverageAuth(auth, "/var/lib/kubelet/config.json", "cluster-code-coverage.io").bucket
 */
export function parseCoverageAuth(auth: string, file: string, entry: string): S3Credentials {
  const where = `${file}: entry "${entry}"`;
  const outer = decodeBase64(auth);
  if (outer === null) throw new CredentialsError(`${where}: "auth" is not valid base64`, file);
  const colon = outer.indexOf(":");
  if (colon < 0) {
    throw new CredentialsError(`${where}: decoded "auth" is not "user:password"`, file);
  }
  const inner = decodeBase64(outer.slice(colon + 1));
  if (inner === null) {
    throw new CredentialsError(`${where}: the password part of "auth" is not valid base64`, file);
  }
  let json: unknown;
  try {
    json = JSON.parse(inner);
  } catch {
    throw new CredentialsError(`${where}: the password part of "auth" is not JSON`, file);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new CredentialsError(`${where}: the credentials JSON is not an object`, file);
  }
  const service = (json as Record<string, unknown>).service;
  if (service !== "s3") {
    throw new CredentialsError(
      `${where}: service is ${JSON.stringify(service ?? null)}, only "s3" is supported`,
      file,
    );
  }
  const parsed = Payload.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join(".") || "s3";
    throw new CredentialsError(
      `${where}: missing or empty field ${field} (a non-empty string is required)`,
      file,
    );
  }
  return { ...parsed.data.s3, file, entry };
}

/**
 * Parses a whole auth file's text; null when it has none of the coverage entries.
 *
 * @example parseAuthFile(text, "/root/.docker/config.json")?.region // "us-east-1"
 */
export function parseAuthFile(text: string, file: string): S3Credentials | null {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new CredentialsError(`${file}: not JSON (${jsonErrorPlace(e)})`, file);
  }
  return credentialsIn(json, file);
}

function credentialsIn(json: unknown, file: string): S3Credentials | null {
  const parsed = AuthFile.safeParse(json);
  if (!parsed.success) return null;
  for (const entry of CREDENTIAL_ENTRIES) {
    const e = parsed.data.auths[entry];
    if (!e) continue;
    if (typeof e.auth !== "string") {
      throw new CredentialsError(`${file}: entry "${entry}" has no "auth" string`, file);
    }
    return parseCoverageAuth(e.auth, file, entry);
  }
  return null;
}

/**
 * Finds the S3 credentials: `file` only when given, else the first of CREDENTIAL_FILES that
 * exists, parses and has a coverage entry. A file that has the entry but is broken stops the
 * search with its error (it is what the cluster meant to use).
 *
 * @example const creds = await findCredentials(createSystem("/"));
 */
export async function findCredentials(system: System, file = ""): Promise<S3Credentials> {
  const files = file !== "" ? [file] : [...CREDENTIAL_FILES];
  const notes: string[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = await system.readText(f);
    } catch (e) {
      notes.push(`${f} (${e instanceof Deno.errors.NotFound ? "absent" : (e as Error).message})`);
      continue;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      // When searching, a file that does not parse is passed over; a configured one is final.
      if (file !== "") throw new CredentialsError(`${f}: not JSON (${jsonErrorPlace(e)})`, f);
      notes.push(`${f} (not JSON)`);
      continue;
    }
    const creds = credentialsIn(json, f);
    if (creds) {
      secrets.add(creds.accessKey);
      secrets.add(creds.secretKey);
      return creds;
    }
    notes.push(`${f} (no entry ${CREDENTIAL_ENTRIES.map((n) => `"${n}"`).join(" or ")})`);
  }
  const root = system.hostRoot === "/" ? "" : ` under host root ${system.hostRoot}`;
  throw new CredentialsError(
    `no S3 credentials found${root}; tried: ${notes.join(", ")}`,
    file !== "" ? file : undefined,
    true,
  );
}

/**
 * What may be shown of credentials: never the keys.
 *
 * @example describeCredentials(creds) // { file, entry, bucket, region, basePath }
 */
export function describeCredentials(c: S3Credentials): Record<string, string> {
  return {
    file: c.file,
    entry: c.entry,
    bucket: c.bucket,
    region: c.region,
    basePath: c.s3BasePath,
  };
}
