/** The S3 sink and its spool against a real S3 store (versitygw on loopback). */

import assert from "node:assert/strict";
import { join } from "node:path";
import { canRunS3, type S3Server, s3SinkOf, startS3, writeRegistryAuth } from "./harness/s3.ts";
import { drainSpool } from "./harness/spool_drain.ts";
import type { S3SinkOptions } from "../src/sink/s3.ts";
import { Base64Decoder } from "../src/collect/base64_stream.ts";
import { SinkError } from "../src/sink/sink.ts";
import { SpoolingSink } from "../src/sink/spool.ts";
import { createSink } from "../src/sink/select.ts";
import { createSystem } from "../src/system.ts";
import { createLogger, silentLogger } from "../src/log.ts";
import { Metrics } from "../src/metrics.ts";
import { Health } from "../src/health.ts";

const ignore = !await canRunS3(); // needs Go to install versitygw
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array | null) => b === null ? null : new TextDecoder().decode(b);
const FAST = { attempts: 3, baseMs: 5, maxMs: 20 };

function sinkOf(s3: S3Server, over: Partial<S3SinkOptions> = {}) {
  return s3SinkOf(s3, { basePath: "ci/cluster-x", retry: FAST, ...over });
}

async function withS3(fn: (s3: S3Server) => Promise<void>): Promise<void> {
  const s3 = await startS3();
  try {
    await fn(s3);
  } finally {
    await s3.close();
  }
}

/** A fetch that counts the requests it sends. */
function counting(): { fetch: typeof fetch; count: () => number } {
  let n = 0;
  return {
    fetch: (input, init) => {
      n++;
      return fetch(input, init);
    },
    count: () => n,
  };
}

Deno.test(
  { name: "S3Sink puts objects that read back under the base path", ignore },
  () =>
    withS3(async (s3) => {
      const sink = sinkOf(s3);
      const key = "node1/ns/pod/c/20260101T000000Z/quay.io-ocp-sha256-ab/kube-apiserver/covmeta.ab";
      await sink.put(key, enc("meta bytes"));
      assert.equal(dec(await s3.get(`ci/cluster-x/${key}`)), "meta bytes");
      assert.equal(dec(await sink.get(key)), "meta bytes");
      assert.equal(await sink.head(key), true);
      await sink.delete(key);
      assert.equal(await sink.head(key), false);
      assert.equal(await sink.get(key), null);
    }),
);

Deno.test(
  { name: "keys with ':' '@' and spaces are encoded and stored as given", ignore },
  () =>
    withS3(async (s3) => {
      const key = "n/ns/p/c/t/img:v1@sha256:abc/bin name/covcounters.ab.1.1";
      await sinkOf(s3, { basePath: "" }).put(key, enc("c"));
      assert.deepEqual(await s3.objects(), [key]);
      assert.equal(dec(await s3.get(key)), "c");
    }),
);

Deno.test(
  { name: "a wrong secret is refused: permanent, one request, no secret", ignore },
  () =>
    withS3(async (s3) => {
      const c = counting();
      const sink = sinkOf(s3, { secretKey: "wrong-" + s3.secretKey, fetch: c.fetch });
      const err = await sink.put("a/b", enc("x")).then(
        () => assert.fail("a put signed with a wrong secret was accepted"),
        (e: unknown) => e,
      );
      assert.ok(err instanceof SinkError && err.permanent, String(err));
      assert.match(err.message, /answered 403 SignatureDoesNotMatch/);
      assert.ok(!err.message.includes(s3.secretKey));
      assert.equal(c.count(), 1);
      assert.deepEqual(await s3.objects(), []);
    }),
);

Deno.test(
  { name: "an unknown access key and a missing bucket are permanent", ignore },
  () =>
    withS3(async (s3) => {
      await assert.rejects(
        sinkOf(s3, { accessKey: "nobody" }).put("a/b", enc("x")),
        // AWS answers 403 InvalidAccessKeyId; versitygw 404 XAdminUserNotFound. Both are final.
        (e) => e instanceof SinkError && e.permanent && /answered 40[34] \w+/.test(e.message),
      );
      await assert.rejects(
        sinkOf(s3, { bucket: "no-such-bucket" }).put("a/b", enc("x")),
        (e) => e instanceof SinkError && e.permanent && /404 NoSuchBucket/.test(e.message),
      );
    }),
);

Deno.test(
  { name: "store stopped then started: spooled, then drained, nothing lost", ignore },
  () =>
    withS3(async (s3) => {
      const state = await Deno.makeTempDir({ prefix: "spool-s3-" });
      const health = new Health();
      const metrics = new Metrics();
      try {
        const sink = await SpoolingSink.open(sinkOf(s3), {
          dir: join(state, "spool"),
          maxBytes: 1 << 20,
          log: silentLogger,
          metrics,
          health,
          backoff: { baseMs: 10, maxMs: 50 },
        });
        await sink.put("n/x/covmeta.ab", enc("meta"));
        await s3.stop();
        await sink.put("n/x/covcounters.ab.1.1", enc("c1"));
        await sink.put("n/x/covcounters.ab.1.2", enc("c2"));
        await sink.put("n/x/covcounters.ab.1.1", enc("c3"));
        assert.deepEqual(sink.spooled(), ["n/x/covcounters.ab.1.2", "n/x/covcounters.ab.1.1"]);
        assert.equal(health.get("sink")?.degraded, true);
        assert.ok(metrics.value("coverage_collector_spool_bytes") > 0);

        // A restart of the collector finds the spool; the store comes back; the drain empties it.
        const again = await SpoolingSink.open(sinkOf(s3), {
          dir: join(state, "spool"),
          maxBytes: 1 << 20,
          health,
          metrics,
          backoff: { baseMs: 10, maxMs: 50 },
        });
        assert.equal(again.spooled().length, 2);
        await s3.start();
        await drainSpool(again);
        assert.deepEqual(again.spooled(), []);
        const base = "ci/cluster-x/n/x/";
        assert.deepEqual(await s3.objects(base), [
          `${base}covcounters.ab.1.1`,
          `${base}covcounters.ab.1.2`,
          `${base}covmeta.ab`,
        ]);
        assert.equal(dec(await s3.get(`${base}covcounters.ab.1.1`)), "c3");
        assert.equal(dec(await s3.get(`${base}covcounters.ab.1.2`)), "c2");
        assert.equal(health.get("sink")?.degraded, undefined);
        assert.equal(metrics.value("coverage_collector_spool_bytes"), 0);
      } finally {
        await Deno.remove(state, { recursive: true });
      }
    }),
);

Deno.test(
  { name: "store down past the spool limit: the oldest are evicted, the rest land", ignore },
  () =>
    withS3(async (s3) => {
      const state = await Deno.makeTempDir({ prefix: "spool-s3-" });
      const metrics = new Metrics();
      try {
        const sink = await SpoolingSink.open(sinkOf(s3, { basePath: "" }), {
          dir: join(state, "spool"),
          maxBytes: 10,
          metrics,
          backoff: { baseMs: 10, maxMs: 50 },
        });
        await s3.stop();
        for (const k of ["a/1", "a/2", "a/3"]) await sink.put(k, enc("4444"));
        assert.equal(metrics.value("coverage_collector_spool_evictions_total"), 1);
        await s3.start();
        await drainSpool(sink);
        assert.deepEqual(await s3.objects(), ["a/2", "a/3"]);
      } finally {
        await Deno.remove(state, { recursive: true });
      }
    }),
);

Deno.test(
  { name: "a refused spool is not ready in health and not hammered", ignore },
  () =>
    withS3(async (s3) => {
      const state = await Deno.makeTempDir({ prefix: "spool-s3-" });
      const c = counting();
      const health = new Health();
      try {
        const sink = await SpoolingSink.open(sinkOf(s3, { secretKey: "bad", fetch: c.fetch }), {
          dir: join(state, "spool"),
          maxBytes: 1 << 20,
          health,
          permanentRetryMs: 60_000,
        });
        for (let i = 0; i < 10; i++) await sink.put(`a/${i}`, enc("x"));
        assert.equal(c.count(), 1);
        assert.equal(health.ready(), false);
        assert.match(health.reasons()[0], /^sink: .*403 SignatureDoesNotMatch/);
        assert.equal(sink.spooled().length, 10);
      } finally {
        await Deno.remove(state, { recursive: true });
      }
    }),
);

Deno.test(
  { name: "createSink with a registry auth file writes to the store", ignore },
  () =>
    withS3(async (s3) => {
      const root = await Deno.makeTempDir({ prefix: "select-s3-" });
      try {
        await writeRegistryAuth(
          join(root, "root/.docker/config.json"),
          { ...s3, s3BasePath: "base" },
          "cluster-code-coverage.io",
        );
        const sink = await createSink({
          config: {
            sink: "s3",
            outputDir: join(root, "out"),
            stateDir: join(root, "state"),
            spoolMax: 1 << 20,
            spoolPodMax: 1 << 20,
            credentialsFile: "",
            s3Endpoint: s3.endpoint,
            s3PathStyle: true,
          },
          system: createSystem(root),
          log: createLogger({ write: () => {} }),
          metrics: new Metrics(),
          health: new Health(),
        }, { retry: FAST });
        await sink.put("n/_host_/t/bin/info.json", enc("{}"));
        assert.deepEqual(await s3.objects(), ["base/n/_host_/t/bin/info.json"]);
      } finally {
        await Deno.remove(root, { recursive: true });
      }
    }),
);

Deno.test({
  name: "bytes decoded by a pull (a view of a resizable buffer) are stored whole" +
    (ignore ? " (skipped: needs Go)" : ""),
  ignore,
  async fn() {
    await withS3(async (s3) => {
      const data = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
      const d = new Base64Decoder(1 << 20);
      const text = enc(data.toBase64());
      for (let i = 0; i < text.length; i += 65536) d.push(text.subarray(i, i + 65536));
      const decoded = d.finish();
      assert.equal((decoded.buffer as ArrayBuffer).resizable, true);
      const sink = sinkOf(s3);
      await sink.put("node/x/covmeta.abc", decoded);
      assert.deepEqual(await sink.get("node/x/covmeta.abc"), data);
    });
  },
});
