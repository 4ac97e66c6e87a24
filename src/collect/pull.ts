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

/** Largest block the body is copied into while read. */
const MAX_BLOCK = 1 << 20;

async function readCapped(
  body: ReadableStream<Uint8Array>,
  maxBody: number,
  url: string,
): Promise<Uint8Array> {
  const reader = body.getReader();
  // The chunks are copied into blocks (64 KiB, growing to 1 MiB), never kept: each chunk is a
  // view of its own 64 KiB buffer however few bytes it holds, so keeping the chunks of a server
  // dripping a few bytes at a time would hold 64 KiB per drip, far more than maxBody counts.
  const blocks: Uint8Array[] = [];
  let block = new Uint8Array(0);
  let used = 0;
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBody) {
      await reader.cancel().catch(() => {});
      throw new PullError("too-large", `${url}: body is over the ${maxBody}-byte limit`);
    }
    for (let off = 0; off < value.byteLength;) {
      if (used === block.byteLength) {
        if (used > 0) blocks.push(block);
        block = new Uint8Array(Math.min(MAX_BLOCK, Math.max(64 << 10, size)));
        used = 0;
      }
      const n = Math.min(value.byteLength - off, block.byteLength - used);
      block.set(value.subarray(off, off + n), used);
      used += n;
      off += n;
    }
  }
  blocks.push(block.subarray(0, used));
  if (blocks.length === 1) return blocks[0];
  const out = new Uint8Array(size);
  let at = 0;
  for (const b of blocks) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}

/**
 * Pulls coverage: `GET /coverage` (or `?nometa=1`). Throws PullError on a network fault, timeout,
 * non-200 answer (a redirect is never followed), compressed answer or oversized body. It asks
 * for `Accept-Encoding: identity` and refuses a body sent compressed anyway: fetch would inflate
 * it, and inflating holds about a thousand times each compressed read (a gzip bomb), before any
 * limit of ours applies. The body is returned as text so the caller can check the identity
 * headers before anything else.
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
        // Without this fetch asks for gzip and br and inflates what comes (see below).
        headers: { accept: "application/json", "accept-encoding": "identity" },
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
    const encoding = res.headers.get("content-encoding")?.trim() ?? "";
    if (encoding !== "" && encoding.toLowerCase() !== "identity") {
      await res.body?.cancel().catch(() => {});
      throw new PullError(
        "status",
        `${url}: answered with Content-Encoding ${JSON.stringify(encoding.slice(0, 40))}, ` +
          "not asked for (identity only): not inflated",
        200,
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
      bytes = res.body ? await readCapped(res.body, opts.maxBody, url) : new Uint8Array();
    } catch (e) {
      const err = failure(e);
      throw new PullError(err.kind, err.message, 200, identity, { cause: e });
    }
    return { status: res.status, identity, body: new TextDecoder().decode(bytes) };
  } finally {
    clearTimeout(timer);
  }
}
