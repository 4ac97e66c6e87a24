/**
 * The S3 sink: signed (SigV4) PUTs to AWS or an S3-compatible store, retried with exponential
 * backoff and full jitter on 5xx, 429 and network faults. Other 4xx are permanent, never
 * hammered: a configuration fault (credentials, bucket, region) stops every write, while a
 * refusal of one object for itself (a key the store cannot hold) is a KeyRejectedError that
 * leaves the others alone.
 */

import { errorText } from "../errors.ts";
import { fullJitter } from "../backoff.ts";
import { AwsClient } from "aws4fetch";
import { KeyRejectedError, type Sink, SinkError } from "./sink.ts";
import { encodeKey } from "./key.ts";
import { sleep } from "../system.ts";

export interface RetryPolicy {
  /** Tries in all, the first included. */
  attempts: number;
  /** Cap of the first backoff; doubles each try. */
  baseMs: number;
  /** Cap of any backoff (and of a server's Retry-After). */
  maxMs: number;
}

export interface S3SinkOptions {
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
  /** Prefix of every key, e.g. `openshift-ci/coverage/cluster-x` (slashes at the ends ignored). */
  basePath?: string;
  /** `https://minio.example:9000`: an S3-compatible store instead of AWS. */
  endpoint?: string;
  /** `{endpoint}/{bucket}/{key}` instead of `{bucket}.{endpoint host}/{key}`. */
  pathStyle?: boolean;
  retry?: Partial<RetryPolicy>;
  /** Timeout of one HTTP request. */
  requestTimeoutMs?: number;
  /** The fetch to use (tests count requests with it). */
  fetch?: typeof fetch;
}

const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseMs: 200, maxMs: 10_000 };

/** The `<Code>` of an S3 XML error body, if any. */
export function s3ErrorCode(body: string): string | undefined {
  return /<Code>([^<]{1,100})<\/Code>/.exec(body)?.[1];
}

/** S3 error codes about the store as a whole (credentials, signature, bucket, region). */
const STORE_CODES = new Set([
  "AccessDenied",
  "AccountProblem",
  "AllAccessDisabled",
  "AuthorizationHeaderMalformed",
  "ExpiredToken",
  "IllegalLocationConstraintException",
  "InvalidAccessKeyId",
  "InvalidBucketName",
  "InvalidBucketState",
  "InvalidToken",
  "MissingSecurityHeader",
  "NoSuchBucket",
  "PermanentRedirect",
  "Redirect",
  "RequestTimeTooSkewed",
  "SignatureDoesNotMatch",
  "TemporaryRedirect",
]);

/**
 * Whom a non-retryable answer to a PUT is about: `store` (credentials, bucket, region, policy:
 * no write can succeed) or `key` (this object only: a key too long, an argument the store
 * refuses for this name). 401, 403, 405, redirects and the codes above are the store's.
 *
 * @example refusalScope(400, "KeyTooLongError") // "key"
 * @example refusalScope(403, "AccessDenied") // "store"
 */
export function refusalScope(status: number, code: string | undefined): "store" | "key" {
  if (status < 400 || status >= 500) return "store";
  if (status === 401 || status === 403 || status === 405) return "store";
  if (code !== undefined && STORE_CODES.has(code)) return "store";
  return "key";
}

function retryAfterMs(res: Response): number | undefined {
  const v = res.headers.get("retry-after");
  if (v === null) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - Date.now());
}

/**
 * Stores objects in an S3 bucket.
 *
 * @example
 * const s3 = new S3Sink({ accessKey, secretKey, bucket: "cov", region: "us-east-1", basePath: "ci/x" });
 * await s3.put("node1/_host_/20260101T000000Z/kubelet/info.json", bytes);
 */
export class S3Sink implements Sink {
  readonly description: string;
  readonly bucket: string;
  #client: AwsClient;
  #origin: string;
  #prefix: string;
  #retry: RetryPolicy;
  #timeoutMs: number;
  #fetch: typeof fetch;

  constructor(opts: S3SinkOptions) {
    this.bucket = opts.bucket;
    this.#client = new AwsClient({
      accessKeyId: opts.accessKey,
      secretAccessKey: opts.secretKey,
      service: "s3",
      region: opts.region,
      retries: 0,
    });
    const base = (opts.basePath ?? "").split("/").filter((s) => s !== "").join("/");
    this.#prefix = base === "" ? "" : encodeKey(base) + "/";
    this.description = `s3://${opts.bucket}${base === "" ? "" : "/" + base}`;
    const bucket = encodeURIComponent(opts.bucket);
    if (!opts.endpoint) {
      this.#origin = `https://${bucket}.s3.${opts.region}.amazonaws.com/`;
    } else {
      const ep = new URL(opts.endpoint);
      const path = ep.pathname.replace(/\/+$/, "");
      this.#origin = opts.pathStyle
        ? `${ep.protocol}//${ep.host}${path}/${bucket}/`
        : `${ep.protocol}//${bucket}.${ep.host}${path}/`;
    }
    this.#retry = { ...DEFAULT_RETRY, ...opts.retry };
    this.#timeoutMs = opts.requestTimeoutMs ?? 60_000;
    this.#fetch = opts.fetch ?? fetch;
  }

  /** The URL of a key (base path included); no secret in it. */
  url(key: string): string {
    return this.#origin + this.#prefix + encodeKey(key);
  }

  async put(key: string, data: Uint8Array, signal?: AbortSignal): Promise<void> {
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", data as BufferSource));
    const hex = Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
    await this.#send(
      "PUT",
      this.url(key),
      {
        body: data,
        headers: { "content-type": "application/octet-stream", "x-amz-content-sha256": hex },
      },
      signal,
      [],
      key,
    );
  }

  /** Deletes an object (doctor's write test cleans up with it). */
  async delete(key: string, signal?: AbortSignal): Promise<void> {
    await this.#send("DELETE", this.url(key), {}, signal);
  }

  /** Reads an object; null when it does not exist. Throws SinkError past `maxBytes`. */
  async get(key: string, signal?: AbortSignal, maxBytes = Infinity): Promise<Uint8Array | null> {
    const res = await this.#send("GET", this.url(key), {}, signal, [404]);
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    const tooBig = () => new SinkError(`${this.url(key)}: over the ${maxBytes}-byte limit`, true);
    if (Number(res.headers.get("content-length") ?? 0) > maxBytes) {
      await res.body?.cancel();
      throw tooBig();
    }
    if (maxBytes === Infinity || !res.body) return new Uint8Array(await res.arrayBuffer());
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += chunk.byteLength;
      if (size > maxBytes) throw tooBig();
      chunks.push(chunk);
    }
    const out = new Uint8Array(size);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.byteLength;
    }
    return out;
  }

  /** True when an object exists. */
  async head(key: string, signal?: AbortSignal): Promise<boolean> {
    const res = await this.#send("HEAD", this.url(key), {}, signal, [404]);
    await res.body?.cancel();
    return res.status !== 404;
  }

  /**
   * A read-only request: lists at most one key under the base path (ListObjectsV2). Resolves with
   * what answered; throws SinkError as put does.
   */
  async reach(signal?: AbortSignal): Promise<string> {
    const q = new URLSearchParams({ "list-type": "2", "max-keys": "1", prefix: this.#prefix });
    const res = await this.#send("GET", `${this.#origin}?${q}`, {}, signal);
    await res.body?.cancel();
    return `${this.description}: listing answered ${res.status}`;
  }

  /**
   * One page (ListObjectsV2, up to 1000 keys) of the keys under the base path, relative to it;
   * `next` is the continuation token of the following page, absent on the last.
   *
   * @example const { keys, next } = await s3.listPage(undefined, signal);
   */
  async listPage(
    token?: string,
    signal?: AbortSignal,
    maxKeys?: number,
  ): Promise<{ keys: string[]; next?: string }> {
    const base = this.description.slice(`s3://${this.bucket}`.length + 1);
    const prefix = base === "" ? "" : base + "/";
    const q = new URLSearchParams({ "list-type": "2", prefix });
    if (token !== undefined) q.set("continuation-token", token);
    if (maxKeys !== undefined) q.set("max-keys", String(maxKeys));
    const res = await this.#send("GET", `${this.#origin}?${q}`, {}, signal);
    return parseListPage(await res.text(), prefix);
  }

  status(): Record<string, unknown> {
    return { kind: "s3", target: this.description, url: this.#origin };
  }

  /** One request with retries; resolves with a 2xx (or an `allowed`) response. */
  async #send(
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
      const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
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
        const retryable = res.status >= 500 || res.status === 429 || res.status === 408 ||
          code === "RequestTimeout";
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
        if (e instanceof SinkError) throw e;
        if (signal?.aborted) throw new SinkError(`${what}: aborted`, false, { cause: e });
        last = timeout.aborted
          ? `no answer within ${this.#timeoutMs}ms`
          : `failed: ${describeFetchError(e)}`;
      }
      if (attempt + 1 < this.#retry.attempts) {
        const ms = Math.min(this.#retry.maxMs, wait ?? fullJitter(attempt, this.#retry));
        if (!await sleep(ms, signal)) throw new SinkError(`${what}: aborted (${last})`, false);
      }
    }
    throw new SinkError(`${what} ${last} (after ${this.#retry.attempts} tries)`, false);
  }
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

function xmlText(s: string): string {
  return s.replace(/&(lt|gt|quot|apos|amp|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) => {
    const named: Record<string, string> = { lt: "<", gt: ">", quot: '"', apos: "'", amp: "&" };
    if (e in named) return named[e];
    const code = e.startsWith("#x") ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : "\uFFFD";
  });
}

/**
 * Keys (relative to `prefix`) and the continuation token of a ListObjectsV2 answer.
 *
 * @example parseListPage("<Key>b/x</Key>", "b/") // { keys: ["x"], next: undefined }
 */
export function parseListPage(xml: string, prefix: string): { keys: string[]; next?: string } {
  const keys: string[] = [];
  for (const m of xml.matchAll(/<Key>([^<]*)<\/Key>/g)) {
    const key = xmlText(m[1]);
    if (key.startsWith(prefix) && key.length > prefix.length) keys.push(key.slice(prefix.length));
  }
  const truncated = /<IsTruncated>\s*true\s*<\/IsTruncated>/.test(xml);
  const token = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(xml)?.[1];
  return { keys, next: truncated && token ? xmlText(token) : undefined };
}
