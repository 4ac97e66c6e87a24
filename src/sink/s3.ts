/**
 * The S3 sink: objects of a bucket (under a base path) on AWS or an S3-compatible store, put,
 * read, listed and deleted through signed, retried requests (s3_request.ts). A configuration
 * fault (credentials, bucket, region) stops every write, while a refusal of one object for
 * itself (a key the store cannot hold) is a KeyRejectedError that leaves the others alone.
 */

import { type Sink, SinkError } from "./sink.ts";
import { encodeKey } from "./key.ts";
import { type ListPage, parseListPage } from "./s3_list.ts";
import { type S3RequestOptions, S3Requests } from "./s3_request.ts";

export interface S3SinkOptions extends S3RequestOptions {
  bucket: string;
  /** Prefix of every key, e.g. `openshift-ci/coverage/cluster-x` (slashes at the ends ignored). */
  basePath?: string;
  /** `https://minio.example:9000`: an S3-compatible store instead of AWS. */
  endpoint?: string;
  /** `{endpoint}/{bucket}/{key}` instead of `{bucket}.{endpoint host}/{key}`. */
  pathStyle?: boolean;
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
  #requests: S3Requests;
  #origin: string;
  #prefix: string;

  constructor(opts: S3SinkOptions) {
    this.bucket = opts.bucket;
    this.#requests = new S3Requests(opts);
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
  }

  /** The URL of a key (base path included); no secret in it. */
  url(key: string): string {
    return this.#origin + this.#prefix + encodeKey(key);
  }

  async put(key: string, data: Uint8Array, signal?: AbortSignal): Promise<void> {
    const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", data as BufferSource));
    const hex = Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
    await this.#requests.send(
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
    await this.#requests.send("DELETE", this.url(key), {}, signal);
  }

  /** Reads an object; null when it does not exist. Throws SinkError past `maxBytes`. */
  async get(key: string, signal?: AbortSignal, maxBytes = Infinity): Promise<Uint8Array | null> {
    const res = await this.#requests.send("GET", this.url(key), {}, signal, [404]);
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
    const res = await this.#requests.send("HEAD", this.url(key), {}, signal, [404]);
    await res.body?.cancel();
    return res.status !== 404;
  }

  /**
   * A read-only request: lists at most one key under the base path (ListObjectsV2). Resolves with
   * what answered; throws SinkError as put does.
   */
  async reach(signal?: AbortSignal): Promise<string> {
    const q = new URLSearchParams({ "list-type": "2", "max-keys": "1", prefix: this.#prefix });
    const res = await this.#requests.send("GET", `${this.#origin}?${q}`, {}, signal);
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
  ): Promise<ListPage> {
    const base = this.description.slice(`s3://${this.bucket}`.length + 1);
    const prefix = base === "" ? "" : base + "/";
    const q = new URLSearchParams({ "list-type": "2", prefix });
    if (token !== undefined) q.set("continuation-token", token);
    if (maxKeys !== undefined) q.set("max-keys", String(maxKeys));
    const res = await this.#requests.send("GET", `${this.#origin}?${q}`, {}, signal);
    return parseListPage(await res.text(), prefix);
  }

  status(): Record<string, unknown> {
    return { kind: "s3", target: this.description, url: this.#origin };
  }
}
