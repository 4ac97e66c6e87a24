/** One GET /coverage from a coverage server, bounded in time and size. */

import { errorText } from "../errors.ts";
import { parseIdentity } from "../identity.ts";
import { hostPort, type Identity } from "../target.ts";

/** Why a pull brought nothing usable; `kind` is the metric label. */
export type PullErrorKind = "network" | "timeout" | "status" | "too-large" | "aborted";

/** A pull failed; carries the HTTP status and identity when a response came. */
export class PullError extends Error {
  constructor(
    readonly kind: PullErrorKind,
    message: string,
    readonly status?: number,
    readonly identity?: Identity | null,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "PullError";
  }
}

export interface PullOptions {
  host: string;
  port: number;
  /** Ask for counters only (`?nometa=1`). */
  nometa: boolean;
  /** Covers the whole exchange, body included. */
  timeoutMs: number;
  /** Largest body accepted; reading stops past it. */
  maxBody: number;
  signal?: AbortSignal;
}

export interface PullResult {
  status: number;
  /** The identity headers of the response; null when they are missing or unusable. */
  identity: Identity | null;
  /** The body text (not yet parsed or checked: see decodeCoverage). */
  body: string;
}

/** `http://host:port`, with brackets around an IPv6 address. */
export function baseUrl(host: string, port: number): string {
  return `http://${hostPort(host, port)}`;
}

function identityOf(headers: Headers): Identity | null {
  try {
    return parseIdentity(headers);
  } catch {
    return null;
  }
}

async function readCapped(
  body: ReadableStream<Uint8Array>,
  maxBody: number,
  url: string,
  what = "body",
): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBody) {
      await reader.cancel().catch(() => {});
      throw new PullError("too-large", `${url}: ${what} is over the ${maxBody}-byte limit`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/**
 * Pulls coverage: `GET /coverage` (or `?nometa=1`). Throws PullError on a network fault, timeout,
 * non-200 answer (a redirect is never followed) or oversized body. fetch inflates a
 * `Content-Encoding: gzip`/`br` body as it is read, so `maxBody` bounds the inflated size: a
 * small bomb is cut at the limit, having cost no more than `maxBody` of memory. The body is
 * returned as text so the caller can check the identity headers before anything else.
 *
 * @example await pullCoverage({ host: "10.128.2.17", port: 53700, nometa: false,
 *   timeoutMs: 30000, maxBody: 64 << 20 }) // { status: 200, identity: {...}, body: "{...}" }
 */
export async function pullCoverage(opts: PullOptions): Promise<PullResult> {
  const url = `${baseUrl(opts.host, opts.port)}/coverage${opts.nometa ? "?nometa=1" : ""}`;
  const timeout = new AbortController();
  const timer = setTimeout(
    () => timeout.abort(new DOMException("pull timed out", "TimeoutError")),
    opts.timeoutMs,
  );
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout.signal]) : timeout.signal;
  const failure = (e: unknown): PullError => {
    if (e instanceof PullError) return e;
    if (timeout.signal.aborted) {
      return new PullError("timeout", `${url}: no complete answer within ${opts.timeoutMs}ms`);
    }
    if (opts.signal?.aborted) return new PullError("aborted", `${url}: stopped`);
    const detail = errorText(e);
    return new PullError("network", `${url}: ${detail}`, undefined, undefined, { cause: e });
  };
  try {
    let res: Response;
    try {
      // A pod's redirect must not make root fetch another address (metadata service, a
      // loopback service of the host): never followed, a 3xx is a pull error like any non-200.
      res = await fetch(url, {
        signal,
        redirect: "manual",
        headers: { accept: "application/json" },
      });
    } catch (e) {
      throw failure(e);
    }
    const identity = identityOf(res.headers);
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      const redirect = res.status >= 300 && res.status < 400 ? " (redirects are not followed)" : "";
      throw new PullError(
        "status",
        `${url}: answered HTTP ${res.status}${redirect}`,
        res.status,
        identity,
      );
    }
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (declared > opts.maxBody) {
      await res.body?.cancel().catch(() => {});
      throw new PullError(
        "too-large",
        `${url}: body of ${declared} bytes is over the ${opts.maxBody}-byte limit`,
        200,
        identity,
      );
    }
    let bytes: Uint8Array;
    try {
      const encoding = res.headers.get("content-encoding");
      const what = encoding ? `body (${encoding.slice(0, 20)}, inflated)` : "body";
      bytes = res.body ? await readCapped(res.body, opts.maxBody, url, what) : new Uint8Array();
    } catch (e) {
      const err = failure(e);
      throw new PullError(err.kind, err.message, 200, identity, { cause: e });
    }
    return { status: res.status, identity, body: new TextDecoder().decode(bytes) };
  } finally {
    clearTimeout(timer);
  }
}
