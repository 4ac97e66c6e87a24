/**
 * A small Kubernetes API client over fetch and Deno.createHttpClient: mutual TLS or a bearer
 * token, timeouts on every call, and a rebuilt connection pool when the client certificate rotates.
 */

import type { Logger } from "../log.ts";
import { apiErrorOf, causeText, KubeNetworkError } from "./api_errors.ts";
import { credentialFingerprint, type Credentials, loadCredentials } from "./credentials.ts";
import { KubeconfigError, type KubeconfigSpec } from "./kubeconfig.ts";
import { type LinkedAbort, linkedAbort } from "../linked_abort.ts";
import { ConnectionPools, httpClientFor } from "./pools.ts";
import { untilDone } from "./until_done.ts";

export interface ClientOptions {
  log: Logger;
  /** config.kubeInsecure: asked to skip API server certificate checks. */
  insecure?: boolean;
  /** config.kubeAllowHttp: an http:// server may be used (else refused before any request). */
  allowHttp?: boolean;
  /** Timeout of a whole request (headers and body) in ms. */
  requestTimeoutMs?: number;
}

/**
 * Talks to one API server as one identity.
 *
 * @example
 * const client = await KubeClient.create(spec, "/host", { log });
 * const res = await client.request("GET", "/version", { signal });
 */
export class KubeClient {
  #spec: KubeconfigSpec;
  #root: string;
  #opts: ClientOptions;
  #creds: Credentials;
  #pools: ConnectionPools;
  /** How many times the client certificate (or token file) was reloaded. */
  rotations = 0;

  private constructor(spec: KubeconfigSpec, root: string, opts: ClientOptions, creds: Credentials) {
    this.#spec = spec;
    this.#root = root;
    this.#opts = opts;
    this.#creds = creds;
    this.#pools = new ConnectionPools(httpClientFor(creds));
  }

  /**
   * Reads the credentials and builds the client; warns about insecure settings. An http://
   * server is refused (KubeconfigError) unless `allowHttp`: a bearer token would cross in clear.
   */
  static async create(spec: KubeconfigSpec, root: string, opts: ClientOptions) {
    if (spec.server.protocol === "http:" && !opts.allowHttp) {
      throw new KubeconfigError(
        spec.path,
        "server",
        `${spec.server.origin} is plain http: the node's credentials would cross in clear; ` +
          "refused (--kube-allow-http allows it)",
      );
    }
    if (spec.server.protocol === "http:") {
      opts.log.warn("--kube-allow-http: talking to the API server over plain http", {
        server: spec.server.origin,
      });
    }
    const creds = await loadCredentials(spec, root);
    const log = opts.log;
    if (opts.insecure) {
      log.warn(
        "--kube-insecure: asked to skip API server certificate checks; Deno cannot skip them per " +
          "connection, so they stay on unless the collector runs under Deno's " +
          "--unsafely-ignore-certificate-errors",
        { server: spec.server.origin },
      );
    } else if (spec.insecureSkipTlsVerify) {
      log.warn("kubeconfig asks insecure-skip-tls-verify; ignored (verification stays on)", {
        kubeconfig: spec.path,
      });
    }
    if (spec.tlsServerName && spec.tlsServerName !== spec.server.hostname) {
      log.warn("tls-server-name is not supported; verifying the server's name from its URL", {
        tlsServerName: spec.tlsServerName,
        server: spec.server.origin,
      });
    }
    return new KubeClient(spec, root, opts, creds);
  }

  get server(): URL {
    return this.#spec.server;
  }

  /** DER of the client certificate, when the identity is a certificate. */
  get certificateDer(): Uint8Array | undefined {
    return this.#creds.certDer;
  }

  /** Before every new connection: reload when a credential file changed (rotation). */
  async #refresh(): Promise<void> {
    let fp: string;
    try {
      fp = await credentialFingerprint(this.#spec, this.#root);
    } catch (e) {
      // Mid-rotation the link can point nowhere for a moment: keep the current identity.
      this.#opts.log.debug("credential files unreadable; keeping current", { error: e });
      return;
    }
    if (fp === this.#creds.fingerprint) return;
    const creds = await loadCredentials(this.#spec, this.#root);
    this.#pools.replace(httpClientFor(creds));
    this.#creds = creds;
    this.rotations++;
    this.#opts.log.info("kube credentials changed; new connections use them", {
      kubeconfig: this.#spec.path,
      rotations: this.rotations,
    });
  }

  /** Pools not closed yet: 1, plus retired ones that a request or stream still uses. */
  get openPools(): number {
    return this.#pools.open;
  }

  #url(path: string): string {
    return new URL(path, this.#spec.server).href;
  }

  #headers(extra: Record<string, string> = {}): Headers {
    const h = new Headers({ accept: "application/json", ...extra });
    if (this.#creds.token) h.set("authorization", `Bearer ${this.#creds.token}`);
    return h;
  }

  /**
   * Sends a request and returns the response once its headers arrived with a 2xx status;
   * otherwise throws KubeApiError (with the API's message) or KubeNetworkError.
   * `timeoutMs` covers the headers only when `stream` is set (the body is the caller's).
   */
  async request(
    method: string,
    path: string,
    opts: { signal: AbortSignal; body?: unknown; timeoutMs?: number; stream?: boolean },
  ): Promise<Response> {
    await this.#refresh();
    const pool = this.#pools.take();
    // The fetch's signal, held by the caller's through its listener until the body is done
    // (AbortSignal.any would be held weakly: lost at the next GC, and a stream would never end).
    const link = linkedAbort([opts.signal]);
    const done = () => {
      link.dispose();
      pool.release();
    };
    let res: Response;
    try {
      res = await this.#send(pool.http, link, method, path, opts);
    } catch (e) {
      done();
      throw e;
    }
    if (!opts.stream || !res.body) {
      done();
      return res;
    }
    // The stream keeps using its pool until it ends, fails, is cancelled or aborted.
    return new Response(untilDone(res.body, done, link.signal), {
      status: res.status,
      statusText: res.statusText,
      headers: res.headers,
    });
  }

  async #send(
    http: Deno.HttpClient,
    link: LinkedAbort,
    method: string,
    path: string,
    opts: { signal: AbortSignal; body?: unknown; timeoutMs?: number; stream?: boolean },
  ): Promise<Response> {
    const url = this.#url(path);
    const timeoutMs = opts.timeoutMs ?? this.#opts.requestTimeoutMs ?? 30_000;
    let timedOut = false;
    const handle = setTimeout(() => {
      timedOut = true;
      link.abort(new Error(`no answer within ${timeoutMs}ms`));
    }, timeoutMs);
    const signal = link.signal;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        client: http,
        signal,
        headers: this.#headers(opts.body ? { "content-type": "application/json" } : {}),
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      });
      if (opts.stream && res.ok) clearTimeout(handle);
    } catch (e) {
      clearTimeout(handle);
      if (opts.signal.aborted) throw e;
      const detail = timedOut ? `no answer within ${timeoutMs}ms` : causeText(e);
      throw new KubeNetworkError(method, url, this.#hint(detail));
    }
    if (!res.ok) {
      try {
        throw await apiErrorOf(res, method, url);
      } finally {
        clearTimeout(handle);
      }
    }
    if (!opts.stream) {
      // Keep the timeout over the body: read it here.
      try {
        const body = await res.arrayBuffer();
        return new Response(body, { status: res.status, headers: res.headers });
      } catch (e) {
        if (opts.signal.aborted) throw e;
        const detail = timedOut ? `no answer within ${timeoutMs}ms` : causeText(e);
        throw new KubeNetworkError(method, url, `reading the body: ${detail}`);
      } finally {
        clearTimeout(handle);
      }
    }
    return res;
  }

  /** A JSON request; the body is returned unparsed for the caller's schema. */
  async json(
    method: string,
    path: string,
    opts: { signal: AbortSignal; body?: unknown; timeoutMs?: number },
  ): Promise<unknown> {
    const res = await this.request(method, path, opts);
    try {
      return await res.json();
    } catch (e) {
      throw new KubeNetworkError(method, this.#url(path), `answer is not JSON: ${causeText(e)}`);
    }
  }

  #hint(detail: string): string {
    if (/certificate|UnknownIssuer|NotValidForName/i.test(detail) && this.#opts.insecure) {
      return `${detail} (--kube-insecure needs Deno's --unsafely-ignore-certificate-errors)`;
    }
    return detail;
  }

  /** Closes every connection pool. */
  close(): void {
    this.#pools.close();
  }
}
