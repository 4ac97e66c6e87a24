/** One GET /coverage from a coverage server, bounded in time and size. */

import { errorText } from "../errors.ts";
import { parseIdentity } from "../probe/server_identity.ts";
import { linkedAbort } from "../linked_abort.ts";
import { hostPort, type Identity } from "../target.ts";
import { BodyError, CoverageBodyReader, type CoverageFields } from "./body_reader.ts";
import { CoverageError } from "./coverage.ts";
import type { PullSlot } from "./gate.ts";

/** Why a pull brought nothing usable; `kind` is the metric label. */
export type PullErrorKind =
  | "network"
  | "timeout"
  | "slow"
  | "status"
  | "too-large"
  | "aborted";

/**
 * The slowest answer a pull waits for: after `graceMs` (headers included), at least
 * `bytesPerSecond` on average since then, or the pull is cut ("slow"). Time spent waiting for the
 * gate's byte budget does not count. A real server sends its body from memory, megabytes a
 * second even on a loaded node; a server dripping bytes would hold a slot for the whole timeout.
 */
export interface PullFloor {
  graceMs: number;
  bytesPerSecond: number;
}

/** Default floor: 3 s grace, then 32 KiB/s (a 1.35 MB field-size meta-data has 45 s). */
export const DEFAULT_FLOOR: PullFloor = { graceMs: 3000, bytesPerSecond: 32 << 10 };

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
  /** The node-wide byte budget: part of the body's size is reserved before it is read, the
   * rest taken as it arrives. */
  slot?: PullSlot;
  /** Body size to reserve when the answer has no Content-Length (e.g. the last body's). */
  expectBytes?: number;
  /** The slowest answer waited for (default DEFAULT_FLOOR; null: only the timeout). */
  floor?: PullFloor | null;
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

/** How fast an answer comes, with the time spent waiting for the gate left out. */
class Pace {
  #start = performance.now();
  #waited = 0;
  #waitingSince: number | null = null;
  received = 0;

  /** Milliseconds of the pull not spent waiting for the gate. */
  activeMs(): number {
    const now = performance.now();
    const waiting = this.#waitingSince === null ? 0 : now - this.#waitingSince;
    return now - this.#start - this.#waited - waiting;
  }

  /** Awaits `p` with the clock stopped. */
  async paused<T>(p: Promise<T>): Promise<T> {
    this.#waitingSince = performance.now();
    try {
      return await p;
    } finally {
      this.#waited += performance.now() - this.#waitingSince;
      this.#waitingSince = null;
    }
  }

  /** True when fewer bytes came than the floor asks for by now. */
  under(floor: PullFloor): boolean {
    const late = this.activeMs() - floor.graceMs;
    return late > 0 && this.received < floor.bytesPerSecond * late / 1000;
  }
}

/** Reads the body into `reader` as it arrives, at most `maxBody` bytes; returns its size. */
async function readCapped(
  body: ReadableStream<Uint8Array>,
  maxBody: number,
  url: string,
  reader: CoverageBodyReader,
  pace: Pace,
  slot?: PullSlot,
  signal?: AbortSignal,
): Promise<number> {
  const stream = body.getReader();
  let size = 0;
  try {
    while (true) {
      const { done, value } = await stream.read();
      if (done) break;
      size += value.byteLength;
      pace.received = size;
      if (size > maxBody) {
        throw new PullError("too-large", `${url}: body is over the ${maxBody}-byte limit`);
      }
      reader.push(value);
      // Bytes are taken as they arrive (an announced length is not believed); while the budget
      // is full, reading waits (the server's writes wait on TCP) instead of holding more.
      if (slot && size > slot.held) slot.grow(size - slot.held);
      if (slot) await pace.paused(slot.room(signal));
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
  const pace = new Pace();
  const floor = opts.floor === undefined ? DEFAULT_FLOOR : opts.floor;
  const slow = new AbortController();
  const watch = floor === null ? undefined : setInterval(() => {
    if (pace.under(floor)) slow.abort(new DOMException("pull too slow", "TimeoutError"));
  }, Math.max(50, Math.min(1000, floor.graceMs / 4)));
  // Linked strongly (see linked_abort.ts): a derived signal held by nothing else is lost at a GC.
  const link = linkedAbort([...(opts.signal ? [opts.signal] : []), timeout.signal, slow.signal]);
  const signal = link.signal;
  const failure = (e: unknown): PullError => {
    if (e instanceof PullError) return e;
    if (timeout.signal.aborted) {
      return new PullError("timeout", `${url}: no complete answer within ${opts.timeoutMs}ms`);
    }
    if (opts.signal?.aborted) return new PullError("aborted", `${url}: stopped`);
    if (slow.signal.aborted && floor) {
      return new PullError(
        "slow",
        // No counts in the text: the collector logs a failure again only when its text changes.
        `${url}: answer under the floor of ${floor.bytesPerSecond} bytes/s after ` +
          `${floor.graceMs}ms: cut (slow)`,
      );
    }
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
      if (opts.slot) await pace.paused(opts.slot.reserve(Math.min(expect, opts.maxBody), signal));
      if (res.body) {
        size = await readCapped(res.body, opts.maxBody, url, reader, pace, opts.slot, signal);
      }
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
    clearInterval(watch);
    link.dispose();
  }
}
