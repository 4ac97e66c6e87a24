/**
 * The node's name: the setting, else what the API server says we are (SelfSubjectReview), else
 * the client certificate's CN, else the host name. Never the kubeconfig's user entry name.
 */

import { z } from "zod";
import type { Logger } from "../log.ts";
import { sleep } from "../system.ts";
import { Backoff } from "../backoff.ts";
import { isRetryable, KubeApiError } from "./api_errors.ts";
import type { KubeClient } from "./client.ts";
import { subjectCommonName } from "./pem.ts";

export type IdentitySource =
  | "setting"
  | "selfsubjectreview-v1"
  | "selfsubjectreview-v1beta1"
  | "certificate-cn"
  | "hostname";

export interface NodeIdentity {
  name: string;
  source: IdentitySource;
}

const NODE_USER = /^system:node:(.+)$/;

/** `system:node:<name>` → `<name>`. @example nodeNameFromUsername("system:node:w1") // "w1" */
export function nodeNameFromUsername(username: string): string | undefined {
  return NODE_USER.exec(username)?.[1];
}

const Review = z.looseObject({
  status: z.looseObject({
    userInfo: z.looseObject({ username: z.string() }),
  }),
});

const SSR_PATHS = [
  ["v1", "selfsubjectreview-v1"],
  ["v1beta1", "selfsubjectreview-v1beta1"],
] as const;

/** Asks the API server who we are; undefined when SelfSubjectReview is not served or says no. */
async function selfSubjectReview(
  client: KubeClient,
  log: Logger,
  signal: AbortSignal,
): Promise<NodeIdentity | undefined> {
  for (const [version, source] of SSR_PATHS) {
    const path = `/apis/authentication.k8s.io/${version}/selfsubjectreviews`;
    let body: unknown;
    try {
      body = await client.json("POST", path, {
        signal,
        body: { apiVersion: `authentication.k8s.io/${version}`, kind: "SelfSubjectReview" },
      });
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) continue;
      if (e instanceof KubeApiError && !isRetryable(e)) {
        log.warn("SelfSubjectReview refused; trying the certificate", { error: e.message });
        return undefined;
      }
      throw e;
    }
    const review = Review.safeParse(body);
    if (!review.success) {
      log.warn("SelfSubjectReview answer without status.userInfo.username", { path });
      return undefined;
    }
    const username = review.data.status.userInfo.username;
    const name = nodeNameFromUsername(username);
    if (name) return { name, source };
    log.warn("API server identity is not a node; not using it as the node name", { username });
    return undefined;
  }
  log.info("SelfSubjectReview not served (404 on v1 and v1beta1); trying the certificate");
  return undefined;
}

export interface IdentityOptions {
  signal: AbortSignal;
  /** config.nodeName ("" = learn it). */
  nodeName: string;
  /** Last resort (config.hostname or the host's). */
  hostname: () => string;
  backoff?: Backoff;
  /** Told each failed attempt, for status. */
  onRetry?: (error: unknown, delayMs: number) => void;
}

/**
 * Finds the node name, retrying the API server forever (capped backoff) on network errors and
 * 5xx. Undefined only when `signal` aborted.
 *
 * @example await learnNodeName(client, log, { signal, nodeName: "", hostname: Deno.hostname })
 * // { name: "worker-1", source: "selfsubjectreview-v1" }
 */
export async function learnNodeName(
  client: KubeClient,
  log: Logger,
  opts: IdentityOptions,
): Promise<NodeIdentity | undefined> {
  if (opts.nodeName !== "") return { name: opts.nodeName, source: "setting" };
  const backoff = opts.backoff ?? new Backoff();
  while (!opts.signal.aborted) {
    try {
      const found = await selfSubjectReview(client, log, opts.signal);
      if (found) return found;
      break;
    } catch (e) {
      if (opts.signal.aborted) return undefined;
      const delay = backoff.next();
      opts.onRetry?.(e, delay);
      log.warn("API server not answering SelfSubjectReview; retrying", {
        error: e,
        retryInMs: delay,
      });
      if (!await sleep(delay, opts.signal)) return undefined;
    }
  }
  if (opts.signal.aborted) return undefined;
  const der = client.certificateDer;
  if (der) {
    try {
      const cn = subjectCommonName(der);
      const name = cn ? nodeNameFromUsername(cn) : undefined;
      if (name) return { name, source: "certificate-cn" };
      log.warn("client certificate CN is not system:node:<name>", { cn });
    } catch (e) {
      log.warn("cannot read the client certificate's subject", { error: e });
    }
  }
  const name = opts.hostname();
  log.warn("node name not learned from the API server or certificate; using the host name", {
    nodeName: name,
  });
  return { name, source: "hostname" };
}
