/** S3Sink's retry rules against a loopback stub (no real store needed). */

import assert from "node:assert/strict";
import { S3Sink } from "./s3.ts";
import { describeFetchError } from "./s3_request.ts";
import { SinkError } from "./sink.ts";

interface Seen {
  method: string;
  path: string;
  auth: string;
  sha: string;
}

/** A stub that answers the scripted statuses in turn, then 200. */
async function withStub(
  script: Array<{ status: number; body?: string; headers?: Record<string, string> }>,
  fn: (endpoint: string, seen: Seen[], firstRequest: Promise<void>) => Promise<void>,
): Promise<void> {
  const seen: Seen[] = [];
  const first = Promise.withResolvers<void>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    await req.arrayBuffer();
    seen.push({
      method: req.method,
      path: new URL(req.url).pathname,
      auth: req.headers.get("authorization") ?? "",
      sha: req.headers.get("x-amz-content-sha256") ?? "",
    });
    first.resolve();
    const next = script.shift() ?? { status: 200 };
    return new Response(next.body ?? null, { status: next.status, headers: next.headers });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, seen, first.promise);
  } finally {
    await server.shutdown();
  }
}

const sinkFor = (endpoint: string, attempts = 5) =>
  new S3Sink({
    accessKey: "AKIASTUB",
    secretKey: "stub-secret-never-shown",
    bucket: "bkt",
    region: "us-east-1",
    basePath: "/base/path/",
    endpoint,
    pathStyle: true,
    retry: { attempts, baseMs: 5, maxMs: 20 },
  });

const data = new TextEncoder().encode("counters");

Deno.test("503 twice then 200: the put succeeds on the third try", () =>
  withStub([{ status: 503 }, { status: 503 }], async (endpoint, seen) => {
    await sinkFor(endpoint).put("node/ns/pod/covmeta.ab", data);
    assert.equal(seen.length, 3);
    assert.ok(seen.every((s) => s.method === "PUT"));
    assert.equal(seen[0].path, "/bkt/base/path/node/ns/pod/covmeta.ab");
    assert.match(seen[0].auth, /^AWS4-HMAC-SHA256 Credential=AKIASTUB\/\d{8}\/us-east-1\/s3\//);
    // The payload hash is signed, not UNSIGNED-PAYLOAD.
    assert.match(seen[0].sha, /^[0-9a-f]{64}$/);
  }));

Deno.test("429 is retried, honouring a short Retry-After", () =>
  withStub([{ status: 429, headers: { "retry-after": "0" } }], async (endpoint, seen) => {
    await sinkFor(endpoint).put("k/f", data);
    assert.equal(seen.length, 2);
  }));

Deno.test("5xx on every try: a non-permanent SinkError after the bounded tries", () =>
  withStub(
    Array.from({ length: 10 }, () => ({ status: 500 })),
    async (endpoint, seen) => {
      const err = await sinkFor(endpoint, 3).put("k/f", data).then(
        () => assert.fail("succeeded"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof SinkError && !err.permanent, String(err));
      assert.match(err.message, /answered 500 \(after 3 tries\)/);
      assert.equal(seen.length, 3);
    },
  ));

Deno.test("403 is permanent at once, with the S3 error code and no secret", () =>
  withStub([{
    status: 403,
    body: "<?xml version='1.0'?><Error><Code>AccessDenied</Code><Message>Access Denied</Message>" +
      "</Error>",
  }], async (endpoint, seen) => {
    const err = await sinkFor(endpoint).put("k/f", data).then(
      () => assert.fail("succeeded"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof SinkError && err.permanent, String(err));
    assert.match(err.message, /answered 403 AccessDenied/);
    assert.ok(!err.message.includes("stub-secret"));
    assert.equal(seen.length, 1);
  }));

Deno.test("a network error is retried and then reported", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close(); // nothing listens there now: connection refused
  const err = await sinkFor(`http://127.0.0.1:${port}`, 2).put("k/f", data).then(
    () => assert.fail("succeeded"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof SinkError && !err.permanent, String(err));
  assert.match(err.message, /failed: .*\(after 2 tries\)/);
});

Deno.test("an abort stops the retries", () =>
  withStub(
    Array.from({ length: 50 }, () => ({ status: 503 })),
    async (endpoint, seen, firstRequest) => {
      const sink = new S3Sink({
        accessKey: "a",
        secretKey: "b",
        bucket: "bkt",
        region: "us-east-1",
        endpoint,
        pathStyle: true,
        retry: { attempts: 50, baseMs: 60_000, maxMs: 60_000 },
      });
      const ac = new AbortController();
      const p = sink.put("k/f", data, ac.signal);
      await firstRequest;
      ac.abort();
      const err = await p.then(() => assert.fail("succeeded"), (e: unknown) => e);
      assert.ok(err instanceof SinkError && !err.permanent, String(err));
      assert.match(err.message, /aborted/);
      assert.equal(seen.length, 1);
    },
  ));

Deno.test("URLs: AWS virtual-hosted by default, endpoint host-style, path-style", () => {
  const base = { accessKey: "a", secretKey: "b", bucket: "bkt", region: "eu-west-1" };
  assert.equal(
    new S3Sink({ ...base, basePath: "ci/x" }).url("n/img:1@sha/f"),
    "https://bkt.s3.eu-west-1.amazonaws.com/ci/x/n/img%3A1%40sha/f",
  );
  assert.equal(
    new S3Sink({ ...base, endpoint: "https://minio.local:9000" }).url("n/f"),
    "https://bkt.minio.local:9000/n/f",
  );
  assert.equal(
    new S3Sink({ ...base, endpoint: "http://127.0.0.1:9000/", pathStyle: true }).url("n/f"),
    "http://127.0.0.1:9000/bkt/n/f",
  );
  assert.equal(new S3Sink({ ...base, basePath: "ci/x" }).description, "s3://bkt/ci/x");
});

Deno.test("a network failure names its cause (refused), not just 'fetch failed'", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const err = await fetch(`http://127.0.0.1:${port}/`).then(() => null, (e) => e);
  assert.match(describeFetchError(err), /fetch failed: .*Connection refused/);
});
