/** One GET /coverage from a coverage server, bounded in time and size. */

import { errorText } from "../errors.ts";
import { parseIdentity } from "../identity.ts";
import { hostPort, type Identity } from "../target.ts";
import { BodyError, CoverageBodyReader, type CoverageFields } from "./body_reader.ts";
import { CoverageError } from "./coverage.ts";
import type { PullSlot } from "./gate.ts";

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
  /** The node-wide byte budget: the body's size is reserved before it is read. */
  slot?: PullSlot;
  /** Body size to reserve when the answer has no Content-Length (e.g. the last body's). */
  expectBytes?: number;
}

export interface PullResult {
  status: number;
  /** The identity headers of the response; null when they are missing or unusable. */
  identity: Identity | null;
  /** The body's fields, base64 decoded while it was read (not yet checked: see checkCoverage). */
  body: CoverageFields;
  /** Bytes of the body as sent. */
  bodyBytes: number;
}

/** Reserved for a body of unknown size with no earlier body to go by. */
const DEFAULT_EXPECT = 256 << 10;

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

/** Reads the body into `reader` as it arrives, at most `maxBody` bytes; returns its size. */
async function readCapped(
  body: ReadableStream<Uint8Array>,
  maxBody: number,
  url: string,
  reader: CoverageBodyReader,
  slot?: PullSlot,
): Promise<number> {
  const stream = body.getReader();
  let size = 0;
  try {
    while (true) {
      const { done, value } = await stream.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBody) {
        throw new PullError("too-large", `${url}: body is over the ${maxBody}-byte limit`);
      }
      if (slot && size > slot.held) slot.grow(size - slot.held);
      reader.push(value);
    }
  } catch (e) {
    await stream.cancel().catch(() => {});
    throw e;
  }
  return size;
}

/**
 * Pulls coverage: `GET /coverage` (or `?nometa=1`). Throws PullError on a network fault, timeout,
 * non-200 answer (a redirect is never followed), compressed answer or oversized body, and
 * CoverageError (with `identity` set, so the caller can check the identity headers before anything
 * else) when the body is not the /coverage JSON. It asks for `Accept-Encoding: identity` and
 * refuses a body sent compressed anyway: fetch would inflate it, and inflating holds about a
 * thousand times each compressed read (a gzip bomb), before any limit of ours applies. The body is
 * decoded while it is read (see CoverageBodyReader): its text is never held whole, and no chunk
 * is kept (a server dripping a few bytes at a time costs no 64 KiB buffer per drip).
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
    const reader = new CoverageBodyReader(opts.maxBody);
    let size = 0;
    try {
      const expect = Number.isFinite(declared) && declared >= 0
        ? declared
        : opts.expectBytes ?? DEFAULT_EXPECT;
      await opts.slot?.reserve(Math.min(expect, opts.maxBody), signal);
      if (res.body) size = await readCapped(res.body, opts.maxBody, url, reader, opts.slot);
      return { status: res.status, identity, body: reader.finish(), bodyBytes: size };
    } catch (e) {
      if (e instanceof BodyError) {
        throw Object.assign(new CoverageError(e.kind, e.message), { identity, status: 200 });
      }
      await res.body?.cancel().catch(() => {});
      const err = failure(e);
      throw new PullError(err.kind, err.message, 200, identity, { cause: e });
    }
  } finally {
    clearTimeout(timer);
  }
}
