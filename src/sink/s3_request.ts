/**
 * Requests to S3: signed (SigV4), each under a timeout, retried with exponential backoff and
 * full jitter (or the server's Retry-After) on 5xx, 429 and network faults. Other 4xx are
 * permanent and never hammered: a SinkError for a store-wide refusal, a KeyRejectedError for a
 * refusal of one object (see s3_refusal.ts).
 */

import { AwsClient } from "aws4fetch";
import { fullJitter } from "../backoff.ts";
import { errorText } from "../errors.ts";
import { linkedAbort } from "../linked_abort.ts";
import { sleep } from "../system.ts";
import { refusalScope, retryableAnswer, s3ErrorCode } from "./s3_refusal.ts";
import { KeyRejectedError, SinkError } from "./sink.ts";

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** Cap of the first backoff; doubles each try. */
  baseMs: number;
  /** Cap of any backoff (and of a server's Retry-After). */
  maxMs: number;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 200, maxMs: 10_000 };

/** Who signs, where, and how patiently. */
export interface S3RequestOptions {
  accessKey: string;
  secretKey: string;
  region: string;
  retry?: Partial<RetryPolicy>;
  /** Timeout of one HTTP request. */
  requestTimeoutMs?: number;
  /** The fetch to use (tests count requests with it). */
  fetch?: typeof fetch;
}

/**
 * Sends signed requests to one S3 store as one identity.
 *
 * @example
 * const requests = new S3Requests({ accessKey, secretKey, region: "us-east-1" });
 * await requests.send("PUT", url, { body, headers }, signal, [], key);
 */
export class S3Requests {
  #client: AwsClient;
  #retry: RetryPolicy;
  #timeoutMs: number;
  #fetch: typeof fetch;

  constructor(opts: S3RequestOptions) {
    this.#client = new AwsClient({
      accessKeyId: opts.accessKey,
      secretAccessKey: opts.secretKey,
      service: "s3",
      region: opts.region,
      retries: 0,
    });
    this.#retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.#timeoutMs = opts.requestTimeoutMs ?? 60_000;
    this.#fetch = opts.fetch ?? fetch;
  }

  /**
   * One signed request with retries; resolves with a 2xx (or an `allowed`) response. With a
   * `key`, a refusal of that object alone is a KeyRejectedError.
   *
   * @example const res = await requests.send("HEAD", url, {}, signal, [404]);
   */
  async send(
    method: string,
    url: string,
    init: { body?: Uint8Array; headers?: Record<string, string> },
    signal?: AbortSignal,
    allowed: number[] = [],
    key?: string,
  ): Promise<Response> {
    const what = `S3 ${method} ${url}`;
    let last = "";
    for (let attempt = 0; attempt < this.#retry.attempts; attempt++) {
      if (signal?.aborted) throw new SinkError(`${what}: aborted (${last || "no answer"})`, false);
      const timeout = AbortSignal.timeout(this.#timeoutMs);
      const link = linkedAbort(signal ? [signal, timeout] : [timeout]);
      const both = link.signal;
      let wait: number | undefined;
      try {
        const req = await this.#client.sign(url, {
          method,
          headers: init.headers,
          body: init.body as BodyInit | undefined,
        });
        const res = await this.#fetch(req, { signal: both });
        if (res.ok || allowed.includes(res.status)) return res;
        const body = method === "HEAD" ? "" : await res.text().catch(() => "");
        const code = s3ErrorCode(body);
        last = `answered ${res.status}${code ? ` ${code}` : ""}`;
        const retryable = retryableAnswer(res.status, code);
        if (!retryable && key !== undefined && refusalScope(res.status, code) === "key") {
          throw new KeyRejectedError(
            `${what} ${last}: the store refuses this object; not retried`,
            key,
          );
        }
        if (!retryable) {
          throw new SinkError(
            `${what} ${last}: a configuration fault (credentials, bucket, region or policy); ` +
              "not retried",
            true,
          );
        }
        wait = retryAfterMs(res);
      } catch (e) {
        link.dispose();
        if (e instanceof SinkError) throw e;
        if (signal?.aborted) throw new SinkError(`${what}: aborted`, false, { cause: e });
        last = timeout.aborted
          ? `no answer within ${this.#timeoutMs}ms`
          : `failed: ${describeFetchError(e)}`;
      }
      // A returned response keeps its link (its body is read by the caller) until the timeout,
      // which disposes it; one that is retried drops it here.
      link.dispose();
      if (attempt + 1 < this.#retry.attempts) {
        const ms = Math.min(this.#retry.maxMs, wait ?? fullJitter(attempt, this.#retry));
        if (!await sleep(ms, signal)) throw new SinkError(`${what}: aborted (${last})`, false);
      }
    }
    throw new SinkError(`${what} ${last} (after ${this.#retry.attempts} tries)`, false);
  }
}

function retryAfterMs(res: Response): number | undefined {
  const v = res.headers.get("retry-after");
  if (v === null) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

/**
 * A fetch failure with its cause ("fetch failed" alone does not say refused, DNS or TLS).
 *
 * @example describeFetchError(new TypeError("fetch failed", { cause: new Error("refused") }))
 * // "fetch failed: refused"
 */
export function describeFetchError(e: unknown): string {
  const msg = errorText(e);
  const cause = e instanceof Error ? e.cause : undefined;
  const why = cause instanceof Error ? cause.message : cause ? String(cause) : "";
  return why && !msg.includes(why) ? `${msg}: ${why}` : msg;
}
