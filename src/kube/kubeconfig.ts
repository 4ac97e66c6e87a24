/**
 * Kubeconfig text → where the API server is and how to prove who we are. Pure: file references
 * are resolved to absolute paths (relative to the kubeconfig's directory) but not read here.
 */

import { Buffer } from "node:buffer";
import { dirname, isAbsolute, join } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { yamlErrorPlace } from "../quote_free.ts";

/** A kubeconfig could not be used; names the file and the field. */
export class KubeconfigError extends Error {
  constructor(readonly path: string, readonly field: string, detail: string) {
    super(`kubeconfig ${path}: ${field}: ${detail}`);
    this.name = "KubeconfigError";
  }
}

const Str = z.string();
const Cluster = z.looseObject({
  server: z.string().min(1),
  "certificate-authority": Str.optional(),
  "certificate-authority-data": Str.optional(),
  "tls-server-name": Str.optional(),
  "insecure-skip-tls-verify": z.boolean().optional(),
});
const Context = z.looseObject({ cluster: Str, user: Str, namespace: Str.optional() });
const User = z.looseObject({
  "client-certificate": Str.optional(),
  "client-certificate-data": Str.optional(),
  "client-key": Str.optional(),
  "client-key-data": Str.optional(),
  token: Str.optional(),
  tokenFile: Str.optional(),
  exec: z.unknown().optional(),
  "auth-provider": z.unknown().optional(),
});
const KubeconfigFile = z.looseObject({
  "current-context": Str.optional(),
  clusters: z.array(z.looseObject({ name: Str, cluster: Cluster })).nullish(),
  contexts: z.array(z.looseObject({ name: Str, context: Context })).nullish(),
  users: z.array(z.looseObject({ name: Str, user: User.nullish() })).nullish(),
});

/** PEM material either in a file (absolute path) or inline. */
export type Material = { file: string } | { pem: string };

/** What a kubeconfig says about the current context. */
export interface KubeconfigSpec {
  /** The kubeconfig file it came from. */
  path: string;
  context: string;
  server: URL;
  ca?: Material;
  tlsServerName?: string;
  insecureSkipTlsVerify: boolean;
  clientCert?: Material;
  clientKey?: Material;
  token?: string;
  tokenFile?: string;
}

function fieldPath(path: PropertyKey[]): string {
  return path.map((p, i) => typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)
    .join("");
}

/**
 * Parses a kubeconfig and picks its current context.
 *
 * @example
 * const spec = parseKubeconfig(text, { path: "/var/lib/kubelet/kubeconfig" });
 * spec.server.href // "https://api-int.cluster-x.example.com:6443/"
 */
export function parseKubeconfig(yamlText: string, { path }: { path: string }): KubeconfigSpec {
  let raw: unknown;
  try {
    // yaml's duplicate-key check compares every key with every other: quadratic in a mapping's
    // size. A repeated key takes the last value, as in JSON.parse. No warnings on stderr: they
    // quote the text (a token line), and errors are thrown anyway.
    raw = parseYaml(yamlText, { uniqueKeys: false, logLevel: "error" });
  } catch (e) {
    // The yaml package quotes the faulty line, which may be the token's: code and place only.
    throw new KubeconfigError(path, "(file)", `not YAML: ${yamlErrorPlace(e)}`);
  }
  if (raw === null || typeof raw !== "object") {
    throw new KubeconfigError(path, "(file)", "empty or not a mapping");
  }
  const parsed = KubeconfigFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KubeconfigError(path, fieldPath(issue.path) || "(file)", issue.message);
  }
  const cfg = parsed.data;
  const ctxName = cfg["current-context"];
  if (!ctxName) throw new KubeconfigError(path, "current-context", "missing");
  const context = (cfg.contexts ?? []).find((c) => c.name === ctxName)?.context;
  if (!context) {
    throw new KubeconfigError(path, "current-context", `no context named "${ctxName}" in contexts`);
  }
  const cluster = (cfg.clusters ?? []).find((c) => c.name === context.cluster)?.cluster;
  if (!cluster) {
    throw new KubeconfigError(
      path,
      `contexts[${ctxName}].context.cluster`,
      `no cluster named "${context.cluster}" in clusters`,
    );
  }
  const userEntry = (cfg.users ?? []).find((u) => u.name === context.user);
  if (!userEntry) {
    throw new KubeconfigError(
      path,
      `contexts[${ctxName}].context.user`,
      `no user named "${context.user}" in users`,
    );
  }
  const user = userEntry.user ?? {};
  const uField = (f: string) => `users[${context.user}].user.${f}`;
  const cField = (f: string) => `clusters[${context.cluster}].cluster.${f}`;

  let server: URL;
  try {
    server = new URL(cluster.server);
  } catch {
    throw new KubeconfigError(path, cField("server"), `"${cluster.server}" is not a URL`);
  }
  if (server.protocol !== "https:" && server.protocol !== "http:") {
    throw new KubeconfigError(path, cField("server"), `"${cluster.server}" is not http(s)`);
  }

  const dir = dirname(path);
  const material = (
    dataField: string,
    file: string | undefined,
    data: string | undefined,
    field: (f: string) => string,
  ): Material | undefined => {
    if (data !== undefined && data !== "") {
      const pem = Buffer.from(data, "base64").toString("utf8");
      if (!pem.includes("-----BEGIN ")) {
        throw new KubeconfigError(path, field(dataField), "is not base64 of a PEM text");
      }
      return { pem };
    }
    if (file !== undefined && file !== "") {
      return { file: isAbsolute(file) ? file : join(dir, file) };
    }
    return undefined;
  };

  if (user.exec !== undefined || user["auth-provider"] !== undefined) {
    const f = user.exec !== undefined ? "exec" : "auth-provider";
    throw new KubeconfigError(path, uField(f), "credential plugins are not supported");
  }
  const clientCert = material(
    "client-certificate-data",
    user["client-certificate"],
    user["client-certificate-data"],
    uField,
  );
  const clientKey = material(
    "client-key-data",
    user["client-key"],
    user["client-key-data"],
    uField,
  );
  if (clientCert && !clientKey) {
    throw new KubeconfigError(path, uField("client-key"), "missing (client-certificate is set)");
  }
  if (clientKey && !clientCert) {
    throw new KubeconfigError(path, uField("client-certificate"), "missing (client-key is set)");
  }
  const token = user.token || undefined;
  const tokenFile = user.tokenFile
    ? (isAbsolute(user.tokenFile) ? user.tokenFile : join(dir, user.tokenFile))
    : undefined;
  if (!clientCert && !token && !tokenFile) {
    throw new KubeconfigError(
      path,
      uField("client-certificate"),
      "missing: the user has no client-certificate, token or tokenFile",
    );
  }
  return {
    path,
    context: ctxName,
    server,
    ca: material(
      "certificate-authority-data",
      cluster["certificate-authority"],
      cluster["certificate-authority-data"],
      cField,
    ),
    tlsServerName: cluster["tls-server-name"] || undefined,
    insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] ?? false,
    clientCert,
    clientKey,
    token,
    tokenFile,
  };
}
