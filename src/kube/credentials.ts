/**
 * Reads what a kubeconfig points at (CA, client certificate and key, token file) under the right
 * root, and fingerprints the files so a rotated certificate is noticed.
 */

import { secrets } from "../secrets.ts";
import { errorText } from "../errors.ts";
import { dirname, isAbsolute, join } from "node:path";
import type { KubeconfigSpec, Material } from "./kubeconfig.ts";
import { fsPath } from "./kubeconfig_source.ts";
import { pemBlocks } from "./pem.ts";

/** A credential file could not be read or used; names the file and the kubeconfig field. */
export class CredentialError extends Error {
  constructor(readonly file: string, readonly field: string, detail: string) {
    super(`${field} ${file}: ${detail}`);
    this.name = "CredentialError";
  }
}

/** The material a client is built from. */
export interface Credentials {
  caPem?: string;
  /** The certificate chain (CERTIFICATE blocks only). */
  certPem?: string;
  /** The DER of the first client certificate, for its subject CN. */
  certDer?: Uint8Array;
  keyPem?: string;
  token?: string;
  /** Changes when any credential file is replaced, re-linked or rewritten. */
  fingerprint: string;
}

/**
 * Follows symlinks of `path` inside `root` (an absolute link target is a path under `root`, as
 * the kubelet's `kubelet-client-current.pem` → `/var/lib/kubelet/pki/kubelet-client-<date>.pem`).
 * Returns the host path of the final file.
 *
 * @example await resolveUnderRoot("/host", "/var/lib/kubelet/pki/kubelet-client-current.pem")
 */
export async function resolveUnderRoot(root: string, path: string): Promise<string> {
  let cur = path;
  for (let hops = 0; hops < 16; hops++) {
    const info = await Deno.lstat(fsPath(root, cur));
    if (!info.isSymlink) return cur;
    const target = await Deno.readLink(fsPath(root, cur));
    cur = isAbsolute(target) ? target : join(dirname(cur), target);
  }
  throw new Error(`${path}: too many levels of symbolic links`);
}

interface FileState {
  host: string;
  stamp: string;
}

async function fileState(root: string, file: string, field: string): Promise<FileState> {
  try {
    const host = await resolveUnderRoot(root, file);
    const st = await Deno.stat(fsPath(root, host));
    return { host, stamp: `${host}@${st.mtime?.getTime() ?? 0}:${st.size}` };
  } catch (e) {
    throw new CredentialError(
      fsPath(root, file),
      field,
      e instanceof Deno.errors.NotFound ? "not found" : errorText(e),
    );
  }
}

function files(spec: KubeconfigSpec): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const add = (m: Material | undefined, field: string) => {
    if (m && "file" in m) out.push([m.file, field]);
  };
  add(spec.ca, "certificate-authority");
  add(spec.clientCert, "client-certificate");
  add(spec.clientKey, "client-key");
  if (spec.tokenFile) out.push([spec.tokenFile, "tokenFile"]);
  return out;
}

/**
 * The fingerprint of the credential files (symlinks followed; real path, mtime, size).
 *
 * @example await credentialFingerprint(spec, "/") // "/var/lib/kubelet/pki/kubelet-client-2026….pem@1764000000000:2812"
 */
export async function credentialFingerprint(spec: KubeconfigSpec, root: string): Promise<string> {
  const stamps: string[] = [];
  for (const [f, field] of files(spec)) stamps.push((await fileState(root, f, field)).stamp);
  return stamps.join("|");
}

async function readMaterial(m: Material, root: string, field: string): Promise<string> {
  if ("pem" in m) return m.pem;
  const { host } = await fileState(root, m.file, field);
  try {
    return await Deno.readTextFile(fsPath(root, host));
  } catch (e) {
    throw new CredentialError(fsPath(root, m.file), field, e instanceof Error ? e.message : `${e}`);
  }
}

function where(m: Material, root: string): string {
  return "file" in m ? fsPath(root, m.file) : "(inline data)";
}

/**
 * Reads the credentials of a kubeconfig. The certificate and the key may be one file holding both.
 *
 * @example const creds = await loadCredentials(spec, "/host"); creds.certPem
 */
export async function loadCredentials(spec: KubeconfigSpec, root: string): Promise<Credentials> {
  const fingerprint = await credentialFingerprint(spec, root);
  const out: Credentials = { fingerprint };
  if (spec.ca) {
    const text = await readMaterial(spec.ca, root, "certificate-authority");
    const certs = pemBlocks(text).filter((b) => b.label === "CERTIFICATE");
    if (certs.length === 0) {
      throw new CredentialError(where(spec.ca, root), "certificate-authority", "no CERTIFICATE");
    }
    out.caPem = certs.map((b) => b.text).join("");
  }
  if (spec.clientCert && spec.clientKey) {
    const certText = await readMaterial(spec.clientCert, root, "client-certificate");
    const certs = pemBlocks(certText).filter((b) => b.label === "CERTIFICATE");
    if (certs.length === 0) {
      throw new CredentialError(
        where(spec.clientCert, root),
        "client-certificate",
        "holds no CERTIFICATE block",
      );
    }
    const keyText = await readMaterial(spec.clientKey, root, "client-key");
    secrets.add(keyText);
    const key = pemBlocks(keyText).find((b) => /PRIVATE KEY$/.test(b.label));
    if (!key) {
      throw new CredentialError(
        where(spec.clientKey, root),
        "client-key",
        "holds no PRIVATE KEY block (EC, RSA or PKCS#8)",
      );
    }
    out.certPem = certs.map((b) => b.text).join("");
    out.certDer = certs[0].der;
    out.keyPem = key.text;
  }
  secrets.add(spec.token);
  if (spec.token) out.token = spec.token;
  else if (spec.tokenFile) {
    const { host } = await fileState(root, spec.tokenFile, "tokenFile");
    const token = (await Deno.readTextFile(fsPath(root, host))).trim();
    if (token === "") throw new CredentialError(fsPath(root, spec.tokenFile), "tokenFile", "empty");
    secrets.add(token);
    out.token = token;
  }
  return out;
}
