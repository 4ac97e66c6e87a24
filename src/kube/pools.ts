/**
 * The kube client's connection pools: new requests use the current pool, built for the current
 * credentials; when the credentials rotate it is replaced, and the old pool stays open while a
 * request or a stream body still uses it, then closes after its last user.
 */

import type { Credentials } from "./credentials.ts";

/**
 * A connection pool that presents `creds` (client certificate, if any) and trusts their CA.
 *
 * @example const http = httpClientFor(await loadCredentials(spec, "/host"));
 */
export function httpClientFor(creds: Credentials): Deno.HttpClient {
  const caCerts = creds.caPem ? [creds.caPem] : undefined;
  if (creds.certPem && creds.keyPem) {
    return Deno.createHttpClient({ caCerts, cert: creds.certPem, key: creds.keyPem });
  }
  return Deno.createHttpClient({ caCerts });
}

/**
 * The current pool and the retired ones still in use.
 *
 * @example
 * const pools = new ConnectionPools(httpClientFor(creds));
 * const { http, release } = pools.take(); try { await fetch(url, { client: http }); } finally { release(); }
 */
export class ConnectionPools {
  #current: Deno.HttpClient;
  #closed = false;
  /** Requests (and stream bodies) still using each pool. */
  #users = new Map<Deno.HttpClient, number>();
  /** Pools replaced by a rotation, closed as soon as their last user is done. */
  #retired = new Set<Deno.HttpClient>();

  constructor(current: Deno.HttpClient) {
    this.#current = current;
  }

  /** New requests use `next` from now on; the replaced pool closes when it is idle. */
  replace(next: Deno.HttpClient): void {
    const old = this.#current;
    this.#current = next;
    this.#retired.add(old);
    this.#closeIfIdle(old);
  }

  /** Pools not closed yet: 1 (0 once closed), plus retired ones a request or stream still uses. */
  get open(): number {
    return this.#retired.size + (this.#closed ? 0 : 1);
  }

  /** The current pool for one request; call `release` (once is enough) when it is done. */
  take(): { http: Deno.HttpClient; release: () => void } {
    const http = this.#current;
    this.#users.set(http, (this.#users.get(http) ?? 0) + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.#users.get(http) ?? 1) - 1;
      if (left > 0) this.#users.set(http, left);
      else this.#users.delete(http);
      this.#closeIfIdle(http);
    };
    return { http, release };
  }

  /** Closes every pool, each once its last request or stream is done (idle ones now). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#retired.add(this.#current);
    for (const c of [...this.#retired]) this.#closeIfIdle(c);
  }

  #closeIfIdle(http: Deno.HttpClient): void {
    if (!this.#retired.has(http) || this.#users.has(http)) return;
    this.#retired.delete(http);
    try {
      http.close();
    } catch { /* already closed */ }
  }
}
