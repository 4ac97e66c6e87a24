/**
 * An S3 outage that overflows the spool never orphans counters: the real coverage fixture, the
 * real store (versitygw) and `go tool covdata` as judge of what reached the store.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import type { Collector } from "../src/collect/collector.ts";
import { writtenOnce } from "../src/layout.ts";
import { Metrics } from "../src/metrics.ts";
import { SpoolingSink } from "../src/sink/spool.ts";
import { hasGo } from "./harness/gobuild.ts";
import { type Covserver, startCovserver } from "./harness/covserver.ts";
import { collectorOf, covserverTarget, storedSizes } from "./harness/covserver_collector.ts";
import { canRunS3, type S3Server, s3SinkOf, startS3 } from "./harness/s3.ts";
import { drainSpool } from "./harness/spool_drain.ts";
import { covdataPercentOf } from "./harness/stored.ts";

const ignore = !(await hasGo()) || !(await canRunS3());
const HOST = "evict-node";

async function use(srv: Covserver): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${srv.appPort}/run/alpha`);
  await res.body?.cancel();
}

/** Copies the objects under `prefix` to a directory and runs `go tool covdata percent -i` on it. */
async function covdataOfStore(s3: S3Server, prefix: string, dir: string) {
  const keys = await s3.objects(prefix + "/");
  for (const k of keys) {
    await Deno.writeFile(join(dir, k.slice(prefix.length + 1)), (await s3.get(k))!);
  }
  const names = keys.map((k) => k.slice(prefix.length + 1));
  return { ...await covdataPercentOf(dir), names };
}

async function world(
  spoolMax: (s: { meta: number; info: number; counters: number }) => number,
  fn: (w: {
    s3: S3Server;
    srv: Covserver;
    sink: SpoolingSink;
    collector: Collector;
    metrics: Metrics;
    dir: string;
  }) => Promise<void>,
): Promise<void> {
  const s3 = await startS3();
  const root = await Deno.makeTempDir({ prefix: "evict-covdata-" });
  try {
    await using srv = await startCovserver({ name: "evict-app" });
    await use(srv);
    const target = await covserverTarget(srv);
    const metrics = new Metrics();
    const sink = await SpoolingSink.open(
      s3SinkOf(s3, { retry: { attempts: 1 }, requestTimeoutMs: 5000 }),
      {
        dir: join(root, "spool"),
        maxBytes: spoolMax(await storedSizes(srv, target, HOST)),
        writtenOnce,
        metrics,
        backoff: { baseMs: 10, maxMs: 50 },
      },
    );
    const { collector } = collectorOf(target, sink, { metrics, hostname: HOST });
    const dir = join(root, "covdata");
    await Deno.mkdir(dir);
    await fn({ s3, srv, sink, collector, metrics, dir });
  } finally {
    await s3.close();
    await Deno.remove(root, { recursive: true });
  }
}

async function drain(sink: SpoolingSink): Promise<void> {
  await drainSpool(sink);
  assert.deepEqual(sink.spooled(), [], "the spool drained");
}

const signal = new AbortController().signal;

Deno.test({
  name: "an outage past the spool limit evicts counters, not meta-data: covdata reads the store",
  ignore,
  fn: () =>
    // Room for meta-data, info.json and one counter file, not two.
    world((s) => s.meta + s.info + Math.ceil(s.counters * 1.5), async (w) => {
      await w.s3.stop();
      for (let i = 0; i < 4; i++) {
        await use(w.srv);
        assert.equal((await w.collector.pullNow(`final-${i}`, signal)).result, "stored");
      }
      assert.ok(w.metrics.value("coverage_collector_spool_evictions_total") >= 1, "evicted");
      assert.ok(w.sink.spooled().some((k) => k.includes("/covmeta.")), w.sink.spooled().join());
      await w.s3.start();
      await drain(w.sink);
      const r = await covdataOfStore(w.s3, w.collector.prefix, w.dir);
      assert.equal(r.code, 0, `${r.names.join(",")}\n${r.out}`);
      assert.match(r.out, /coverage: [\d.]+% of statements/);
      assert.ok(r.names.some((n) => n.startsWith("covcounters.")), r.names.join(","));
    }),
});

Deno.test({
  name: "meta-data dropped from a full spool is pulled and stored again: covdata reads the store",
  ignore,
  fn: () =>
    // Room for the meta-data alone or the counters with info.json, never both.
    world((s) => Math.max(s.meta, s.counters + s.info) + 1, async (w) => {
      await w.s3.stop();
      await use(w.srv);
      assert.equal((await w.collector.pullNow("final-0", signal)).result, "stored");
      assert.ok(!w.sink.spooled().some((k) => k.includes("/covmeta.")), "meta-data was dropped");
      await w.s3.start();
      await drain(w.sink);
      await use(w.srv);
      assert.equal((await w.collector.pullNow("final-1", signal)).result, "stored");
      await drain(w.sink);
      const r = await covdataOfStore(w.s3, w.collector.prefix, w.dir);
      assert.equal(r.code, 0, `${r.names.join(",")}\n${r.out}`);
      assert.ok(r.names.some((n) => n.startsWith("covmeta.")), r.names.join(","));
      assert.ok(r.names.includes("info.json"), r.names.join(","));
      assert.match(r.out, /coverage: [\d.]+% of statements/);
    }),
});
