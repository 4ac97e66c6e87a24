/**
 * A real S3 store for tests: versitygw (pinned) with its posix backend on a temp directory,
 * listening on a free loopback port. Installed once with `go install` into the test cache
 * (cache.ts), keyed by version.
 */

import { join } from "node:path";
import { AwsClient } from "aws4fetch";
import { S3Sink, type S3SinkOptions } from "../../src/sink/s3.ts";
import { announceBuild, cacheDir } from "./cache.ts";
import { hasGo } from "./gobuild.ts";

/** The pinned gateway: module path and version. */
export const VERSITYGW = "github.com/versity/versitygw/cmd/versitygw@v1.8.0";
const GOBIN = join(cacheDir(), "bin", `versitygw-${VERSITYGW.split("@")[1]}`);
const BIN = join(GOBIN, "versitygw");

export interface S3Server {
  /** `http://127.0.0.1:PORT` (use with path-style addressing). */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  region: string;
  /** The posix backend's root (the bucket is a directory in it). */
  dir: string;
  /** Stops the gateway (the data stays). */
  stop(): Promise<void>;
  /** Starts it again on the same directory and port; resolves when it answers. */
  start(): Promise<void>;
  /** Keys in the bucket under `prefix`, sorted. */
  objects(prefix?: string): Promise<string[]>;
  /** An object's bytes, or null. */
  get(key: string): Promise<Uint8Array | null>;
  /** Stops the gateway and removes a directory it made. */
  close(): Promise<void>;
}

/** True when versitygw is installed or can be (Go is present). */
export async function canRunS3(): Promise<boolean> {
  try {
    if ((await Deno.stat(BIN)).isFile) return true;
  } catch { /* not installed yet */ }
  return await hasGo();
}

let installing: Promise<string> | undefined;

/** Installs the pinned versitygw into the test cache once; returns its path. */
export function versitygwBinary(): Promise<string> {
  installing ??= (async () => {
    try {
      if ((await Deno.stat(BIN)).isFile) return BIN;
    } catch { /* install below */ }
    announceBuild(`${VERSITYGW} (the S3 server of the tests)`, "about 3 min");
    const out = await new Deno.Command("go", {
      args: ["install", VERSITYGW],
      env: { GOBIN },
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(
        `go install ${VERSITYGW} failed: ${new TextDecoder().decode(out.stderr).slice(-2000)}`,
      );
    }
    return BIN;
  })();
  return installing;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function xmlText(s: string): string {
  return s.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&quot;", '"')
    .replaceAll("&apos;", "'").replaceAll("&amp;", "&");
}

/**
 * Starts versitygw on a free loopback port with one bucket.
 *
 * @example
 * const s3 = await startS3();
 * try { ... s3.objects("node1/") ... } finally { await s3.close(); }
 */
export async function startS3(opts: { dir?: string; bucket?: string } = {}): Promise<S3Server> {
  const bin = await versitygwBinary();
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? await Deno.makeTempDir({ prefix: "versitygw-" });
  const port = freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const accessKey = "testaccess" + crypto.randomUUID().slice(0, 8);
  const secretKey = "testsecret-" + crypto.randomUUID();
  const bucket = opts.bucket ?? "coverage";
  const region = "us-east-1";
  const client = new AwsClient({
    accessKeyId: accessKey,
    secretAccessKey: secretKey,
    service: "s3",
    region,
    retries: 0,
  });
  const signed = async (method: string, path: string) => {
    const res = await fetch(await client.sign(endpoint + path, { method }));
    return { status: res.status, body: method === "HEAD" ? "" : await res.text() };
  };

  let child: Deno.ChildProcess | undefined;
  let output = "";
  const launch = async () => {
    child = new Deno.Command(bin, {
      args: [
        "--access",
        accessKey,
        "--secret",
        secretKey,
        "--region",
        region,
        "--port",
        `127.0.0.1:${port}`,
        "--quiet",
        "posix",
        dir,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const proc = child;
    const drain = async (s: ReadableStream<Uint8Array>) => {
      for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
        output = (output + chunk).slice(-4000);
      }
    };
    drain(proc.stdout);
    drain(proc.stderr);
    let exited = false;
    proc.status.then(() => exited = true);
    // Ready when a signed ListBuckets is answered 200: proves the listener and the signature check.
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (exited) throw new Error(`versitygw exited during start-up: ${output}`);
      try {
        const r = await signed("GET", "/");
        if (r.status === 200) return;
        throw new Error(`versitygw answered ListBuckets with ${r.status}: ${r.body}`);
      } catch (e) {
        if (!(e instanceof TypeError)) throw e; // connection refused: not listening yet
      }
      if (Date.now() > deadline) throw new Error(`versitygw did not answer in 20s: ${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c) return;
    try {
      c.kill("SIGTERM");
    } catch { /* already gone */ }
    await c.status;
  };

  try {
    await launch();
    const made = await signed("PUT", `/${bucket}`);
    if (made.status !== 200 && !/BucketAlreadyOwnedByYou/.test(made.body)) {
      throw new Error(`versitygw: create bucket ${bucket} answered ${made.status}: ${made.body}`);
    }
  } catch (e) {
    await stop();
    if (ownDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }

  return {
    endpoint,
    accessKey,
    secretKey,
    bucket,
    region,
    dir,
    stop,
    start: () => child ? Promise.resolve() : launch(),
    async objects(prefix = "") {
      const keys: string[] = [];
      let token = "";
      for (;;) {
        const q = new URLSearchParams({ "list-type": "2", prefix });
        if (token) q.set("continuation-token", token);
        const r = await signed("GET", `/${bucket}?${q}`);
        if (r.status !== 200) throw new Error(`ListObjectsV2 answered ${r.status}: ${r.body}`);
        for (const m of r.body.matchAll(/<Key>([^<]*)<\/Key>/g)) keys.push(xmlText(m[1]));
        const next = /<NextContinuationToken>([^<]*)<\/NextContinuationToken>/.exec(r.body);
        if (!/<IsTruncated>true<\/IsTruncated>/.test(r.body) || !next) break;
        token = xmlText(next[1]);
      }
      return keys.sort();
    },
    async get(key) {
      const path = `/${bucket}/` + key.split("/").map(encodeURIComponent).join("/");
      const res = await fetch(await client.sign(endpoint + path, { method: "GET" }));
      if (res.status === 404) {
        await res.body?.cancel();
        return null;
      }
      if (!res.ok) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
      return new Uint8Array(await res.arrayBuffer());
    },
    async close() {
      await stop();
      if (ownDir) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * Writes a registry auth file holding S3 credentials under `entry`, as clusters do.
 *
 * @example await writeRegistryAuth("/tmp/auth.json", { accessKey, secretKey, bucket, region })
 */
export async function writeRegistryAuth(
  file: string,
  s3: { accessKey: string; secretKey: string; bucket: string; region: string; s3BasePath?: string },
  entry = "cluster-code-coverage.openshift.io",
): Promise<void> {
  const { accessKey, secretKey, bucket, region, s3BasePath = "" } = s3;
  const json = JSON.stringify({
    service: "s3",
    s3: { accessKey, secretKey, bucket, region, s3BasePath },
  });
  const auth = btoa("coverage:" + btoa(json));
  await Deno.mkdir(join(file, ".."), { recursive: true });
  await Deno.writeTextFile(
    file,
    JSON.stringify({ auths: { "quay.io": { auth: btoa("u:p") }, [entry]: { auth } } }),
  );
}

/**
 * Writes a credentials file for `s3` (objects under `basePath`) at `dir/auth.json` and returns
 * the collector flags of an S3 sink that uses it (path-style requests to the local endpoint).
 * @example spawnCollector(["run", ...await s3SinkFlags(s3, dir, "ci/e2e")]);
 */
export async function s3SinkFlags(s3: S3Server, dir: string, basePath = ""): Promise<string[]> {
  const auth = join(dir, "auth.json");
  await writeRegistryAuth(auth, { ...s3, s3BasePath: basePath });
  return [
    "--sink",
    "s3",
    "--credentials-file",
    auth,
    "--s3-endpoint",
    s3.endpoint,
    "--s3-path-style",
  ];
}

/**
 * An S3Sink of `s3` (its keys, bucket, region, endpoint; path-style), with `over` on top.
 * @example const sink = s3SinkOf(s3, { basePath: "ci/x", retry: { attempts: 1 } });
 */
export function s3SinkOf(s3: S3Server, over: Partial<S3SinkOptions> = {}): S3Sink {
  return new S3Sink({
    accessKey: s3.accessKey,
    secretKey: s3.secretKey,
    bucket: s3.bucket,
    region: s3.region,
    endpoint: s3.endpoint,
    pathStyle: true,
    ...over,
  });
}
