/** The real kube and storage peers of `doctor`, reached through src/kube and src/sink. */

import { z } from "zod";
import type { Config } from "../config.ts";
import { CredentialsError, findCredentials, type S3Credentials } from "../sink/registry_auth.ts";
import { KubeApiError } from "../kube/api_errors.ts";
import { KubeClient } from "../kube/client.ts";
import { learnNodeName } from "../kube/identity.ts";
import { parseKubeconfig } from "../kube/kubeconfig.ts";
import { findKubeconfig, fsPath, type KubeconfigLocation } from "../kube/kubeconfig_source.ts";
import { podsQuery } from "../kube/pods.ts";
import type { Logger } from "../log.ts";
import type { S3Sink } from "../sink/s3.ts";
import { s3SinkFor } from "../sink/select.ts";
import type { System } from "../system.ts";
import type { KubePeer, StoragePeer } from "./remote.ts";
import { errorText } from "./report.ts";

const Version = z.looseObject({ gitVersion: z.string() });
const PodList = z.looseObject({ items: z.array(z.unknown()).nullish() });

/**
 * Kube probes over the real API: the kubeconfig the daemon would use, GET /version, the node
 * name as the daemon learns it, and the node's pod list. Close the client with `close()`.
 *
 * @example const kube = kubePeer({ system, config, log }); try { ... } finally { kube.close(); }
 */
export function kubePeer(
  deps: { system: System; config: Config; log: Logger },
): KubePeer & { close(): void } {
  const { system, config, log } = deps;
  let location: KubeconfigLocation | undefined;
  let client: KubeClient | undefined;
  const connected = () => {
    if (!client) throw new Error("no usable kubeconfig");
    return Promise.resolve(client);
  };
  return {
    async kubeconfig() {
      location = await findKubeconfig(system, config);
      if (!location) return undefined;
      const path = fsPath(location.root, location.path);
      // Parse it and load its credentials here, so a broken file fails this check by name.
      let text;
      try {
        text = await Deno.readTextFile(path);
      } catch (e) {
        throw new Error(`cannot read kubeconfig ${path}: ${errorText(e)}`);
      }
      const spec = parseKubeconfig(text, { path: location.path });
      client = await KubeClient.create(spec, location.root, {
        log,
        insecure: config.kubeInsecure,
        allowHttp: config.kubeAllowHttp,
      });
      const auth = spec.clientCert
        ? "client certificate"
        : spec.token || spec.tokenFile
        ? "token"
        : "no credentials";
      return { path, source: location.source, server: spec.server.origin, auth };
    },
    async apiServer(signal) {
      const c = await connected();
      try {
        const v = Version.parse(await c.json("GET", "/version", { signal, timeoutMs: 10_000 }));
        return `${c.server.origin} answered (Kubernetes ${v.gitVersion})`;
      } catch (e) {
        // TLS and credentials passed when the server says 404: it just has no /version.
        if (e instanceof KubeApiError && e.status === 404) {
          return `${c.server.origin} answered (no /version)`;
        }
        throw e;
      }
    },
    async nodeName(signal) {
      const id = await learnNodeName(await connected(), log, {
        signal,
        nodeName: config.nodeName,
        hostname: () => config.hostname || Deno.hostname(),
      });
      if (!id) throw new Error("the API server did not say who this node is in time");
      return { name: id.name, source: id.source };
    },
    async pods(nodeName, signal) {
      const c = await connected();
      const path = `/api/v1/pods?${podsQuery(nodeName, { limit: "500" })}`;
      const list = PodList.parse(await c.json("GET", path, { signal, timeoutMs: 10_000 }));
      return list.items?.length ?? 0;
    },
    close() {
      client?.close();
    },
  };
}

/**
 * fetch whose network errors carry their cause in the message ("fetch failed" alone does not
 * say whether the connection was refused, timed out or failed TLS).
 *
 * @example await fetchNamingCause("http://127.0.0.1:1/") // TypeError: fetch failed: ... Connection refused
 */
export async function fetchNamingCause(
  input: RequestInfo | URL,
  init?: RequestInit,
): Promise<Response> {
  try {
    return await fetch(input, init);
  } catch (e) {
    const cause = e instanceof Error && e.cause instanceof Error ? e.cause.message : "";
    if (e instanceof TypeError && cause && !e.message.includes(cause)) {
      throw new TypeError(`${e.message}: ${cause}`, { cause: e.cause });
    }
    throw e;
  }
}

/**
 * Storage probes: the credentials the sink would use, a one-key listing under the base path,
 * and a PUT + DELETE of a test object.
 *
 * @example const storage = storagePeer({ system, config });
 */
export function storagePeer(
  deps: { system: System; config: Config; fetch?: typeof fetch },
): StoragePeer {
  const { system, config } = deps;
  let creds: S3Credentials | undefined;
  let sink: S3Sink | undefined;
  const s3 = () => {
    if (!creds) throw new Error("no S3 credentials");
    sink ??= s3SinkFor(creds, config, {
      retry: { attempts: 1 },
      requestTimeoutMs: 10_000,
      fetch: deps.fetch ?? fetchNamingCause,
    });
    return sink;
  };
  const host = config.hostname || Deno.hostname();
  const testKey = `_doctor/${host}-${Deno.pid}.txt`.replace(/[^A-Za-z0-9._/-]/g, "-");
  return {
    async credentials() {
      try {
        creds = await findCredentials(system, config.credentialsFile);
      } catch (e) {
        if (e instanceof CredentialsError && e.absent && config.credentialsFile === "") {
          return { absent: e.message };
        }
        throw e;
      }
      return { file: creds.file, target: s3().description };
    },
    reach: (signal) => s3().reach(signal),
    async writeTest(signal) {
      const url = s3().url(testKey);
      await s3().put(testKey, new TextEncoder().encode("coverage-collector doctor\n"), signal);
      await s3().delete(testKey, signal);
      return `PUT and DELETE ${url}`;
    },
  };
}
